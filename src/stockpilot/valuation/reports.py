"""Valuation reports: inventory value at a date and cost of goods sold, by site and item.

Value now is the value balances. Value at the end of a past day is value now minus every
entry effective after it — the work grows with the entries since that day, never with the
whole history, and a backdated entry is seen at its effective date without re-posting
anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.tables import company, item, site
from stockpilot.persistence.valuation_tables import valuation_balance, valuation_entry
from stockpilot.valuation.money import render


@dataclass(frozen=True)
class Filters:
    """What a report covers: one site (required), optionally one item; ``in_transit`` adds the
    site's outgoing in-transit stock."""

    site_id: int
    item_id: int | None = None


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min)


def currency_of(conn: Connection, site_id: int) -> str:
    return str(
        conn.execute(
            sa.select(company.c.currency)
            .join(site, site.c.company_id == company.c.id)
            .where(site.c.id == site_id)
        ).scalar_one()
    )


def value_by_item(
    conn: Connection, filters: Filters, at: date | None = None
) -> dict[tuple[int, int], tuple[int, int]]:
    """``(item_id, transit_location_id) -> (quantity, value)`` of the site at the end of ``at``
    (None: now)."""
    vb = valuation_balance
    now_q = sa.select(vb.c.item_id, vb.c.transit_location_id, vb.c.quantity, vb.c.value).where(
        vb.c.site_id == filters.site_id
    )
    if filters.item_id is not None:
        now_q = now_q.where(vb.c.item_id == filters.item_id)
    out: dict[tuple[int, int], tuple[int, int]] = {
        (int(r[0]), int(r[1])): (int(r[2]), int(r[3])) for r in conn.execute(now_q)
    }
    if at is None:
        return out
    ve = valuation_entry
    later = (
        sa.select(
            ve.c.item_id, ve.c.transit_location_id, sa.func.sum(ve.c.quantity),
            sa.func.sum(ve.c.value),
        )
        .where(ve.c.site_id == filters.site_id, ve.c.effective_at >= _end_of(at))
        .group_by(ve.c.item_id, ve.c.transit_location_id)
    )  # fmt: skip
    if filters.item_id is not None:
        later = later.where(ve.c.item_id == filters.item_id)
    for r in conn.execute(later):
        key = (int(r[0]), int(r[1]))
        q, v = out.get(key, (0, 0))
        out[key] = (q - int(r[2]), v - int(r[3]))
    return out


def inventory_value(
    conn: Connection, site_code: str, filters: Filters, sku: str | None, at: date | None
) -> dict[str, Any]:
    """The body of ``GET /valuation``: quantity and value on site and in transit."""
    rows = value_by_item(conn, filters, at)
    on_q = sum(q for (_, t), (q, _) in rows.items() if t == 0)
    on_v = sum(v for (_, t), (_, v) in rows.items() if t == 0)
    tr_q = sum(q for (_, t), (q, _) in rows.items() if t != 0)
    tr_v = sum(v for (_, t), (_, v) in rows.items() if t != 0)
    return {
        "site": site_code,
        "sku": sku,
        "at": None if at is None else at.isoformat(),
        "currency": currency_of(conn, filters.site_id),
        "quantity_on_hand": on_q,
        "value": render(on_v),
        "quantity_in_transit": tr_q,
        "in_transit_value": render(tr_v),
    }


def cost_of_goods_sold(
    conn: Connection,
    site_code: str,
    filters: Filters,
    sku: str | None,
    date_from: date | None,
    date_to: date | None,
) -> dict[str, Any]:
    """The body of ``GET /valuation/cogs``: what shipments to customers took out of the site's
    stock (customer returns give it back), within the period if one is given."""
    ve = valuation_entry
    query = sa.select(sa.func.sum(ve.c.quantity), sa.func.sum(ve.c.value)).where(
        ve.c.site_id == filters.site_id, ve.c.transit_location_id == 0, ve.c.kind == "cogs"
    )
    if filters.item_id is not None:
        query = query.where(ve.c.item_id == filters.item_id)
    if date_from is not None:
        query = query.where(ve.c.effective_at >= datetime.combine(date_from, time.min))
    if date_to is not None:
        query = query.where(ve.c.effective_at < _end_of(date_to))
    quantity, value = conn.execute(query).one()
    return {
        "site": site_code,
        "sku": sku,
        "from": None if date_from is None else date_from.isoformat(),
        "to": None if date_to is None else date_to.isoformat(),
        "currency": currency_of(conn, filters.site_id),
        "quantity": -int(quantity or 0),
        "cogs": render(-int(value or 0)),
    }


def item_id_of(conn: Connection, sku: str) -> int | None:
    found = conn.execute(sa.select(item.c.id).where(item.c.sku == sku)).scalar()
    return None if found is None else int(found)
