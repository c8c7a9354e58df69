"""Sales orders: create (with route, channel and priority; each line feeds demand history),
allocate (outbound/allocation.py: rank, FEFO, ship complete, substitutes, why short), re-allocate
backorders when stock arrives, release, and the one-step counter pick.

Picking in the warehouse goes through waves and pick tasks (outbound/waves.py, picking.py) and
leaves through shipping (outbound/shipping.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import UnitFactors, customer_by_code, items_by_sku
from stockpilot.ledger import allocation as alloc
from stockpilot.ledger.keys import PostingContext
from stockpilot.network.service import site_by_code, site_in_scope, virtual_location
from stockpilot.outbound import allocation as allocation_service
from stockpilot.outbound import bulk, routes, shipping
from stockpilot.outbound.allocation import CLOSED_STATES, AllocationRun
from stockpilot.outbound.replenishment import replenish_faces
from stockpilot.outbound.schemas import SalesOrderCreate
from stockpilot.persistence import journal, raw
from stockpilot.persistence.tables import (
    allocation,
    customer,
    demand_history,
    item,
    sales_order,
    sales_order_line,
    site,
)
from stockpilot.persistence.warehouse_tables import route, task
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.quantities import to_base_units
from stockpilot.shared.sql import insert_id
from stockpilot.tasks.service import cancel_tasks


def create(conn: Connection, actor: Actor, cmd: SalesOrderCreate, max_lines: int) -> int:
    """Create an order; each line also becomes a demand row at its requested date (source
    ``order``), so planning learns from live demand whether it ships or not."""
    if len(cmd.lines) > max_lines:
        raise ValidationFailed(f"at most {max_lines} lines per order", field="lines")
    st = site_in_scope(conn, actor, cmd.site)
    customer_id, _ = customer_by_code(conn, cmd.customer)
    route_id = routes.route_id(conn, st.id, cmd.route) if cmd.route else None
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
    now = utcnow()
    order_id = insert_id(
        conn,
        sales_order.insert().values(
            number=cmd.number,
            site_id=st.id,
            customer_id=customer_id,
            requested_date=cmd.requested_date,
            promised_date=cmd.promised_date,
            route_id=route_id,
            channel=cmd.channel,
            priority=cmd.priority,
            created_at=now,
            created_by=actor.user_id,
        ),
    )
    line_ids = conn.execute(
        sales_order_line.insert().returning(sales_order_line.c.id, sort_by_parameter_order=True),
        [{"order_id": order_id, **r} for r in rows],
    ).scalars()
    demand_day = cmd.requested_date or now.date()
    conn.execute(
        demand_history.insert(),
        [
            {
                "item_id": r["item_id"],
                "site_id": st.id,
                "customer_id": customer_id,
                "requested_date": demand_day,
                "quantity": r["quantity"],
                "source": "order",
                "order_line_id": int(line_id),
                "channel": cmd.channel,
            }
            for line_id, r in zip(line_ids, rows, strict=True)
        ],
    )
    journal.record(
        conn,
        actor,
        action="sales_order.created",
        entity_type="sales_order",
        entity_id=order_id,
        site_id=st.id,
        detail={"lines": len(rows), "customer": cmd.customer, "channel": cmd.channel},
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
    short_cause: str | None = None
    substitutes_offered: list[dict[str, Any]] = field(default_factory=list)


def _load_order(conn: Connection, actor: Actor, order_id: int, *, lock: bool) -> Any:
    stmt = sa.select(sales_order).where(sales_order.c.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"sales order {order_id} not found")
    return row


def allocate_order(conn: Connection, actor: Actor, order_id: int) -> list[LineAllocation]:
    """Allocate what is available now to every open line (outbound/allocation.py decides);
    report per line what it got, what is short and why."""
    order = _load_order(conn, actor, order_id, lock=True)
    if order.status in CLOSED_STATES:
        raise Conflict(f"sales order {order_id} is {order.status}", field="status")
    run = allocation_service.allocate_orders(conn, order.site_id, [order_id], locked=True)
    _refill_faces(conn, actor, order.site_id, run)
    skus = allocation_service.item_skus(
        conn,
        [ln.item_id for ln in run.lines]
        + [i for ln in run.lines for i, _ in ln.substitutes_offered],
    )
    result = [
        LineAllocation(
            line_no=ln.line_no,
            sku=skus[ln.item_id],
            quantity=ln.quantity,
            quantity_allocated=ln.quantity_allocated,
            quantity_short=ln.quantity_short,
            quantity_allocated_now=ln.quantity_allocated_now,
            short_cause=ln.short_cause if ln.quantity_short else None,
            substitutes_offered=[
                {"sku": skus[i], "quantity_available": q} for i, q in ln.substitutes_offered
            ],
        )
        for ln in sorted(run.lines, key=lambda x: x.line_no)
    ]
    journal.record(
        conn,
        actor,
        action="sales_order.allocated",
        entity_type="sales_order",
        entity_id=order_id,
        site_id=order.site_id,
        detail={
            "allocated_now": run.quantity_allocated,
            "short": sum(r.quantity_short for r in result),
        },
        topic="sales_order.allocated",
    )
    return result


def reallocate_backorders(
    conn: Connection, actor: Actor, site_id: int, item_ids: Sequence[int]
) -> AllocationRun:
    """Stock of ``item_ids`` has arrived at the site (a putaway, a count, a return): allocate
    the backorders waiting for it — every sales order and every transfer order shipping from
    the site with a short line of these items — in one rank order, exactly as a fresh
    allocation would. Called by the receiving and putaway code in
    the transaction that made the stock available."""
    order_ids = allocation_service.backordered_order_ids(conn, site_id, item_ids)
    transfer_ids = allocation_service.backordered_transfer_ids(conn, site_id, item_ids)
    if not order_ids and not transfer_ids:
        return AllocationRun()
    run = allocation_service.allocate_orders(conn, site_id, order_ids, transfer_ids=transfer_ids)
    _refill_faces(conn, actor, site_id, run)
    if run.grants:
        journal.record(
            conn,
            actor,
            action="sales_order.backorders_reallocated",
            entity_type="site",
            entity_id=site_id,
            site_id=site_id,
            detail={
                "orders": sorted(
                    {g.order_id for g in run.grants if g.document_type == "sales_order"}
                ),
                "transfer_orders": sorted(
                    {g.order_id for g in run.grants if g.document_type == "transfer_order"}
                ),
                "allocated": run.quantity_allocated,
            },
            topic="sales_order.allocated",
        )
    return run


def _refill_faces(conn: Connection, actor: Actor, site_id: int, run: AllocationRun) -> None:
    """Allocated demand that takes a pick face below its min asks for its replenishment now,
    before the face runs out (lifted above the picks once a wave releases them)."""
    items = sorted({g.item_id for g in run.grants})
    if items:
        replenish_faces(conn, actor, site_id, item_ids=items)


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


def _open_pick_tasks(conn: Connection, allocation_ids: Sequence[int]) -> list[int]:
    if not allocation_ids:
        return []
    return list(
        conn.execute(
            sa.select(task.c.id)
            .where(
                task.c.type == "pick",
                task.c.allocation_id.in_(sorted(allocation_ids)),
                task.c.status.in_(("open", "assigned")),
            )
            .order_by(task.c.id)
        ).scalars()
    )


def release_order(conn: Connection, actor: Actor, order_id: int) -> int:
    """Release every open allocation of the order (its open pick tasks are cancelled with
    them); returns the units released."""
    order = _load_order(conn, actor, order_id, lock=True)
    ids = _open_allocation_ids(conn, order_id)
    cancel_tasks(conn, _open_pick_tasks(conn, ids))
    total = 0
    per_line: dict[int, int] = {}
    for state in alloc.load_allocations(conn, list(ids)):
        qty = alloc.release(conn, state, None)
        total += qty
        if state.document_line_id is not None:
            per_line[state.document_line_id] = per_line.get(state.document_line_id, 0) + qty
    line_counters(conn, per_line, {})
    allocation_service.refresh_statuses(conn, [order_id])
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
    """Pick and hand over in one step (a counter sale): post allocations straight to the
    customer, recorded as a shipment.

    ``picks`` maps allocation id to the quantity actually picked (a short pick posts part and
    releases the rest); without it every open allocation is picked in full. Allocations that
    a released wave turned into pick tasks are picked through those tasks only.
    """
    order = _load_order(conn, actor, order_id, lock=True)
    ids = _open_allocation_ids(conn, order_id)
    if picks is not None:
        unknown = set(picks) - set(ids)
        if unknown:
            raise ValidationFailed(
                f"allocation {min(unknown)} is not open on this order", field="picks"
            )
    waved = _open_pick_tasks(conn, sorted(picks) if picks is not None else ids)
    if waved:
        raise Conflict(
            f"sales order {order_id} is being picked by wave tasks ({', '.join(map(str, waved))});"
            " confirm those tasks",
            field="order_id",
        )
    destination = virtual_location(conn, order.site_id, "customer")
    ctx = PostingContext("sales_order", order_id, actor.user_id, "PICK")
    posted_lines: dict[int, int] = {}
    released_lines: dict[int, int] = {}
    shipped: list[shipping.ShippedUnits] = []
    used: list[tuple[int, int, int, int]] = []
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
            if posted:
                shipped.append(shipping.ShippedUnits(line, state.item_id, state.lot_id, posted))
                used.append((state.owner_id, state.item_id, state.lot_id, posted))
    line_counters(conn, released_lines, posted_lines)
    if shipped:
        shipping.record_shipment(conn, actor, order, shipped, cartons=None, used=used)
    allocation_service.refresh_statuses(conn, [order_id])
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


def line_counters(conn: Connection, released: dict[int, int], posted: dict[int, int]) -> None:
    """Lines give back what was released and picked from their allocations; picked units
    count as picked (one executemany for every line, on the driver: a pick list has
    thousands)."""
    line_ids = sorted(set(released) | set(posted))
    if line_ids:
        bulk.update_rows(
            conn,
            _LINE_COUNTERS,
            _LINE_COUNTERS_PG,
            [(released.get(i, 0), posted.get(i, 0), i) for i in line_ids],
        )


_LINE_COUNTERS = raw.Sql(
    "UPDATE sales_order_line SET quantity_allocated = quantity_allocated - ?1 - ?2, "
    "quantity_picked = quantity_picked + ?2 WHERE id = ?3"
)
_LINE_COUNTERS_PG = (
    "UPDATE sales_order_line AS l SET quantity_allocated = l.quantity_allocated - v.r - v.p, "
    "quantity_picked = l.quantity_picked + v.p "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(r, p, id) WHERE l.id = v.id"
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
                "quantity_shipped": ln.quantity_shipped,
                "quantity_open": ln.quantity - ln.quantity_allocated - ln.quantity_picked,
                "short_cause": ln.short_cause,
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
    route_ids = sorted({o.route_id for o in orders if o.route_id is not None})
    route_codes = (
        dict(
            conn.execute(sa.select(route.c.id, route.c.code).where(route.c.id.in_(route_ids))).all()
        )
        if route_ids
        else {}
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
            "route": route_codes.get(o.route_id),
            "channel": o.channel,
            "priority": o.priority,
            "shipped_at": iso_utc(o.shipped_at),
            "created_at": iso_utc(o.created_at),
            "version": o.version,
            "lines": lines[o.id],
        }
        for o in orders
    ]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
