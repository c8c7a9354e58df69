"""Waves: sales orders released together to the floor as pick tasks.

A wave is planned with its orders and a picking method, then released once (a guarded
``planned → released`` transition): the release allocates what its orders still lack
(outbound/allocation.py), turns every open allocation without a pick task into one, in pick
lists built by outbound/waves_rules.py (discrete: one per order; batch: carts of orders with
sort-to-order slots; zone: one per zone), each walked in pick-path order, due by the route's
cut-off and scored by the customer's priority; then it asks the pick faces the picks will
empty for their replenishment, lifted above those picks (outbound/replenishment.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.network.service import site_in_scope
from stockpilot.outbound import picking as _picking  # noqa: F401  (registers the pick handler)
from stockpilot.outbound import waves_rules
from stockpilot.outbound.allocation import (
    CLOSED_STATES,
    allocate_orders,
    cutoff_at,
    effective_priority,
)
from stockpilot.outbound.locations import staging_location
from stockpilot.outbound.replenishment import replenish_faces
from stockpilot.outbound.schemas import WaveCreate, WavePlan
from stockpilot.persistence import journal
from stockpilot.persistence.tables import (
    allocation,
    balance,
    customer,
    location,
    sales_order,
    sales_order_line,
    site,
    zone,
)
from stockpilot.persistence.warehouse_tables import route, task, wave, wave_order
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today, utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.sql import insert_id
from stockpilot.tasks import service as tasks

DEFAULT_CART_ORDERS = 8


def create_wave(conn: Connection, actor: Actor, cmd: WaveCreate) -> int:
    """Plan a wave of orders of one site; an order rides in one unfinished wave at a time."""
    st = site_in_scope(conn, actor, cmd.site)
    if len(set(cmd.sales_orders)) != len(cmd.sales_orders):
        raise ValidationFailed("an order appears twice", field="sales_orders")
    orders = {
        r.id: r
        for r in conn.execute(
            sa.select(sales_order.c.id, sales_order.c.site_id, sales_order.c.status).where(
                sales_order.c.id.in_(sorted(cmd.sales_orders))
            )
        )
    }
    for i, order_id in enumerate(cmd.sales_orders):
        row = orders.get(order_id)
        if row is None or not actor.can_see_site(row.site_id):
            raise ValidationFailed(f"unknown sales order {order_id}", field=f"sales_orders[{i}]")
        if row.site_id != st.id:
            raise ValidationFailed(
                f"sales order {order_id} is not of site {st.code}", field=f"sales_orders[{i}]"
            )
        if row.status in CLOSED_STATES:
            raise ValidationFailed(
                f"sales order {order_id} is {row.status}", field=f"sales_orders[{i}]"
            )
    # An order is busy in a wave not yet released, or released with its picks still open; once
    # they are done (a short pick's backorder) it may ride in a new wave.
    open_picks = (
        sa.select(task.c.id)
        .where(
            task.c.wave_id == wave.c.id,
            task.c.document_id == wave_order.c.order_id,
            task.c.type == "pick",
            task.c.status.in_(tasks.OPEN_STATES),
        )
        .exists()
    )
    busy = conn.execute(
        sa.select(wave_order.c.order_id, wave.c.id)
        .join(wave, wave.c.id == wave_order.c.wave_id)
        .where(
            wave_order.c.order_id.in_(sorted(cmd.sales_orders)),
            sa.or_(wave.c.status == "planned", sa.and_(wave.c.status == "released", open_picks)),
        )
    ).first()
    if busy is not None:
        raise Conflict(
            f"sales order {busy.order_id} is already in wave {busy.id}",
            field=f"sales_orders[{cmd.sales_orders.index(busy.order_id)}]",
        )
    wave_id = insert_id(
        conn,
        wave.insert().values(
            site_id=st.id,
            status="planned",
            method=cmd.method,
            cart_size=cmd.cart_size,
            created_at=utcnow(),
            created_by=actor.user_id,
        ),
    )
    conn.execute(
        wave_order.insert(), [{"wave_id": wave_id, "order_id": o} for o in cmd.sales_orders]
    )
    journal.record(
        conn,
        actor,
        action="wave.created",
        entity_type="wave",
        entity_id=wave_id,
        site_id=st.id,
        detail={"orders": len(cmd.sales_orders), "method": cmd.method},
        topic="wave.created",
    )
    return wave_id


def plan_waves(conn: Connection, actor: Actor, cmd: WavePlan) -> list[int]:
    """Plan waves of a site's open orders not riding in a wave, grouped by route and/or ship
    date (waves_rules.group_lines), each at most ``max_lines`` lines (an order is never split).
    Returns the new waves' ids, in group order."""
    st = site_in_scope(conn, actor, cmd.site)
    riding = sa.select(wave_order.c.order_id).join(wave, wave.c.id == wave_order.c.wave_id)
    riding = riding.where(wave.c.status.in_(("planned", "released")))
    rows = conn.execute(
        sa.select(
            sales_order_line.c.id,
            sales_order_line.c.order_id,
            sales_order_line.c.item_id,
            sales_order_line.c.quantity,
            route.c.code.label("route"),
            sales_order.c.promised_date,
            sales_order.c.requested_date,
        )
        .join(sales_order, sales_order.c.id == sales_order_line.c.order_id)
        .outerjoin(route, route.c.id == sales_order.c.route_id)
        .where(
            sales_order.c.site_id == st.id,
            sales_order.c.status.not_in(CLOSED_STATES),
            sales_order_line.c.quantity > sales_order_line.c.quantity_picked,
            sales_order.c.id.not_in(riding),
        )
        .order_by(sales_order.c.id, sales_order_line.c.line_no)
    ).all()
    lines = [
        waves_rules.WaveLine(
            line_id=r.id,
            order_id=r.order_id,
            item_id=r.item_id,
            quantity=int(r.quantity),
            location_id=0,  # grouping by route or date needs no bin
            route=r.route,
            ship_date=r.promised_date or r.requested_date,
        )
        for r in rows
    ]
    groups = waves_rules.group_lines(lines, cmd.by, max_lines=cmd.max_lines) if lines else ()
    return [
        create_wave(
            conn,
            actor,
            WaveCreate(
                site=cmd.site,
                sales_orders=list(g.order_ids),
                method=cmd.method,
                cart_size=cmd.cart_size,
            ),
        )
        for g in groups
    ]


def _wave(conn: Connection, actor: Actor, wave_id: int, *, lock: bool = False) -> Any:
    stmt = sa.select(wave).where(wave.c.id == wave_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"wave {wave_id} not found", field="wave_id")
    return row


def _unwaved_allocations(conn: Connection, order_ids: list[int]) -> list[Any]:
    """Open allocations of the orders that no live pick task covers yet, with their bins."""
    # The orders' live pick tasks come by the task table's document index; a correlated
    # NOT EXISTS per allocation would scan the tasks once per allocation.
    covered = set(
        conn.execute(
            sa.select(task.c.allocation_id).where(
                task.c.document_type == "sales_order",
                task.c.document_id.in_(order_ids),
                task.c.type == "pick",
                task.c.status != "cancelled",
            )
        ).scalars()
    )
    rows = conn.execute(
        sa.select(
            allocation.c.id,
            allocation.c.document_id.label("order_id"),
            allocation.c.document_line_id,
            allocation.c.item_id,
            allocation.c.location_id,
            allocation.c.lot_id,
            (
                allocation.c.quantity
                - allocation.c.quantity_posted
                - allocation.c.quantity_released
            ).label("quantity"),
            balance.c.status,
            balance.c.owner_id,
            location.c.zone_id,
            location.c.walk_sequence,
            location.c.x,
            location.c.y,
            zone.c.code.label("zone"),
        )
        .join(sales_order_line, sales_order_line.c.id == allocation.c.document_line_id)
        .join(balance, balance.c.id == allocation.c.balance_id)
        .join(location, location.c.id == allocation.c.location_id)
        .outerjoin(zone, zone.c.id == location.c.zone_id)
        .where(
            sales_order_line.c.order_id.in_(order_ids),
            allocation.c.document_type == "sales_order",
            allocation.c.state == "open",
        )
        .order_by(allocation.c.id)
    )
    return [r for r in rows if r.id not in covered]


def _order_facts(conn: Connection, order_ids: list[int]) -> dict[int, Any]:
    return {
        r.id: r
        for r in conn.execute(
            sa.select(
                sales_order.c.id,
                sales_order.c.priority,
                sales_order.c.promised_date,
                sales_order.c.requested_date,
                customer.c.priority.label("customer_priority"),
                route.c.code.label("route"),
                route.c.cutoff_time,
            )
            .join(customer, customer.c.id == sales_order.c.customer_id)
            .outerjoin(route, route.c.id == sales_order.c.route_id)
            .where(sales_order.c.id.in_(order_ids))
        )
    }


def release_wave(conn: Connection, actor: Actor, wave_id: int) -> dict[str, Any]:
    """Release a planned wave: allocate, create its pick tasks and the replenishments they
    need. A wave is released once: a second release is a 409 and changes nothing."""
    head = _wave(conn, actor, wave_id, lock=True)
    now = utcnow()
    claimed = conn.execute(
        sa.update(wave)
        .where(wave.c.id == wave_id, wave.c.status == "planned")
        .values(status="released", released_at=now)
    ).rowcount
    if claimed != 1:
        raise Conflict(f"wave {wave_id} is {head.status}", field="wave_id")
    order_ids = sorted(
        conn.execute(sa.select(wave_order.c.order_id).where(wave_order.c.wave_id == wave_id))
        .scalars()
        .all()
    )
    run = allocate_orders(conn, head.site_id, order_ids)
    allocs = _unwaved_allocations(conn, order_ids)
    facts = _order_facts(conn, order_ids)
    by_id = {a.id: a for a in allocs}
    now_day = today()
    lines = [
        waves_rules.WaveLine(
            line_id=a.id,
            order_id=a.order_id,
            item_id=a.item_id,
            quantity=int(a.quantity),
            location_id=a.location_id,
            zone=a.zone,
            route=facts[a.order_id].route,
            ship_date=facts[a.order_id].promised_date or facts[a.order_id].requested_date,
            walk_sequence=a.walk_sequence,
            x=a.x,
            y=a.y,
        )
        for a in allocs
        if a.quantity > 0
    ]
    lists = (
        waves_rules.build_pick_lists(
            lines, head.method, cart_orders=head.cart_size or DEFAULT_CART_ORDERS
        )
        if lines
        else ()
    )
    staging = staging_location(conn, head.site_id)
    new = []
    for pick_list in lists:
        for ln in pick_list.lines:
            a = by_id[ln.line_id]
            o = facts[a.order_id]
            new.append(
                tasks.NewTask(
                    type="pick",
                    site_id=head.site_id,
                    item_id=a.item_id,
                    quantity=ln.quantity,
                    from_location_id=a.location_id,
                    to_location_id=staging,
                    owner_id=a.owner_id,
                    lot_id=a.lot_id,
                    stock_status=a.status,
                    zone_id=a.zone_id,
                    document_type="sales_order",
                    document_id=a.order_id,
                    document_line_id=a.document_line_id,
                    allocation_id=a.id,
                    wave_id=wave_id,
                    pick_list=pick_list.number,
                    sequence=ln.sequence,
                    due_at=cutoff_at(o.cutoff_time, o.promised_date or o.requested_date, now_day),
                    customer_priority=effective_priority(o.priority, o.customer_priority),
                )
            )
    tasks.create_tasks(conn, new, return_ids=False)
    _record_slots(conn, wave_id, lists)
    replenish_ids = (
        replenish_faces(conn, actor, head.site_id, item_ids=sorted({a.item_id for a in allocs}))
        if allocs
        else []
    )
    summary = {
        "pick_tasks": len(new),
        "pick_lists_created": len(lists),
        "replenish_tasks": len(replenish_ids),
        "quantity_allocated_now": run.quantity_allocated,
        "lines_short": sum(1 for ln in run.lines if ln.quantity_short > 0),
    }
    journal.record(
        conn,
        actor,
        action="wave.released",
        entity_type="wave",
        entity_id=wave_id,
        site_id=head.site_id,
        detail=summary,
        topic="wave.released",
    )
    return summary


def _record_slots(conn: Connection, wave_id: int, lists: tuple[waves_rules.PickList, ...]) -> None:
    rows = []
    for pick_list in lists:
        slots = dict(pick_list.slots)
        for order_id in pick_list.order_ids:
            rows.append(
                {
                    "w": wave_id,
                    "o": order_id,
                    "pick_list": pick_list.number if pick_list.method != "zone" else None,
                    "slot": slots.get(order_id),
                }
            )
    if rows:
        conn.execute(
            sa.update(wave_order)
            .where(
                wave_order.c.wave_id == sa.bindparam("w"),
                wave_order.c.order_id == sa.bindparam("o"),
            )
            .values(pick_list=sa.bindparam("pick_list"), slot=sa.bindparam("slot")),
            rows,
        )


def get_wave(conn: Connection, actor: Actor, wave_id: int) -> dict[str, Any]:
    head = _wave(conn, actor, wave_id)
    site_code = conn.execute(sa.select(site.c.code).where(site.c.id == head.site_id)).scalar_one()
    orders = conn.execute(
        sa.select(wave_order.c.order_id, wave_order.c.pick_list, wave_order.c.slot)
        .where(wave_order.c.wave_id == wave_id)
        .order_by(wave_order.c.order_id)
    ).all()
    task_rows = conn.execute(
        sa.select(task.c.pick_list, task.c.status, zone.c.code, task.c.document_id)
        .outerjoin(zone, zone.c.id == task.c.zone_id)
        .where(task.c.wave_id == wave_id, task.c.type == "pick")
    ).all()
    statuses = Counter(r.status for r in task_rows)
    lists: dict[int, dict[str, Any]] = {}
    for r in task_rows:
        entry = lists.setdefault(
            r.pick_list, {"number": r.pick_list, "zone": None, "orders": set(), "tasks": 0}
        )
        entry["tasks"] += 1
        entry["orders"].add(r.document_id)
        if head.method == "zone":
            entry["zone"] = r.code
    return {
        "id": head.id,
        "site": site_code,
        "status": head.status,
        "method": head.method,
        "cart_size": head.cart_size,
        "created_at": iso_utc(head.created_at),
        "released_at": iso_utc(head.released_at),
        "sales_orders": [o.order_id for o in orders],
        "slots": [
            {"sales_order": o.order_id, "pick_list": o.pick_list, "slot": o.slot}
            for o in orders
            if o.slot is not None
        ],
        "pick_lists": [
            {**v, "orders": sorted(v["orders"])}
            for _, v in sorted(lists.items(), key=lambda kv: kv[0] or 0)
        ],
        "tasks": {s: statuses.get(s, 0) for s in ("open", "assigned", "done", "cancelled")},
    }
