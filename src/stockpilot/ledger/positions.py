"""Read side of the ledger: positions by site, bin, lot and status; available-to-promise."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.tables import (
    balance,
    company,
    item,
    location,
    lot,
    sales_order,
    sales_order_line,
    site,
    stock_status,
)
from stockpilot.persistence.warehouse_tables import (
    PO_RECEIVING_STATES,
    purchase_order,
    purchase_order_line,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import ValidationFailed


def _visible_sites(conn: Connection, actor: Actor, site_code: str | None) -> list[int] | None:
    """Site ids the query may cover (``None`` = all sites)."""
    if site_code is not None:
        found = conn.execute(sa.select(site.c.id).where(site.c.code == site_code)).scalar()
        if found is None:
            raise ValidationFailed(f"unknown site {site_code!r}", field="site")
        if not actor.can_see_site(found):
            return []
        return [int(found)]
    return None if actor.all_sites else sorted(actor.site_ids)


def stock_position(
    conn: Connection,
    actor: Actor,
    sku: str,
    site_code: str | None = None,
    *,
    location_code: str | None = None,
    lot_code: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Totals and the breakdown by site, location, lot and status of one item."""
    item_id = conn.execute(sa.select(item.c.id).where(item.c.sku == sku)).scalar()
    if item_id is None:
        raise ValidationFailed(f"unknown sku {sku!r}", field="sku")
    sites = _visible_sites(conn, actor, site_code)
    destination = site.alias("destination")
    stmt = (
        sa.select(
            # In-transit stock is the destination's inbound, with its origin named.
            sa.case((location.c.kind == "in_transit", destination.c.code), else_=site.c.code).label(
                "site"
            ),
            site.c.code.label("origin"),
            location.c.code.label("location"),
            location.c.kind,
            location.c.is_virtual,
            location.c.to_site_id,
            lot.c.lot_code,
            lot.c.expiry_date,
            balance.c.status,
            stock_status.c.allocatable,
            company.c.code.label("owner"),
            balance.c.quantity_on_hand,
            balance.c.quantity_allocated,
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(site, site.c.id == location.c.site_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .join(company, company.c.id == balance.c.owner_id)
        .outerjoin(lot, lot.c.id == balance.c.lot_id)
        .outerjoin(destination, destination.c.id == location.c.to_site_id)
        .where(
            balance.c.item_id == item_id,
            sa.or_(location.c.is_virtual.is_(False), location.c.kind == "in_transit"),
            sa.or_(balance.c.quantity_on_hand != 0, balance.c.quantity_allocated != 0),
        )
        .order_by(site.c.code, location.c.walk_sequence, location.c.code, lot.c.expiry_date)
    )
    if sites is not None:
        # Counted once: in-transit stock at its destination (the origin has shipped it).
        stmt = stmt.where(
            sa.or_(
                sa.and_(location.c.kind != "in_transit", location.c.site_id.in_(sites)),
                sa.and_(location.c.kind == "in_transit", location.c.to_site_id.in_(sites)),
            )
        )
    if location_code:
        stmt = stmt.where(location.c.code == location_code)
    if lot_code:
        stmt = stmt.where(lot.c.lot_code == lot_code)
    if status:
        stmt = stmt.where(balance.c.status == status)
    breakdown: list[dict[str, Any]] = []
    on_hand = allocated = available = in_transit = 0
    for r in conn.execute(stmt):
        if r.kind == "in_transit":
            in_transit += r.quantity_on_hand
            breakdown.append(
                {
                    "site": r.site,
                    "location": r.location,
                    "location_type": r.kind,
                    "lot": r.lot_code,
                    "expiry_date": r.expiry_date.isoformat() if r.expiry_date else None,
                    "status": r.status,
                    "owner": r.owner,
                    "quantity_on_hand": 0,
                    "quantity_allocated": 0,
                    "quantity_available": 0,
                    "quantity_in_transit": r.quantity_on_hand,
                    "from_site": r.origin,
                }
            )
            continue
        free = r.quantity_on_hand - r.quantity_allocated if r.allocatable else 0
        on_hand += r.quantity_on_hand
        allocated += r.quantity_allocated
        available += free
        breakdown.append(
            {
                "site": r.site,
                "location": r.location,
                "location_type": r.kind,
                "lot": r.lot_code,
                "expiry_date": r.expiry_date.isoformat() if r.expiry_date else None,
                "status": r.status,
                "owner": r.owner,
                "quantity_on_hand": r.quantity_on_hand,
                "quantity_allocated": r.quantity_allocated,
                "quantity_available": free,
                "quantity_in_transit": 0,
                "from_site": None,
            }
        )
    return {
        "sku": sku,
        "site": site_code,
        "quantity_on_hand": on_hand,
        "quantity_allocated": allocated,
        "quantity_available": available,
        "quantity_in_transit": in_transit,
        "breakdown": breakdown,
    }


def available_to_promise(
    conn: Connection, actor: Actor, sku: str, site_code: str, on: date
) -> dict[str, Any]:
    """Time-phased ATP: available now, plus stock in transit to the site and the open
    quantity of purchase orders being delivered (at their expected dates; undated: now), minus
    open demand (unallocated sales-order quantity) promised on or before each date up to
    ``on``."""
    pos = stock_position(conn, actor, sku, site_code)
    site_id = conn.execute(sa.select(site.c.id).where(site.c.code == site_code)).scalar_one()
    inbound = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(balance.c.quantity_on_hand), 0))
        .join(location, location.c.id == balance.c.location_id)
        .join(item, item.c.id == balance.c.item_id)
        .where(item.c.sku == sku, location.c.to_site_id == site_id)
    ).scalar_one()
    due = sa.func.coalesce(sales_order.c.promised_date, sales_order.c.requested_date)
    demand_rows = conn.execute(
        sa.select(
            due.label("due"),
            sa.func.sum(
                sales_order_line.c.quantity
                - sales_order_line.c.quantity_allocated
                - sales_order_line.c.quantity_picked
            ).label("quantity"),
        )
        .join(sales_order, sales_order.c.id == sales_order_line.c.order_id)
        .join(item, item.c.id == sales_order_line.c.item_id)
        .where(
            item.c.sku == sku,
            sales_order.c.site_id == site_id,
            sales_order.c.status.notin_(("cancelled", "closed")),
            sa.or_(due.is_(None), due <= on),
        )
        .group_by(due)
        .order_by(due)
    ).all()
    receipt_rows = conn.execute(
        sa.select(
            purchase_order_line.c.due_date.label("due"),
            sa.func.sum(purchase_order_line.c.quantity - purchase_order_line.c.quantity_received),
        )
        .join(purchase_order, purchase_order.c.id == purchase_order_line.c.order_id)
        .join(item, item.c.id == purchase_order_line.c.item_id)
        .where(
            item.c.sku == sku,
            purchase_order.c.site_id == site_id,
            purchase_order.c.status.in_(PO_RECEIVING_STATES),
            purchase_order_line.c.closed.is_(False),
            purchase_order_line.c.quantity > purchase_order_line.c.quantity_received,
            sa.or_(purchase_order_line.c.due_date.is_(None), purchase_order_line.c.due_date <= on),
        )
        .group_by(purchase_order_line.c.due_date)
    ).all()
    receipts = {r.due: int(r[1]) for r in receipt_rows}
    demand = {row.due: int(row.quantity or 0) for row in demand_rows}
    running = pos["quantity_available"] + int(inbound) + receipts.pop(None, 0)
    buckets = []
    for due in sorted(set(demand) | set(receipts), key=lambda d: (d is not None, d)):
        running += receipts.get(due, 0) - demand.get(due, 0)
        buckets.append(
            {
                "date": due.isoformat() if due else None,
                "demand": demand.get(due, 0),
                "receipts": receipts.get(due, 0),
                "quantity_atp": running,
            }
        )
    return {
        "sku": sku,
        "site": site_code,
        "date": on.isoformat(),
        "quantity_available": pos["quantity_available"],
        "quantity_in_transit": int(inbound),
        "quantity_committed": sum(b["demand"] for b in buckets),
        "quantity_on_order": sum(b["receipts"] for b in buckets),
        "quantity_atp": running,
        "buckets": buckets,
    }
