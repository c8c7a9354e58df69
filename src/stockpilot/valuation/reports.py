"""Valuation reports: inventory value at a date and cost of goods sold, by site and item.

Value now is the value balances. Value at the end of a past day is value now minus every
entry effective after it — the work grows with the entries since that day, never with the
whole history, and a backdated entry is seen at its effective date without re-posting
anything. Every report names its currency (one per company).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.tables import company, item, site
from stockpilot.persistence.valuation_tables import valuation_balance, valuation_entry
from stockpilot.shared.errors import ValidationFailed
from stockpilot.valuation.money import render


@dataclass(frozen=True)
class Filters:
    """What a report covers: some sites (None: every site), optionally one item."""

    site_ids: Sequence[int] | None
    item_id: int | None = None


def end_of(day: date) -> datetime:
    """The first instant after ``day`` (effective times are naive UTC)."""
    return datetime.combine(day + timedelta(days=1), time.min)


def currency_of(conn: Connection, site_ids: Sequence[int] | None) -> str:
    """The one currency of the sites' companies; sites of several currencies are refused."""
    query = sa.select(company.c.currency).distinct().join(site, site.c.company_id == company.c.id)
    if site_ids is not None:
        query = query.where(site.c.id.in_(list(site_ids)))
    found = sorted(str(c) for c in conn.execute(query).scalars())
    if len(found) > 1:
        raise ValidationFailed(
            f"these sites keep their values in {', '.join(found)}: name one site", field="site"
        )
    return found[0] if found else "EUR"


def _where(query: sa.Select[Any], table: sa.Table, filters: Filters) -> sa.Select[Any]:
    if filters.site_ids is not None:
        query = query.where(table.c.site_id.in_(list(filters.site_ids)))
    if filters.item_id is not None:
        query = query.where(table.c.item_id == filters.item_id)
    return query


AreaTotals = dict[tuple[int, int, int], tuple[int, int]]


def value_by_area(conn: Connection, filters: Filters, at: date | None = None) -> AreaTotals:
    """``(item_id, site_id, transit_location_id) -> (quantity, value)`` at the end of ``at``
    (None: now)."""
    vb = valuation_balance
    now_q = _where(
        sa.select(vb.c.item_id, vb.c.site_id, vb.c.transit_location_id, vb.c.quantity, vb.c.value),
        vb,
        filters,
    )
    out: AreaTotals = {
        (int(r[0]), int(r[1]), int(r[2])): (int(r[3]), int(r[4])) for r in conn.execute(now_q)
    }
    if at is None:
        return out
    ve = valuation_entry
    area = (ve.c.item_id, ve.c.site_id, ve.c.transit_location_id)
    later = _where(
        sa.select(*area, sa.func.sum(ve.c.quantity), sa.func.sum(ve.c.value))
        .where(ve.c.effective_at >= end_of(at))
        .group_by(*area),
        ve,
        filters,
    )
    for r in conn.execute(later):
        key = (int(r[0]), int(r[1]), int(r[2]))
        q, v = out.get(key, (0, 0))
        out[key] = (q - int(r[3]), v - int(r[4]))
    return out


def inventory_value(
    conn: Connection, filters: Filters, at: date | None, *, by_item: bool = False
) -> dict[str, Any]:
    """The body of ``GET /valuation``: quantity and value on site and in transit (and, with
    ``by_item``, per item)."""
    currency = currency_of(conn, filters.site_ids)
    rows = value_by_area(conn, filters, at)
    on_q = on_v = tr_q = tr_v = 0
    per_item: dict[int, list[int]] = {}
    for (item_id, _, transit), (q, v) in rows.items():
        if transit:
            tr_q, tr_v = tr_q + q, tr_v + v
            continue
        on_q, on_v = on_q + q, on_v + v
        if by_item and (q or v):
            acc = per_item.setdefault(item_id, [0, 0])
            acc[0] += q
            acc[1] += v
    body: dict[str, Any] = {
        "at": None if at is None else at.isoformat(),
        "currency": currency,
        "quantity_on_hand": on_q,
        "value": render(on_v),
        "quantity_in_transit": tr_q,
        "in_transit_value": render(tr_v),
    }
    if by_item:
        skus = _skus(conn, per_item)
        body["items"] = [
            {"sku": skus[i], "quantity_on_hand": q, "value": render(v)}
            for i, (q, v) in sorted(per_item.items(), key=lambda kv: skus[kv[0]])
        ]
    return body


def _skus(conn: Connection, ids: Any) -> dict[int, str]:
    wanted = list(ids)
    out: dict[int, str] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        out.update(
            {int(r[0]): str(r[1]) for r in conn.execute(
                sa.select(item.c.id, item.c.sku).where(item.c.id.in_(chunk))
            )}
        )  # fmt: skip
    return out


def cost_of_goods_sold(
    conn: Connection, filters: Filters, date_from: date | None, date_to: date | None
) -> dict[str, Any]:
    """The body of ``GET /valuation/cogs``: what shipments to customers took out of the sites'
    stock (customer returns give it back), within the period if one is given."""
    ve = valuation_entry
    query = _where(
        sa.select(sa.func.sum(ve.c.quantity), sa.func.sum(ve.c.value)).where(
            ve.c.transit_location_id == 0, ve.c.kind == "cogs"
        ),
        ve,
        filters,
    )
    if date_from is not None:
        query = query.where(ve.c.effective_at >= datetime.combine(date_from, time.min))
    if date_to is not None:
        query = query.where(ve.c.effective_at < end_of(date_to))
    quantity, value = conn.execute(query).one()
    return {
        "from": None if date_from is None else date_from.isoformat(),
        "to": None if date_to is None else date_to.isoformat(),
        "currency": currency_of(conn, filters.site_ids),
        "quantity": -int(quantity or 0),
        "cogs": render(-int(value or 0)),
    }


def item_id_of(conn: Connection, sku: str) -> int | None:
    found = conn.execute(sa.select(item.c.id).where(item.c.sku == sku)).scalar()
    return None if found is None else int(found)


AGE_BUCKETS = (30, 90, 180, 365)
"""Upper bounds, in days, of the aging buckets; the last bucket is everything older."""


def _bucket(days: int) -> str:
    low = 0
    for high in AGE_BUCKETS:
        if days <= high:
            return f"{low}-{high}"
        low = high + 1
    return f">{AGE_BUCKETS[-1]}"


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(str(value))


def aging(conn: Connection, filters: Filters, today: date) -> dict[str, Any]:
    """The body of ``GET /valuation/aging``: what is left of each FIFO receipt layer on site,
    by the age of its first receipt (transfers keep it), per bucket and per item."""
    from stockpilot.persistence.valuation_tables import cost_layer

    cl = cost_layer
    query = _where(
        sa.select(
            cl.c.item_id, cl.c.received_at, cl.c.quantity_remaining, cl.c.value_remaining
        ).where(cl.c.quantity_remaining > 0, cl.c.transit_location_id == 0),
        cl,
        filters,
    )
    buckets = {_bucket(d): [0, 0] for d in (0, *[b + 1 for b in AGE_BUCKETS])}
    per_item: dict[tuple[int, str], list[int]] = {}
    end = end_of(today)
    for item_id, received_at, quantity, value in conn.execute(query):
        days = max((end - _as_datetime(received_at)).days, 0)
        name = _bucket(days)
        buckets[name][0] += int(quantity)
        buckets[name][1] += int(value)
        acc = per_item.setdefault((int(item_id), name), [0, 0])
        acc[0] += int(quantity)
        acc[1] += int(value)
    skus = _skus(conn, {i for i, _ in per_item})
    return {
        "as_of": today.isoformat(),
        "currency": currency_of(conn, filters.site_ids),
        "buckets": [
            {"age_days": name, "quantity": q, "value": render(v)}
            for name, (q, v) in buckets.items()
        ],
        "items": [
            {"sku": skus[i], "age_days": name, "quantity": q, "value": render(v)}
            for (i, name), (q, v) in sorted(
                per_item.items(), key=lambda kv: (skus[kv[0][0]], kv[0][1])
            )
        ],
    }


def dead_stock(conn: Connection, filters: Filters, today: date, days: int) -> dict[str, Any]:
    """The body of ``GET /valuation/dead-stock``: items with value on site and no issue (to a
    customer, scrap, loss or another site) within the last ``days`` days, largest value
    first."""
    ve, vb = valuation_entry, valuation_balance
    since = end_of(today) - timedelta(days=days)
    issued = _where(
        sa.select(ve.c.item_id, ve.c.site_id)
        .where(ve.c.quantity < 0, ve.c.effective_at >= since, ve.c.transit_location_id == 0)
        .distinct(),
        ve,
        filters,
    )
    moving = {(int(r[0]), int(r[1])) for r in conn.execute(issued)}
    rows = [
        (int(r[0]), int(r[1]), int(r[2]), int(r[3]))
        for r in conn.execute(
            _where(
                sa.select(vb.c.item_id, vb.c.site_id, vb.c.quantity, vb.c.value).where(
                    vb.c.transit_location_id == 0, vb.c.value > 0
                ),
                vb,
                filters,
            )
        )
        if (int(r[0]), int(r[1])) not in moving
    ]
    per_item: dict[int, list[int]] = {}
    for item_id, _, quantity, value in rows:
        acc = per_item.setdefault(item_id, [0, 0])
        acc[0] += quantity
        acc[1] += value
    skus = _skus(conn, per_item)
    ordered = sorted(per_item.items(), key=lambda kv: (-kv[1][1], skus[kv[0]]))
    return {
        "as_of": today.isoformat(),
        "days": days,
        "currency": currency_of(conn, filters.site_ids),
        "value": render(sum(v for _, (_, v) in ordered)),
        "items": [
            {"sku": skus[i], "quantity_on_hand": q, "value": render(v)} for i, (q, v) in ordered
        ],
    }
