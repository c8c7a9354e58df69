"""Sales orders: create, allocate (what is available now, shortage per line), release, pick.

Allocation serves lines in order; across orders, fairness comes from the order in which the
requests arrive, and a batch allocation (``allocate_open_orders``) serves customers by priority
tier and then promised date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import UnitFactors, customer_by_code, items_by_sku
from stockpilot.ledger import allocation as alloc
from stockpilot.ledger.keys import PostingContext
from stockpilot.network.service import site_by_code, site_in_scope, virtual_location
from stockpilot.outbound.schemas import SalesOrderCreate
from stockpilot.persistence import journal
from stockpilot.persistence.tables import (
    allocation,
    customer,
    item,
    sales_order,
    sales_order_line,
    site,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.quantities import to_base_units
from stockpilot.shared.sql import insert_id


def create(conn: Connection, actor: Actor, cmd: SalesOrderCreate, max_lines: int) -> int:
    if len(cmd.lines) > max_lines:
        raise ValidationFailed(f"at most {max_lines} lines per order", field="lines")
    st = site_in_scope(conn, actor, cmd.site)
    customer_id, _ = customer_by_code(conn, cmd.customer)
    items = items_by_sku(conn, {ln.sku for ln in cmd.lines})
    for i, ln in enumerate(cmd.lines):
        if ln.sku not in items:
            raise ValidationFailed(f"unknown sku {ln.sku!r}", field=f"lines[{i}].sku")
    units = UnitFactors(conn, [(items[ln.sku], ln.uom) for ln in cmd.lines])
    rows: list[dict[str, Any]] = []
    for i, ln in enumerate(cmd.lines):
        itm = items[ln.sku]
        factor = units.factor(itm, ln.uom, field=f"lines[{i}].uom")
        rows.append(
            {
                "line_no": i + 1,
                "item_id": itm.id,
                "quantity": to_base_units(ln.quantity, factor, field=f"lines[{i}].quantity"),
                "uom": ln.uom or itm.base_uom,
                "quantity_entered": str(ln.quantity),
            }
        )
    if (
        cmd.number
        and conn.execute(
            sa.select(sales_order.c.id).where(sales_order.c.number == cmd.number)
        ).scalar()
    ):
        raise Conflict(f"sales order {cmd.number} already exists", field="number")
    order_id = insert_id(
        conn,
        sales_order.insert().values(
            number=cmd.number,
            site_id=st.id,
            customer_id=customer_id,
            requested_date=cmd.requested_date,
            promised_date=cmd.promised_date,
            created_at=utcnow(),
            created_by=actor.user_id,
        ),
    )
    conn.execute(sales_order_line.insert(), [{"order_id": order_id, **r} for r in rows])
    journal.record(
        conn,
        actor,
        action="sales_order.created",
        entity_type="sales_order",
        entity_id=order_id,
        site_id=st.id,
        detail={"lines": len(rows), "customer": cmd.customer},
        topic="sales_order.created",
    )
    return order_id


@dataclass(frozen=True)
class LineAllocation:
    line_no: int
    sku: str
    quantity: int
    quantity_allocated: int
    quantity_short: int
    quantity_allocated_now: int


def _load_order(conn: Connection, actor: Actor, order_id: int, *, lock: bool) -> Any:
    stmt = sa.select(sales_order).where(sales_order.c.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"sales order {order_id} not found")
    return row


def allocate_order(conn: Connection, actor: Actor, order_id: int) -> list[LineAllocation]:
    """Allocate what is available now to every open line; report the shortage per line."""
    order = _load_order(conn, actor, order_id, lock=True)
    if order.status in ("cancelled", "closed"):
        raise Conflict(f"sales order {order_id} is {order.status}", field="status")
    lines = conn.execute(
        sa.select(sales_order_line, item.c.sku, item.c.lot_tracked)
        .join(item, item.c.id == sales_order_line.c.item_id)
        .where(sales_order_line.c.order_id == order_id)
        .order_by(sales_order_line.c.line_no)
    ).all()
    requests = [
        alloc.AllocationRequest(
            item_id=ln.item_id,
            quantity=ln.quantity - ln.quantity_allocated - ln.quantity_picked,
            lot_tracked=bool(ln.lot_tracked),
            document_line_id=ln.id,
            line_no=ln.line_no,
        )
        for ln in lines
        if ln.quantity - ln.quantity_allocated - ln.quantity_picked > 0
    ]
    grants = alloc.allocate(
        conn, order.site_id, requests, document_type="sales_order", document_id=order_id
    )
    got: dict[int, int] = {}
    for g in grants:
        line_id = requests[g.request_index].document_line_id
        assert line_id is not None
        got[line_id] = got.get(line_id, 0) + g.quantity
    if got:
        conn.execute(
            sa.update(sales_order_line)
            .where(sales_order_line.c.id == sa.bindparam("line_id"))
            .values(quantity_allocated=sales_order_line.c.quantity_allocated + sa.bindparam("q")),
            [{"line_id": k, "q": v} for k, v in sorted(got.items())],
        )
    result = [
        LineAllocation(
            line_no=ln.line_no,
            sku=ln.sku,
            quantity=ln.quantity,
            quantity_allocated=ln.quantity_allocated + got.get(ln.id, 0),
            quantity_short=ln.quantity
            - ln.quantity_picked
            - ln.quantity_allocated
            - got.get(ln.id, 0),
            quantity_allocated_now=got.get(ln.id, 0),
        )
        for ln in lines
    ]
    short = sum(r.quantity_short for r in result)
    _refresh_status(conn, order_id)
    journal.record(
        conn,
        actor,
        action="sales_order.allocated",
        entity_type="sales_order",
        entity_id=order_id,
        site_id=order.site_id,
        detail={
            "allocated_now": sum(got.values()),
            "short": short,
        },
        topic="sales_order.allocated",
    )
    return result


def _open_allocation_ids(conn: Connection, order_id: int) -> list[int]:
    return list(
        conn.execute(
            sa.select(allocation.c.id).where(
                allocation.c.document_type == "sales_order",
                allocation.c.document_id == order_id,
                allocation.c.state == "open",
            )
        ).scalars()
    )


def release_order(conn: Connection, actor: Actor, order_id: int) -> int:
    """Release every open allocation of the order; returns the units released."""
    order = _load_order(conn, actor, order_id, lock=True)
    ids = _open_allocation_ids(conn, order_id)
    total = 0
    per_line: dict[int, int] = {}
    for state in alloc.load_allocations(conn, list(ids)):
        qty = alloc.release(conn, state, None)
        total += qty
        if state.document_line_id is not None:
            per_line[state.document_line_id] = per_line.get(state.document_line_id, 0) + qty
    _line_counters(conn, per_line, {})
    _refresh_status(conn, order_id)
    journal.record(
        conn,
        actor,
        action="sales_order.released",
        entity_type="sales_order",
        entity_id=order_id,
        site_id=order.site_id,
        detail={"released": total},
        topic="sales_order.released",
    )
    return total


def pick_order(
    conn: Connection, actor: Actor, order_id: int, picks: dict[int, int] | None = None
) -> dict[str, int]:
    """Post allocations as picked and shipped to the customer.

    ``picks`` maps allocation id to the quantity actually picked (a short pick posts part and
    releases the rest); without it every open allocation is picked in full.
    """
    order = _load_order(conn, actor, order_id, lock=True)
    ids = _open_allocation_ids(conn, order_id)
    if picks is not None:
        unknown = set(picks) - set(ids)
        if unknown:
            raise ValidationFailed(
                f"allocation {min(unknown)} is not open on this order", field="picks"
            )
    destination = virtual_location(conn, order.site_id, "customer")
    ctx = PostingContext("sales_order", order_id, actor.user_id, "PICK")
    posted_lines: dict[int, int] = {}
    released_lines: dict[int, int] = {}
    total_posted = total_released = 0
    for state in alloc.load_allocations(conn, list(ids)):
        qty = state.quantity_open if picks is None else picks.get(state.id, state.quantity_open)
        posted, released = alloc.post(conn, state, qty, destination, ctx)
        total_posted += posted
        total_released += released
        if state.document_line_id is not None:
            line = state.document_line_id
            posted_lines[line] = posted_lines.get(line, 0) + posted
            released_lines[line] = released_lines.get(line, 0) + released
    _line_counters(conn, released_lines, posted_lines)
    _refresh_status(conn, order_id)
    journal.record(
        conn,
        actor,
        action="sales_order.picked",
        entity_type="sales_order",
        entity_id=order_id,
        site_id=order.site_id,
        detail={"posted": total_posted, "released": total_released},
        topic="sales_order.picked",
    )
    return {"quantity_posted": total_posted, "quantity_released": total_released}


def order_status(lines: Sequence[tuple[int, int, int]]) -> str:
    """What an order's lines ``(quantity, allocated, picked)`` say it is: ``picked`` when every
    unit is picked, ``allocated`` when what is not picked is all reserved, ``partially_picked``
    when some units are picked, ``partially_allocated`` when some are reserved, else ``open``."""
    if all(picked >= quantity for quantity, _, picked in lines):
        return "picked"
    if all(allocated + picked >= quantity for quantity, allocated, picked in lines):
        return "allocated"
    if any(picked for _, _, picked in lines):
        return "partially_picked"
    if any(allocated for _, allocated, _ in lines):
        return "partially_allocated"
    return "open"


def _refresh_status(conn: Connection, order_id: int) -> None:
    """Set the order's status from its lines as they are now (after an action changed them)."""
    lines = conn.execute(
        sa.select(
            sales_order_line.c.quantity,
            sales_order_line.c.quantity_allocated,
            sales_order_line.c.quantity_picked,
        ).where(sales_order_line.c.order_id == order_id)
    ).all()
    conn.execute(
        sa.update(sales_order)
        .where(sales_order.c.id == order_id)
        .values(
            status=order_status([tuple(r) for r in lines]),
            version=sales_order.c.version + 1,
        )
    )


def _line_counters(conn: Connection, released: dict[int, int], posted: dict[int, int]) -> None:
    line_ids = sorted(set(released) | set(posted))
    if not line_ids:
        return
    conn.execute(
        sa.update(sales_order_line)
        .where(sales_order_line.c.id == sa.bindparam("line_id"))
        .values(
            quantity_allocated=sales_order_line.c.quantity_allocated
            - sa.bindparam("released")
            - sa.bindparam("posted"),
            quantity_picked=sales_order_line.c.quantity_picked + sa.bindparam("posted"),
        ),
        [
            {"line_id": i, "released": released.get(i, 0), "posted": posted.get(i, 0)}
            for i in line_ids
        ],
    )


def get_order(conn: Connection, actor: Actor, order_id: int) -> dict[str, Any]:
    order = _load_order(conn, actor, order_id, lock=False)
    return _render(conn, [order])[0]


def list_orders(
    conn: Connection, actor: Actor, *, after_id: int | None, limit: int, site_code: str | None
) -> list[dict[str, Any]]:
    stmt = sa.select(sales_order).order_by(sales_order.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(sales_order.c.id > after_id)
    if not actor.all_sites:
        stmt = stmt.where(sales_order.c.site_id.in_(sorted(actor.site_ids)))
    if site_code:
        stmt = stmt.where(sales_order.c.site_id == site_by_code(conn, site_code).id)
    return _render(conn, list(conn.execute(stmt).all()))


def _render(conn: Connection, orders: list[Any]) -> list[dict[str, Any]]:
    if not orders:
        return []
    ids = [o.id for o in orders]
    lines: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for ln in conn.execute(
        sa.select(sales_order_line, item.c.sku)
        .join(item, item.c.id == sales_order_line.c.item_id)
        .where(sales_order_line.c.order_id.in_(ids))
        .order_by(sales_order_line.c.order_id, sales_order_line.c.line_no)
    ):
        lines[ln.order_id].append(
            {
                "line_no": ln.line_no,
                "sku": ln.sku,
                "quantity": ln.quantity,
                "uom": ln.uom,
                "quantity_entered": ln.quantity_entered,
                "quantity_allocated": ln.quantity_allocated,
                "quantity_picked": ln.quantity_picked,
                "quantity_open": ln.quantity - ln.quantity_allocated - ln.quantity_picked,
            }
        )
    sites = dict(conn.execute(sa.select(site.c.id, site.c.code)).all())
    customers = dict(
        conn.execute(
            sa.select(customer.c.id, customer.c.code).where(
                customer.c.id.in_({o.customer_id for o in orders})
            )
        ).all()
    )
    return [
        {
            "id": o.id,
            "number": o.number,
            "site": sites[o.site_id],
            "customer": customers[o.customer_id],
            "status": o.status,
            "requested_date": _iso(o.requested_date),
            "promised_date": _iso(o.promised_date),
            "created_at": iso_utc(o.created_at),
            "version": o.version,
            "lines": lines[o.id],
        }
        for o in orders
    ]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
