"""Assembly and disassembly orders: a small state machine whose transitions post moves.

- **create** (``open``): the order's inputs are reserved at once — the components for an
  assembly (from the site's storable bins, FEFO then oldest stock), the kits for a
  disassembly (from the order's bin) — as allocations of the order (``document_type``
  ``kit_order``), with the same guarded increments as sales-order allocation, so two orders
  never promise the same units.
- **complete** (``open`` → ``done``): the reservations are posted into the site's ``@KITTING``
  location and the outputs come out of it into the order's bin (kits for an assembly,
  components for a disassembly), in one transaction.
- **cancel** (``open`` → ``cancelled``): the reservations are released.

Each transition is one guarded ``UPDATE … WHERE state = :from``: of two concurrent
completions exactly one posts, the other gets a 409 and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.kitting import rules
from stockpilot.kitting.kits import kit_of
from stockpilot.kitting.schemas import KitOrderCreate
from stockpilot.ledger import allocation as reservations
from stockpilot.ledger import balances
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network.service import location_by_code, site_in_scope, virtual_location
from stockpilot.outbound.allocation import CLOSED_STATES, STORABLE_KINDS
from stockpilot.persistence import journal
from stockpilot.persistence.kitting_tables import kit, kit_component, kit_order
from stockpilot.persistence.tables import (
    allocation,
    balance,
    item,
    location,
    lot,
    sales_order,
    site,
    stock_status,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import (
    Conflict,
    InsufficientStock,
    NotFound,
    Shortage,
    ValidationFailed,
)
from stockpilot.shared.fields import iso_utc

DOCUMENT_TYPE = "kit_order"


def create_order(conn: Connection, actor: Actor, cmd: KitOrderCreate) -> int:
    """Open an order and reserve its inputs; ``cmd.complete`` posts it at once."""
    st = site_in_scope(conn, actor, cmd.site)
    kit_id, kit_item_id, components = kit_of(conn, cmd.kit)
    location_id, is_virtual = location_by_code(conn, st.id, cmd.location)
    if is_virtual:
        raise ValidationFailed("kits are made in a physical bin", field="location")
    if cmd.sales_order is not None:
        row = conn.execute(
            sa.select(sales_order.c.site_id, sales_order.c.status).where(
                sales_order.c.id == cmd.sales_order
            )
        ).first()
        if row is None or row.site_id != st.id or not actor.can_see_site(row.site_id):
            raise ValidationFailed(
                f"no sales order {cmd.sales_order} at {st.code}", field="sales_order"
            )
        if row.status in CLOSED_STATES:
            raise Conflict(f"sales order {cmd.sales_order} is {row.status}", field="sales_order")
        if cmd.kind != "assemble":
            raise ValidationFailed("only an assembly is made to order", field="sales_order")
    if cmd.kind == "disassemble" and _lot_tracked(conn, [c.item_id for c in components]):
        raise ValidationFailed(
            "a kit with lot-tracked components cannot be taken apart (their lots are unknown)",
            field="kind",
        )
    order_id = int(
        conn.execute(
            kit_order.insert()
            .values(
                kit_id=kit_id,
                kind=cmd.kind,
                site_id=st.id,
                location_id=location_id,
                quantity=cmd.quantity,
                sales_order_id=cmd.sales_order,
                state="open",
                created_at=utcnow(),
                created_by=actor.user_id,
            )
            .returning(kit_order.c.id)
        ).scalar_one()
    )
    if cmd.kind == "assemble":
        wanted = rules.needs(components, cmd.quantity)
        bins = sa.and_(location.c.site_id == st.id, location.c.kind.in_(STORABLE_KINDS))
    else:
        wanted = [(kit_item_id, cmd.quantity)]
        bins = location.c.id == location_id
    _reserve(conn, order_id, wanted, bins, st.company_id)
    journal.record(
        conn,
        actor,
        action="kit_order.created",
        entity_type=DOCUMENT_TYPE,
        entity_id=order_id,
        site_id=st.id,
        detail={"kit": cmd.kit, "kind": cmd.kind, "quantity": cmd.quantity},
        topic="kit_order.created",
    )
    if cmd.complete:
        complete_order(conn, actor, order_id)
    return order_id


def _lot_tracked(conn: Connection, item_ids: list[int]) -> bool:
    return bool(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(item)
            .where(item.c.id.in_(item_ids), item.c.lot_tracked.is_(True))
        ).scalar()
    )


def _reserve(
    conn: Connection,
    order_id: int,
    wanted: list[tuple[int, int]],
    bins: Any,
    owner_id: int,
) -> None:
    """Allocate ``wanted`` ``(item_id, units)`` for the order from the balances in ``bins``.
    The candidate balances are locked first, in id order (as every reservation locks)."""
    rows = conn.execute(
        sa.select(
            balance.c.id,
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            (balance.c.quantity_on_hand - balance.c.quantity_allocated).label("free"),
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .outerjoin(lot, lot.c.id == balance.c.lot_id)
        .where(
            bins,
            balance.c.item_id.in_([i for i, _ in wanted]),
            balance.c.owner_id == owner_id,
            stock_status.c.allocatable.is_(True),
            balance.c.quantity_on_hand > balance.c.quantity_allocated,
        )
        .order_by(balance.c.id)
        .with_for_update(of=balance)
    ).all()
    expiry = _expiries(conn, {int(r.lot_id) for r in rows if r.lot_id})
    by_item: dict[int, list[Any]] = {}
    for r in rows:
        by_item.setdefault(int(r.item_id), []).append(r)
    grants: list[tuple[Any, int]] = []
    shortages: list[Shortage] = []
    for line, (item_id, units) in enumerate(wanted):
        # FEFO (no expiry last), then the oldest balance.
        candidates = sorted(
            by_item.get(item_id, []),
            key=lambda r: (expiry.get(int(r.lot_id)) is None, expiry.get(int(r.lot_id)), r.id),
        )
        sources = [rules.Source(int(r.id), int(r.lot_id), int(r.free)) for r in candidates]
        taken = rules.take(units, sources)
        if taken is None:
            shortages.append(
                Shortage(line, str(item_id), None, units, sum(s.free for s in sources))
            )
            continue
        rows_by_id = {int(r.id): r for r in candidates}
        grants.extend((rows_by_id[s.balance_id], q) for s, q in taken)
    if shortages:
        skus = dict(
            conn.execute(
                sa.select(item.c.id, item.c.sku).where(
                    item.c.id.in_([int(s.sku) for s in shortages])
                )
            ).all()
        )
        raise InsufficientStock(
            [
                Shortage(s.line, skus[int(s.sku)], None, s.quantity_requested, s.quantity_available)
                for s in shortages
            ]
        )
    if not balances.increase_allocated(conn, sorted((int(r.id), q) for r, q in grants)):
        raise Conflict("stock changed during the reservation; retry", field="quantity")
    now = utcnow()
    conn.execute(
        allocation.insert(),
        [
            {
                "balance_id": int(r.id),
                "item_id": int(r.item_id),
                "location_id": int(r.location_id),
                "lot_id": int(r.lot_id),
                "document_type": DOCUMENT_TYPE,
                "document_id": order_id,
                "quantity": q,
                "quantity_posted": 0,
                "quantity_released": 0,
                "state": "open",
                "created_at": now,
            }
            for r, q in grants
        ],
    )


def _expiries(conn: Connection, lot_ids: set[int]) -> dict[int, Any]:
    if not lot_ids:
        return {}
    return {
        int(r.id): r.expiry_date
        for r in conn.execute(sa.select(lot.c.id, lot.c.expiry_date).where(lot.c.id.in_(lot_ids)))
    }


def _transition(conn: Connection, actor: Actor, order_id: int, to_state: str) -> Any:
    """Move the order from ``open`` to ``to_state`` (guarded); returns the order row."""
    if ("open", to_state) not in rules.TRANSITIONS:
        raise ValidationFailed(f"no transition to {to_state}", field="state")
    row = _order_row(conn, actor, order_id)
    values: dict[str, Any] = {"state": to_state}
    if to_state == "done":
        values.update(done_at=utcnow(), done_by=actor.user_id)
    changed = conn.execute(
        sa.update(kit_order)
        .where(kit_order.c.id == order_id, kit_order.c.state == "open")
        .values(**values)
    ).rowcount
    if changed != 1:
        state = conn.execute(
            sa.select(kit_order.c.state).where(kit_order.c.id == order_id)
        ).scalar()
        raise Conflict(f"kit order {order_id} is {state}", field="state")
    return row


def _order_row(conn: Connection, actor: Actor, order_id: int) -> Any:
    row = conn.execute(
        sa.select(kit_order, kit.c.item_id.label("kit_item_id"))
        .join(kit, kit.c.id == kit_order.c.kit_id)
        .where(kit_order.c.id == order_id)
    ).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"kit order {order_id} not found")
    return row


def _open_allocations(conn: Connection, order_id: int) -> list[reservations.AllocationState]:
    ids = list(
        conn.execute(
            sa.select(allocation.c.id).where(
                allocation.c.document_type == DOCUMENT_TYPE,
                allocation.c.document_id == order_id,
                allocation.c.state == "open",
            )
        ).scalars()
    )
    return reservations.load_allocations(conn, ids) if ids else []


def complete_order(conn: Connection, actor: Actor, order_id: int) -> None:
    """Post the order: its reservations into ``@KITTING``, its outputs out into its bin."""
    row = _transition(conn, actor, order_id, "done")
    kitting = virtual_location(conn, row.site_id, "kitting")
    ctx = PostingContext(DOCUMENT_TYPE, order_id, actor.user_id)
    held = _open_allocations(conn, order_id)
    reservations.post_many(conn, [(a, a.quantity_open, kitting) for a in held], ctx)
    owner = conn.execute(sa.select(site.c.company_id).where(site.c.id == row.site_id)).scalar_one()
    if row.kind == "assemble":
        outputs = [(int(row.kit_item_id), int(row.quantity))]
    else:
        _, _, components = _components_of(conn, int(row.kit_id))
        outputs = rules.needs(components, int(row.quantity))
    post_moves(
        conn,
        [
            MoveLine(
                item_id=item_id,
                from_location_id=kitting,
                to_location_id=int(row.location_id),
                quantity=units,
                owner_id=int(owner),
                line_no=line,
            )
            for line, (item_id, units) in enumerate(outputs)
        ],
        ctx,
    )
    journal.record(
        conn,
        actor,
        action="kit_order.done",
        entity_type=DOCUMENT_TYPE,
        entity_id=order_id,
        site_id=int(row.site_id),
        detail={"kind": row.kind, "quantity": int(row.quantity)},
        topic="kit_order.done",
    )


def _components_of(conn: Connection, kit_id: int) -> tuple[int, int, list[rules.Component]]:
    sku = conn.execute(
        sa.select(item.c.sku).join(kit, kit.c.item_id == item.c.id).where(kit.c.id == kit_id)
    ).scalar_one()
    return kit_of(conn, sku)


def cancel_order(conn: Connection, actor: Actor, order_id: int) -> None:
    """Cancel an open order: its reservations are released."""
    row = _transition(conn, actor, order_id, "cancelled")
    for held in _open_allocations(conn, order_id):
        reservations.release(conn, held)
    journal.record(
        conn,
        actor,
        action="kit_order.cancelled",
        entity_type=DOCUMENT_TYPE,
        entity_id=order_id,
        site_id=int(row.site_id),
        topic="kit_order.cancelled",
    )


def list_orders(
    conn: Connection,
    actor: Actor,
    after_id: int | None,
    fetch: int,
    site_id: int | None = None,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """Kit orders in id order, of the caller's sites (a constant number of queries)."""
    query = _orders().order_by(kit_order.c.id).limit(fetch)
    if not actor.all_sites:
        query = query.where(kit_order.c.site_id.in_(sorted(actor.site_ids)))
    if site_id is not None:
        query = query.where(kit_order.c.site_id == site_id)
    if state is not None:
        query = query.where(kit_order.c.state == state)
    if after_id is not None:
        query = query.where(kit_order.c.id > after_id)
    return _render(conn, conn.execute(query).all())


def get_order(conn: Connection, actor: Actor, order_id: int) -> dict[str, Any]:
    row = conn.execute(_orders().where(kit_order.c.id == order_id)).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"kit order {order_id} not found")
    return _render(conn, [row])[0]


def _orders() -> sa.Select[Any]:
    return (
        sa.select(
            kit_order.c.id,
            kit_order.c.kit_id,
            kit_order.c.kind,
            kit_order.c.site_id,
            kit_order.c.quantity,
            kit_order.c.state,
            kit_order.c.sales_order_id,
            kit_order.c.created_at,
            kit_order.c.done_at,
            item.c.sku.label("kit_sku"),
            site.c.code.label("site_code"),
            location.c.code.label("location_code"),
        )
        .join(kit, kit.c.id == kit_order.c.kit_id)
        .join(item, item.c.id == kit.c.item_id)
        .join(site, site.c.id == kit_order.c.site_id)
        .join(location, location.c.id == kit_order.c.location_id)
    )


def _render(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    if not rows:
        return []
    parts: dict[int, list[tuple[int, str, int]]] = {}
    for p in conn.execute(
        sa.select(kit_component.c.kit_id, kit_component.c.item_id, item.c.sku,
                  kit_component.c.quantity)
        .join(item, item.c.id == kit_component.c.item_id)
        .where(kit_component.c.kit_id.in_({int(r.kit_id) for r in rows}))
        .order_by(kit_component.c.kit_id, kit_component.c.line_no)
    ):  # fmt: skip
        parts.setdefault(int(p.kit_id), []).append((int(p.item_id), p.sku, int(p.quantity)))
    open_units = sa.func.sum(
        allocation.c.quantity - allocation.c.quantity_posted - allocation.c.quantity_released
    )
    reserved = {
        (int(r.document_id), int(r.item_id)): int(r.units or 0)
        for r in conn.execute(
            sa.select(allocation.c.document_id, allocation.c.item_id, open_units.label("units"))
            .where(
                allocation.c.document_type == DOCUMENT_TYPE,
                allocation.c.document_id.in_([int(r.id) for r in rows]),
            )
            .group_by(allocation.c.document_id, allocation.c.item_id)
        )
    }
    return [
        {
            "id": int(r.id),
            "kit": r.kit_sku,
            "kind": r.kind,
            "site": r.site_code,
            "location": r.location_code,
            "quantity": int(r.quantity),
            "state": r.state,
            "sales_order": r.sales_order_id,
            "created_at": iso_utc(r.created_at),
            "done_at": iso_utc(r.done_at),
            "components": [
                {
                    "sku": sku,
                    "quantity": per_kit * int(r.quantity),
                    "quantity_reserved": reserved.get((int(r.id), item_id), 0),
                }
                for item_id, sku, per_kit in parts.get(int(r.kit_id), [])
            ],
        }
        for r in rows
    ]
