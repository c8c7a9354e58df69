"""Revaluation: set one item's stock at a site to a new unit cost — a write-down of obsolete or
damaged stock, a write-up, or, for a standard-cost item, a new standard.

The change is one value-ledger entry (kind ``revaluation``, no quantity) with its reason; FIFO
layers each take the new cost (their age is kept). A change above the approval threshold
waits, pending, until someone else with ``valuation:approve`` approves it; it is then valued
against the stock as it is at approval. Each step is one transaction with its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import require_reason_code
from stockpilot.network.service import site_in_scope
from stockpilot.persistence import journal, raw
from stockpilot.persistence.tables import item, site
from stockpilot.persistence.valuation_tables import cost_layer, revaluation
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from stockpilot.shared.sql import insert_id
from stockpilot.valuation import rules
from stockpilot.valuation.money import MAX_VALUE, cost_value, render, to_micros
from stockpilot.valuation.posting import DocumentRef, load_areas, load_layers, write_area


@dataclass(frozen=True)
class RevaluationRequest:
    site: str
    sku: str
    unit_cost: Decimal
    reason: str


def request_revaluation(
    conn: Connection, actor: Actor, cmd: RevaluationRequest, threshold: Decimal
) -> dict[str, Any]:
    """Post the revaluation now if it changes value by at most ``threshold``, else record it
    pending the approval of someone else."""
    st = site_in_scope(conn, actor, cmd.site)
    item_id = conn.execute(sa.select(item.c.id).where(item.c.sku == cmd.sku)).scalar()
    if item_id is None:
        raise ValidationFailed(f"unknown sku {cmd.sku!r}", field="sku")
    if cmd.unit_cost < 0:
        raise ValidationFailed("unit_cost must not be negative", field="unit_cost")
    require_reason_code(conn, cmd.reason, field="reason")
    change = _change(conn, int(item_id), st.id, cmd.unit_cost, post=False)
    pending = abs(change) > to_micros(threshold)  # four eyes: never approved by who asks
    now = utcnow()
    rev_id = insert_id(
        conn,
        revaluation.insert().values(
            site_id=st.id, item_id=int(item_id), unit_cost=cmd.unit_cost,
            reason_code=cmd.reason, status="pending" if pending else "posted",
            value_change=change, requested_by=actor.user_id, created_at=now,
            posted_at=None if pending else now,
        ),
    )  # fmt: skip
    if not pending:
        _change(
            conn, int(item_id), st.id, cmd.unit_cost, post=True, ref=(rev_id, actor, cmd.reason)
        )
    _record(conn, actor, rev_id, st.id, "requested" if pending else "posted", change, cmd.reason)
    return get_revaluation(conn, actor, rev_id)


def approve_revaluation(conn: Connection, actor: Actor, rev_id: int) -> dict[str, Any]:
    """Post a pending revaluation: by someone other than who asked for it."""
    row = _visible(conn, actor, rev_id)
    if row.requested_by is not None and row.requested_by == actor.user_id:
        raise Forbidden("a revaluation is approved by someone other than who asked for it")
    moved = conn.execute(
        revaluation.update()
        .where(revaluation.c.id == rev_id, revaluation.c.status == "pending")
        .values(status="posted", approved_by=actor.user_id, posted_at=utcnow())
    ).rowcount
    if moved != 1:
        raise Conflict(f"revaluation {rev_id} is not pending", field="status")
    change = _change(
        conn, row.item_id, row.site_id, Decimal(str(row.unit_cost)), post=True,
        ref=(rev_id, actor, row.reason_code),
    )  # fmt: skip
    conn.execute(revaluation.update().where(revaluation.c.id == rev_id).values(value_change=change))
    _record(conn, actor, rev_id, row.site_id, "approved", change, row.reason_code)
    return get_revaluation(conn, actor, rev_id)


def get_revaluation(conn: Connection, actor: Actor, rev_id: int) -> dict[str, Any]:
    row = _visible(conn, actor, rev_id)
    return {
        "id": row.id,
        "site": row.code,
        "sku": row.sku,
        "unit_cost": str(Decimal(str(row.unit_cost))),
        "reason": row.reason_code,
        "status": row.status,
        "value_change": render(row.value_change),
        "requested_by": row.requested_by,
        "approved_by": row.approved_by,
    }


def _visible(conn: Connection, actor: Actor, rev_id: int) -> Any:
    row = conn.execute(
        sa.select(revaluation, site.c.code, item.c.sku)
        .join(site, site.c.id == revaluation.c.site_id)
        .join(item, item.c.id == revaluation.c.item_id)
        .where(revaluation.c.id == rev_id)
    ).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"revaluation {rev_id} not found")
    return row


def _change(
    conn: Connection,
    item_id: int,
    site_id: int,
    unit_cost: Decimal,
    *,
    post: bool,
    ref: tuple[int, Actor, str] | None = None,
) -> int:
    """The value change of setting the site's stock of the item to ``unit_cost`` (micro-units);
    with ``post``, make it: layers, balance, the entry (and a standard item's new standard)."""
    key = (item_id, site_id, 0)
    costs, areas = load_areas(conn, {key})
    area = areas[key]
    if area.method == rules.FIFO:
        load_layers(conn, {key}, areas)
        layers = [ly for lots in area.layers.values() for ly in lots]
        target = sum(cost_value(unit_cost, ly.quantity) for ly in layers)
    else:
        layers = []
        target = cost_value(unit_cost, area.quantity)
    if target > MAX_VALUE:
        raise ValidationFailed(
            "the stock would be worth more than 10^12 currency units", field="unit_cost"
        )
    change = target - area.value
    if not post:
        return change
    assert ref is not None
    rev_id, actor, reason = ref
    for ly in layers:
        conn.execute(
            cost_layer.update()
            .where(cost_layer.c.id == ly.id)
            .values(value_remaining=cost_value(unit_cost, ly.quantity), unit_cost=unit_cost)
        )
    if area.method == rules.STANDARD or costs[item_id].method == rules.STANDARD:
        conn.execute(item.update().where(item.c.id == item_id).values(standard_cost=unit_cost))
    area.d_value = change
    area.value = target
    company_id = conn.execute(sa.select(site.c.company_id).where(site.c.id == site_id)).scalar_one()
    now = raw.timestamp(conn, utcnow())
    write_area(
        conn, key, area,
        (item_id, site_id, 0, int(company_id), "revaluation", "revaluation", rev_id, None, 0,
         0, change, 0, reason, now, now, actor.user_id),
        DocumentRef("revaluation", rev_id, actor.user_id, reason, now, now),
    )  # fmt: skip
    return change


def _record(
    conn: Connection, actor: Actor, rev_id: int, site_id: int, what: str, change: int, reason: str
) -> None:
    journal.record(
        conn,
        actor,
        action=f"revaluation.{what}",
        entity_type="revaluation",
        entity_id=rev_id,
        site_id=site_id,
        reason=reason,
        detail={"value_change": render(change)},
        topic=f"revaluation.{what}",
    )
