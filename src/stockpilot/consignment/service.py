"""Consignment (vendor-managed) stock: goods a supplier owns, kept at our sites.

They are received under their owner (a receipt line's ``owner``: the supplier's company code,
``POST /companies`` makes one), travel and are allocated like any stock, and carry no value for
the company. When they are used — shipped to a customer — one consumption record per stock
key names the owner, site, item, lot and quantity: what the supplier invoices. Records are
written in the same transaction as the shipment's moves (constant statements per shipment).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.network.service import site_in_scope
from stockpilot.persistence.flow_tables import consignment_consumption
from stockpilot.persistence.tables import company, item, lot, site
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import iso_utc

__all__ = ["Consumed", "consumption", "consumption_csv", "record_consumption"]

Consumed = tuple[int, int, int, int]
"""(owner company id, item id, lot id, quantity) of one shipped stock key."""


def record_consumption(
    conn: Connection,
    site_id: int,
    company_id: int,
    used: Iterable[Consumed],
    document_type: str,
    document_id: int,
) -> int:
    """Record what of ``used`` belongs to another owner than the site's company (one row per
    owner, item and lot); returns the rows written."""
    merged: dict[tuple[int, int, int], int] = defaultdict(int)
    for owner_id, item_id, lot_id, quantity in used:
        if owner_id != company_id and quantity > 0:
            merged[(owner_id, item_id, lot_id)] += quantity
    if not merged:
        return 0
    now = utcnow()
    conn.execute(
        consignment_consumption.insert(),
        [
            {
                "owner_id": owner_id,
                "site_id": site_id,
                "item_id": item_id,
                "lot_id": lot_id,
                "quantity": quantity,
                "document_type": document_type,
                "document_id": document_id,
                "consumed_at": now,
            }
            for (owner_id, item_id, lot_id), quantity in sorted(merged.items())
        ],
    )
    return len(merged)


def consumption(
    conn: Connection,
    actor: Actor,
    *,
    owner: str | None = None,
    site_code: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    """Consumption records (newest last) and their totals per owner and item, for the sites the
    actor sees; ``date_to`` is inclusive."""
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ValidationFailed("to must not be before from", field="to")
    stmt = (
        sa.select(
            consignment_consumption.c.id,
            company.c.code.label("owner"),
            site.c.code.label("site"),
            item.c.sku,
            lot.c.lot_code,
            consignment_consumption.c.quantity,
            consignment_consumption.c.document_type,
            consignment_consumption.c.document_id,
            consignment_consumption.c.consumed_at,
        )
        .join(company, company.c.id == consignment_consumption.c.owner_id)
        .join(site, site.c.id == consignment_consumption.c.site_id)
        .join(item, item.c.id == consignment_consumption.c.item_id)
        .outerjoin(lot, lot.c.id == consignment_consumption.c.lot_id)
        .order_by(consignment_consumption.c.consumed_at, consignment_consumption.c.id)
    )
    if site_code is not None:
        st = site_in_scope(conn, actor, site_code)
        stmt = stmt.where(consignment_consumption.c.site_id == st.id)
    elif not actor.all_sites:
        stmt = stmt.where(consignment_consumption.c.site_id.in_(sorted(actor.site_ids)))
    if owner is not None:
        owner_id = conn.execute(sa.select(company.c.id).where(company.c.code == owner)).scalar()
        if owner_id is None:
            raise ValidationFailed(f"unknown owner {owner!r}", field="owner")
        stmt = stmt.where(consignment_consumption.c.owner_id == owner_id)
    if date_from is not None:
        stmt = stmt.where(consignment_consumption.c.consumed_at >= _start(date_from))
    if date_to is not None:
        stmt = stmt.where(consignment_consumption.c.consumed_at < _start(date_to + timedelta(1)))
    rows = conn.execute(stmt).all()
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        totals[(r.owner, r.sku)] += int(r.quantity)
    return {
        "owner": owner,
        "site": site_code,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "records": [
            {
                "id": r.id,
                "owner": r.owner,
                "site": r.site,
                "sku": r.sku,
                "lot": r.lot_code,
                "quantity": int(r.quantity),
                "document_type": r.document_type,
                "document_id": r.document_id,
                "consumed_at": iso_utc(r.consumed_at),
            }
            for r in rows
        ],
        "totals": [
            {"owner": o, "sku": sku, "quantity": q} for (o, sku), q in sorted(totals.items())
        ],
    }


def _start(day: date) -> datetime:
    return datetime.combine(day, time())


def consumption_csv(report: dict[str, Any]) -> str:
    """The records as CSV, one row per record (what a supplier's invoice is checked against)."""
    out = io.StringIO()
    fields = ["owner", "site", "sku", "lot", "quantity", "document_type", "document_id"]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*fields, "consumed_at"])
    for r in report["records"]:
        writer.writerow([*(r[f] if r[f] is not None else "" for f in fields), r["consumed_at"]])
    return out.getvalue()
