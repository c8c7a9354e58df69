"""Purchase orders: created by the API, by CSV import and from accepted planning proposals;
confirmed, received (by inbound.receiving), closed or cancelled.

The states and their legal steps are declared once (``inbound.tolerance.TRANSITIONS``); every
step here is one guarded ``UPDATE … WHERE status = :from`` so two people changing the same
order at once cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import UnitFactors, items_by_sku, supplier_id_by_code
from stockpilot.inbound.schemas import PurchaseOrderCreate
from stockpilot.inbound.tolerance import POState, check_transition
from stockpilot.network.service import site_in_scope
from stockpilot.persistence import journal
from stockpilot.persistence.tables import item, site, supplier
from stockpilot.persistence.warehouse_tables import (
    PO_OPEN_STATES,
    PO_RECEIVING_STATES,
    purchase_order,
    purchase_order_line,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today, utcnow
from stockpilot.shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.quantities import to_base_units
from stockpilot.shared.sql import insert_id, scoped_page

OPEN_STATES = PO_OPEN_STATES
RECEIVING_STATES = PO_RECEIVING_STATES


@dataclass(frozen=True)
class DraftLine:
    item_id: int
    quantity: int
    unit_cost: Decimal | None = None
    due_date: date | None = None
    proposal_id: int | None = None


@dataclass(frozen=True)
class PurchaseOrderDraft:
    """A purchase order to create, with every reference already resolved."""

    site_id: int
    supplier_id: int
    lines: Sequence[DraftLine]
    status: str = "confirmed"
    number: str | None = None
    currency: str = "EUR"
    order_date: date | None = None


def create_purchase_order(conn: Connection, actor: Actor, draft: PurchaseOrderDraft) -> int:
    """Insert the order and its lines (two statements) and audit it; returns its id."""
    if draft.status not in ("draft", "confirmed"):
        raise ValidationFailed("a new purchase order is draft or confirmed", field="status")
    now = utcnow()
    order_id = insert_id(
        conn,
        purchase_order.insert().values(
            number=draft.number,
            supplier_id=draft.supplier_id,
            site_id=draft.site_id,
            status=draft.status,
            order_date=draft.order_date or today(),
            currency=draft.currency,
            created_at=now,
            created_by=actor.user_id,
            confirmed_at=now if draft.status == "confirmed" else None,
        ),
    )
    if draft.lines:
        conn.execute(
            purchase_order_line.insert(),
            [
                {
                    "order_id": order_id,
                    "line_no": i + 1,
                    "item_id": ln.item_id,
                    "quantity": ln.quantity,
                    "unit_cost": ln.unit_cost,
                    "due_date": ln.due_date,
                    "proposal_id": ln.proposal_id,
                }
                for i, ln in enumerate(draft.lines)
            ],
        )
    journal.record(
        conn,
        actor,
        action="purchase_order.created",
        entity_type="purchase_order",
        entity_id=order_id,
        site_id=draft.site_id,
        detail={"status": draft.status, "lines": len(draft.lines), "currency": draft.currency},
        topic="purchase_order.created",
    )
    return order_id


def draft_from_command(
    conn: Connection, actor: Actor, cmd: PurchaseOrderCreate
) -> PurchaseOrderDraft:
    """Resolve the codes of an API or CSV command (a handful of queries for any size)."""
    st = site_in_scope(conn, actor, cmd.site)
    supplier_id = supplier_id_by_code(conn, cmd.supplier)
    items = items_by_sku(conn, {ln.sku for ln in cmd.lines})
    for i, ln in enumerate(cmd.lines):
        if ln.sku not in items:
            raise ValidationFailed(f"unknown sku {ln.sku!r}", field=f"lines[{i}].sku")
    units = UnitFactors(conn, [(items[ln.sku], ln.uom) for ln in cmd.lines])
    lines = []
    for i, ln in enumerate(cmd.lines):
        itm = items[ln.sku]
        factor = units.factor(itm, ln.uom, field=f"lines[{i}].uom")
        quantity = to_base_units(ln.quantity, factor, field=f"lines[{i}].quantity")
        unit_cost = (
            None
            if ln.unit_price is None
            else ln.unit_price / Decimal(factor.numerator) * Decimal(factor.denominator)
        )
        lines.append(DraftLine(itm.id, quantity, unit_cost, ln.expected_date))
    if (
        cmd.number is not None
        and conn.execute(
            sa.select(purchase_order.c.id).where(purchase_order.c.number == cmd.number)
        ).first()
    ):
        raise Conflict(f"purchase order {cmd.number} already exists", field="number")
    return PurchaseOrderDraft(
        site_id=st.id,
        supplier_id=supplier_id,
        lines=lines,
        status=cmd.status,
        number=cmd.number,
        currency=cmd.currency,
        order_date=cmd.order_date,
    )


def load_order(conn: Connection, actor: Actor, order_id: int, *, lock: bool = False) -> Any:
    """The order if ``actor`` may see its site (else 404, as if it did not exist)."""
    stmt = sa.select(purchase_order).where(purchase_order.c.id == order_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"purchase order {order_id} not found", field="purchase_order")
    return row


def transition(conn: Connection, actor: Actor, order_id: int, to_state: POState) -> dict[str, Any]:
    """Move an order to ``to_state`` if the step is legal from where it is (guarded)."""
    row = load_order(conn, actor, order_id)
    check_transition(row.status, to_state)
    values: dict[str, Any] = {"status": to_state.value, "version": purchase_order.c.version + 1}
    if to_state is POState.CONFIRMED:
        values["confirmed_at"] = utcnow()
    if to_state in (POState.CLOSED, POState.CANCELLED):
        values["closed_at"] = utcnow()
    changed = conn.execute(
        sa.update(purchase_order)
        .where(purchase_order.c.id == order_id, purchase_order.c.status == row.status)
        .values(**values)
    ).rowcount
    if changed != 1:
        raise Conflict(f"purchase order {order_id} changed meanwhile", field="state")
    if to_state is POState.CLOSED:
        conn.execute(
            sa.update(purchase_order_line)
            .where(
                purchase_order_line.c.order_id == order_id,
                purchase_order_line.c.quantity_received < purchase_order_line.c.quantity,
            )
            .values(closed=True)
        )
    journal.record(
        conn,
        actor,
        action=f"purchase_order.{to_state.value}",
        entity_type="purchase_order",
        entity_id=order_id,
        site_id=row.site_id,
        detail={"from": row.status, "to": to_state.value},
        topic=f"purchase_order.{to_state.value}",
    )
    return get_order(conn, actor, order_id)


def approve_over_receipt(
    conn: Connection, actor: Actor, order_id: int, line_no: int, quantity: int, reason: str
) -> dict[str, Any]:
    """A supervisor allows ``quantity`` units beyond the tolerance on one line. The receipt that
    uses the allowance must be posted by someone else (no self-approval)."""
    row = load_order(conn, actor, order_id)
    if row.status not in (*RECEIVING_STATES, "received"):
        raise Conflict(f"a {row.status} purchase order is not being received", field="state")
    if actor.user_id is None:
        raise Forbidden("an approval needs a person", field="approved_by")
    changed = conn.execute(
        sa.update(purchase_order_line)
        .where(purchase_order_line.c.order_id == order_id, purchase_order_line.c.line_no == line_no)
        .values(over_receipt_allowed=quantity, over_receipt_approved_by=actor.user_id)
    ).rowcount
    if changed != 1:
        raise ValidationFailed(f"purchase order {order_id} has no line {line_no}", field="line_no")
    journal.record(
        conn,
        actor,
        action="purchase_order.over_receipt_approved",
        entity_type="purchase_order",
        entity_id=order_id,
        site_id=row.site_id,
        reason=reason,
        detail={"line_no": line_no, "quantity": quantity},
        topic="purchase_order.over_receipt_approved",
    )
    return get_order(conn, actor, order_id)


# --- reading ------------------------------------------------------------------------------------


def _select_orders() -> sa.Select[Any]:
    return (
        sa.select(
            purchase_order,
            site.c.code.label("site"),
            supplier.c.code.label("supplier"),
        )
        .join(site, site.c.id == purchase_order.c.site_id)
        .join(supplier, supplier.c.id == purchase_order.c.supplier_id)
    )


def _render(conn: Connection, orders: Sequence[Any]) -> list[dict[str, Any]]:
    ids = [o.id for o in orders]
    lines: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        rows = conn.execute(
            sa.select(purchase_order_line, item.c.sku)
            .join(item, item.c.id == purchase_order_line.c.item_id)
            .where(purchase_order_line.c.order_id.in_(ids))
            .order_by(purchase_order_line.c.order_id, purchase_order_line.c.line_no)
        )
        for ln in rows:
            lines[ln.order_id].append(
                {
                    "id": ln.id,
                    "line_no": ln.line_no,
                    "sku": ln.sku,
                    "quantity": ln.quantity,
                    "quantity_received": ln.quantity_received,
                    "quantity_open": 0 if ln.closed else max(ln.quantity - ln.quantity_received, 0),
                    "expected_date": ln.due_date.isoformat() if ln.due_date else None,
                    "unit_cost": None if ln.unit_cost is None else str(ln.unit_cost),
                    "closed": bool(ln.closed),
                    "over_receipt_allowed": ln.over_receipt_allowed,
                    "proposal_id": ln.proposal_id,
                }
            )
    return [
        {
            "id": o.id,
            "number": o.number,
            "site": o.site,
            "supplier": o.supplier,
            "status": o.status,
            "currency": o.currency,
            "order_date": o.order_date.isoformat() if o.order_date else None,
            "created_at": iso_utc(o.created_at),
            "confirmed_at": iso_utc(o.confirmed_at),
            "closed_at": iso_utc(o.closed_at),
            "version": o.version,
            "lines": lines[o.id],
        }
        for o in orders
    ]


def get_order(conn: Connection, actor: Actor, order_id: int) -> dict[str, Any]:
    load_order(conn, actor, order_id)
    row = conn.execute(_select_orders().where(purchase_order.c.id == order_id)).one()
    return _render(conn, [row])[0]


def list_orders(
    conn: Connection,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    site_id: int | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    stmt = scoped_page(
        _select_orders(),
        purchase_order,
        actor,
        after_id=after_id,
        limit=limit,
        site_id=site_id,
        status=status,
    )
    return _render(conn, conn.execute(stmt).all())
