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


def _sums(table: sa.Table, filters: Filters, *extra: Any, by_item: bool) -> sa.Select[Any]:
    """Quantity and value summed in the database, on site and in transit (and per item)."""
    on_site = table.c.transit_location_id == 0
    columns = [
        sa.func.sum(sa.case((on_site, table.c.quantity), else_=0)),
        sa.func.sum(sa.case((on_site, table.c.value), else_=0)),
        sa.func.sum(sa.case((on_site, 0), else_=table.c.quantity)),
        sa.func.sum(sa.case((on_site, 0), else_=table.c.value)),
    ]
    if by_item:
        return _where(
            sa.select(table.c.item_id, *columns).where(*extra).group_by(table.c.item_id),
            table,
            filters,
        )
    return _where(sa.select(*columns).where(*extra), table, filters)


def inventory_value(
    conn: Connection, filters: Filters, at: date | None, *, by_item: bool = False
) -> dict[str, Any]:
    """The body of ``GET /valuation``: quantity and value on site and in transit (and, with
    ``by_item``, per item), summed by the database — value now from the balances, minus the
    entries effective after ``at``."""
    currency = currency_of(conn, filters.site_ids)
    later = (valuation_entry.c.effective_at >= end_of(at),) if at is not None else None
    totals = [
        int(v or 0) for v in conn.execute(_sums(valuation_balance, filters, by_item=False)).one()
    ]
    if later is not None:
        after = conn.execute(_sums(valuation_entry, filters, *later, by_item=False)).one()
        totals = [t - int(v or 0) for t, v in zip(totals, after, strict=True)]
    on_q, on_v, tr_q, tr_v = totals
    body: dict[str, Any] = {
        "at": None if at is None else at.isoformat(),
        "currency": currency,
        "quantity_on_hand": on_q,
        "value": render(on_v),
        "quantity_in_transit": tr_q,
        "in_transit_value": render(tr_v),
    }
    if by_item:
        later_by_item: dict[int, tuple[int, int]] = {}
        if later is not None:
            later_by_item = {
                int(r[0]): (int(r[1] or 0), int(r[2] or 0))
                for r in conn.execute(_sums(valuation_entry, filters, *later, by_item=True))
            }
        vb = valuation_balance
        on_site = vb.c.transit_location_id == 0
        rows = conn.execute(
            _where(
                sa.select(item.c.sku, vb.c.item_id, sa.func.sum(vb.c.quantity),
                          sa.func.sum(vb.c.value))
                .join(item, item.c.id == vb.c.item_id)
                .where(on_site)
                .group_by(vb.c.item_id, item.c.sku)
                .order_by(item.c.sku),
                vb,
                filters,
            )
        )  # fmt: skip
        items_out: list[dict[str, Any]] = []
        append = items_out.append
        zero = (0, 0)
        for sku, item_id, quantity, value in rows:
            q_after, v_after = later_by_item.get(item_id, zero)
            q, v = int(quantity) - q_after, int(value) - v_after
            if q or v:
                append({"sku": sku, "quantity_on_hand": q, "value": render(v)})
        body["items"] = items_out
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
