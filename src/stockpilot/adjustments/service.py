"""Adjustments: every change of stock against the site's inventory-loss location, with a
reason code, recorded as an ``adjustment`` document.

``request_adjustment`` is what ``POST /api/v1/adjustments`` calls. Within the site's
adjustment thresholds (counting.policy; none by default) the adjustment posts at once, as it
always has. Beyond them it is held ``pending`` with nothing posted, until someone other than
the requester who holds ``adjustments:approve`` approves it (it posts then, in the approver's
transaction) or rejects it. The approval rule is governance.approvals'. Every step is audited
(requested, approved, rejected, posted) and each posting carries the adjustment's id.

Counts post their variances through ``post_key_adjustment``: the count's own approval rule has
already been applied, and the adjustment records who decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import UnitFactors, items_by_sku, require_reason_code
from stockpilot.counting.policy import load_policy
from stockpilot.counting.rules import needs_adjustment_approval
from stockpilot.governance.approvals import check_approver
from stockpilot.ledger import operations
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import SiteRef, site_in_scope, virtual_location
from stockpilot.persistence import journal
from stockpilot.persistence.control_tables import adjustment
from stockpilot.persistence.tables import item, site
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.quantities import to_signed_base_units
from stockpilot.shared.sql import insert_id


@dataclass(frozen=True)
class KeyDelta:
    """A signed change of one stock key (positive: found, negative: lost) at its item cost."""

    item_id: int
    location_id: int
    lot_id: int
    stock_status: str
    owner_id: int
    quantity: int
    unit_cost: Decimal | None = None


def post_key_adjustment(
    conn: Connection,
    actor: Actor,
    site_id: int,
    deltas: Sequence[KeyDelta],
    *,
    reason_code: str,
    source: str,
    source_id: int | None,
    requested_by: int | None,
    decided_by: int | None,
) -> int:
    """Post ``deltas`` as one adjustment document against the site's inventory-loss location;
    returns the adjustment's id."""
    moving = [d for d in deltas if d.quantity]
    if not moving:
        raise ValidationFailed("an adjustment changes at least one quantity", field="lines")
    loss = virtual_location(conn, site_id, "inventory_loss")
    value = _value([(abs(d.quantity), d.unit_cost) for d in moving])
    now = utcnow()
    adjustment_id = insert_id(
        conn,
        adjustment.insert().values(
            site_id=site_id,
            status="posted",
            reason_code=reason_code,
            source=source,
            source_id=source_id,
            quantity=sum(abs(d.quantity) for d in moving),
            value=value,
            lines=[{k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(d).items()}
                   for d in moving],
            requested_by=requested_by,
            requested_at=now,
            decided_by=decided_by,
            decided_at=now if decided_by is not None else None,
        ),
    )  # fmt: skip
    post_moves(
        conn,
        [
            MoveLine(
                item_id=d.item_id,
                from_location_id=loss if d.quantity > 0 else d.location_id,
                to_location_id=d.location_id if d.quantity > 0 else loss,
                quantity=abs(d.quantity),
                owner_id=d.owner_id,
                lot_id=d.lot_id,
                from_status=d.stock_status,
                to_status=d.stock_status,
                line_no=n,
                unit_cost=d.unit_cost,
            )
            for n, d in enumerate(moving)
        ],
        PostingContext(
            document_type="adjustment",
            document_id=adjustment_id,
            user_id=actor.user_id,
            reason_code=reason_code,
        ),
    )
    journal.record(
        conn,
        actor,
        action="adjustment.posted",
        entity_type="adjustment",
        entity_id=adjustment_id,
        site_id=site_id,
        reason=reason_code,
        detail={
            "source": source,
            "source_id": source_id,
            "lines": len(moving),
            "quantity": sum(d.quantity for d in moving),
            "requested_by": requested_by,
            "decided_by": decided_by,
        },
        topic="adjustment.posted",
    )
    return adjustment_id


def _value(lines: Sequence[tuple[int, Decimal | None]]) -> Decimal | None:
    """The total value of (absolute quantity, unit cost) pairs; unknown if any cost is."""
    total = Decimal(0)
    for quantity, cost in lines:
        if cost is None:
            return None
        total += quantity * cost
    return total


# --- adjustments as entered (the API) --------------------------------------------------------


def _entered(line: operations.StockLine) -> dict[str, Any]:
    body = asdict(line)
    body["quantity"] = str(line.quantity)
    for name, value in list(body.items()):
        if isinstance(value, Decimal):
            body[name] = str(value)
        elif isinstance(value, date):
            body[name] = value.isoformat()
    return body


def _stock_line(body: dict[str, Any]) -> operations.StockLine:
    values = dict(body)
    values["quantity"] = Decimal(values["quantity"])
    if values.get("expiry_date"):
        values["expiry_date"] = date.fromisoformat(values["expiry_date"])
    if values.get("unit_cost") is not None:
        values["unit_cost"] = Decimal(values["unit_cost"])
    return operations.StockLine(**values)


def _measure(conn: Connection, lines: Sequence[operations.StockLine]) -> tuple[int, Decimal | None]:
    """Total absolute base quantity and value of entered lines (unknown value: any item
    without a cost)."""
    items = items_by_sku(conn, {ln.sku for ln in lines})
    for i, ln in enumerate(lines):
        if ln.sku not in items:
            raise ValidationFailed(f"unknown sku {ln.sku!r}", field=f"lines[{i}].sku")
    units = UnitFactors(conn, [(items[ln.sku], ln.uom) for ln in lines])
    costs = dict(
        conn.execute(
            sa.select(item.c.id, item.c.unit_cost).where(
                item.c.id.in_(sorted({i.id for i in items.values()}))
            )
        ).all()
    )
    measured: list[tuple[int, Decimal | None]] = []
    for i, ln in enumerate(lines):
        itm = items[ln.sku]
        factor = units.factor(itm, ln.uom, field=f"lines[{i}].uom")
        signed = to_signed_base_units(ln.quantity, factor, field=f"lines[{i}].quantity")
        cost = costs.get(itm.id)
        measured.append((abs(signed), None if cost is None else Decimal(str(cost))))
    return sum(q for q, _ in measured), _value(measured)


def request_adjustment(
    conn: Connection,
    actor: Actor,
    site_code: str,
    lines: Sequence[operations.StockLine],
    *,
    reason_code: str,
) -> tuple[int, dict[str, Any]]:
    """Post the adjustment (201) or, beyond the site's thresholds, hold it for approval
    (202, nothing posted)."""
    require_reason_code(conn, reason_code, field="reason")
    st = site_in_scope(conn, actor, site_code)
    policy = load_policy(conn, st.id)
    quantity, value = _measure(conn, lines)
    now = utcnow()
    held = needs_adjustment_approval(quantity, value, policy)
    adjustment_id = insert_id(
        conn,
        adjustment.insert().values(
            site_id=st.id,
            status="pending" if held else "posted",
            reason_code=reason_code,
            source="api",
            quantity=quantity,
            value=value,
            lines=[_entered(ln) for ln in lines],
            requested_by=actor.user_id,
            requested_at=now,
        ),
    )
    if held:
        journal.record(
            conn,
            actor,
            action="adjustment.requested",
            entity_type="adjustment",
            entity_id=adjustment_id,
            site_id=st.id,
            reason=reason_code,
            detail={"lines": len(lines), "quantity": quantity, "value": value},
            topic="adjustment.requested",
        )
        return 202, get_adjustment(conn, actor, adjustment_id)
    document = _post_entered(conn, actor, st, adjustment_id, lines, reason_code)
    return 201, {**document, "adjustment": adjustment_id, "status": "posted"}


def _post_entered(
    conn: Connection,
    actor: Actor,
    st: SiteRef,
    adjustment_id: int,
    lines: Sequence[operations.StockLine],
    reason_code: str,
) -> dict[str, Any]:
    # The ledger operation writes the posting's audit row and event (stock.adjustment).
    document = operations.adjust(
        conn, actor, st.code, lines, reason_code=reason_code, document_id=adjustment_id
    )
    return {
        "document_type": document.document_type,
        "site": document.site,
        "moves": document.lines,
        "quantity": document.quantity,
    }


def _decide(
    conn: Connection, actor: Actor, adjustment_id: int, to_status: str, note: str | None
) -> Any:
    row = _visible(conn, actor, adjustment_id)
    check_approver(
        actor,
        permission="adjustments:approve",
        requested_by=row.requested_by,
        what=f"adjustment {adjustment_id}",
    )
    changed = conn.execute(
        sa.update(adjustment)
        .where(adjustment.c.id == adjustment_id, adjustment.c.status == "pending")
        .values(
            status=to_status,
            decided_by=actor.user_id,
            decided_at=utcnow(),
            note=note,
            version=adjustment.c.version + 1,
        )
    ).rowcount
    if changed != 1:
        raise Conflict(f"adjustment {adjustment_id} is {row.status}", field="adjustment_id")
    return row


def approve_adjustment(
    conn: Connection, actor: Actor, adjustment_id: int, note: str | None = None
) -> dict[str, Any]:
    """Approve a pending adjustment and post it (the approver's moves)."""
    row = _decide(conn, actor, adjustment_id, "posted", note)
    st = site_in_scope(conn, actor, _site_code(conn, row.site_id))
    journal.record(
        conn, actor, action="adjustment.approved", entity_type="adjustment",
        entity_id=adjustment_id, site_id=row.site_id, reason=row.reason_code,
        detail={"requested_by": row.requested_by, "note": note}, topic="adjustment.approved",
    )  # fmt: skip
    lines = [_stock_line(body) for body in row.lines]
    _post_entered(conn, actor, st, adjustment_id, lines, row.reason_code)
    return get_adjustment(conn, actor, adjustment_id)


def reject_adjustment(
    conn: Connection, actor: Actor, adjustment_id: int, note: str | None = None
) -> dict[str, Any]:
    """Reject a pending adjustment: nothing posts."""
    row = _decide(conn, actor, adjustment_id, "rejected", note)
    journal.record(
        conn, actor, action="adjustment.rejected", entity_type="adjustment",
        entity_id=adjustment_id, site_id=row.site_id, reason=row.reason_code,
        detail={"requested_by": row.requested_by, "note": note}, topic="adjustment.rejected",
    )  # fmt: skip
    return get_adjustment(conn, actor, adjustment_id)


def _site_code(conn: Connection, site_id: int) -> str:
    return str(conn.execute(sa.select(site.c.code).where(site.c.id == site_id)).scalar_one())


def _visible(conn: Connection, actor: Actor, adjustment_id: int) -> Any:
    row = conn.execute(sa.select(adjustment).where(adjustment.c.id == adjustment_id)).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"adjustment {adjustment_id} not found", field="adjustment_id")
    return row


def get_adjustment(conn: Connection, actor: Actor, adjustment_id: int) -> dict[str, Any]:
    row = _visible(conn, actor, adjustment_id)
    return _render(row, _site_code(conn, row.site_id))


def _render(row: Any, site_code: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "site": site_code,
        "status": row.status,
        "reason": row.reason_code,
        "source": row.source,
        "source_id": row.source_id,
        "quantity": row.quantity,
        "value": None if row.value is None else str(Decimal(str(row.value))),
        "lines": len(row.lines),
        "requested_by": row.requested_by,
        "requested_at": iso_utc(row.requested_at),
        "decided_by": row.decided_by,
        "decided_at": iso_utc(row.decided_at),
        "note": row.note,
    }


def list_adjustments(
    conn: Connection,
    actor: Actor,
    *,
    site_id: int | None,
    status: str | None,
    after_id: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    from stockpilot.shared.sql import scoped_page

    stmt = scoped_page(
        sa.select(adjustment, site.c.code.label("site_code")).join(
            site, site.c.id == adjustment.c.site_id
        ),
        adjustment,
        actor,
        after_id=after_id,
        limit=limit,
        site_id=site_id,
        status=status,
    )
    return [_render(r, r.site_code) for r in conn.execute(stmt)]
