"""Directed putaway: each line received to the dock gets one putaway task to the bin the rules
choose (tasks.putaway.choose_bin: storage kind, hazard and temperature, room in units, volume
and weight, velocity, consolidation), with its reasons and the next alternatives.

The operator confirms the task with the bin they used: another bin than the directed one needs
a reason code and must pass the same hard constraints (a frozen bin for an ambient item is a
422 naming the location). A partial putaway leaves a task for the rest. When the last unit of a
receipt line is put away, the line's stock-available time is set (dock-to-stock).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.catalog.service import require_reason_code
from stockpilot.network.service import SiteRef
from stockpilot.persistence.planning_tables import item_location_policy
from stockpilot.persistence.tables import balance, item, location, zone
from stockpilot.persistence.warehouse_tables import receipt_line, task
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import ValidationFailed
from stockpilot.tasks import service as tasks
from stockpilot.tasks.putaway import (
    BinRow,
    BinTable,
    Holdings,
    PutawayItem,
    PutawayRequest,
    check_bin,
    choose_bins,
)

PUTAWAY_KINDS = ("storage", "bulk", "pick")


def site_bins(
    conn: Connection, site_id: int, item_ids: Sequence[int]
) -> tuple[BinTable, dict[int, Holdings]]:
    """The site's putaway candidates with what they hold now (two queries), and per item the
    bins that already hold it."""
    bins = conn.execute(
        sa.select(
            location.c.id,
            location.c.code,
            location.c.kind,
            zone.c.code.label("zone"),
            sa.func.coalesce(location.c.hazard_class, zone.c.hazard_class).label("hazard"),
            sa.func.coalesce(location.c.temperature_class, zone.c.temperature_class).label("temp"),
            location.c.capacity,
            location.c.max_volume_cm3,
            location.c.max_weight_g,
            location.c.walk_sequence,
            location.c.x,
            location.c.y,
        )
        .outerjoin(zone, zone.c.id == location.c.zone_id)
        .where(
            location.c.site_id == site_id,
            location.c.is_virtual.is_(False),
            location.c.active.is_(True),
            location.c.kind.in_(PUTAWAY_KINDS),
        )
        .order_by(location.c.id)
    ).all()
    contents = conn.execute(
        sa.select(
            balance.c.location_id,
            balance.c.item_id,
            balance.c.lot_id,
            sa.func.sum(balance.c.quantity_on_hand).label("units"),
            item.c.length_mm,
            item.c.width_mm,
            item.c.height_mm,
            item.c.weight_g,
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(item, item.c.id == balance.c.item_id)
        .where(
            location.c.site_id == site_id,
            balance.c.quantity_on_hand > 0,
            location.c.is_virtual.is_(False),
        )
        .group_by(
            balance.c.location_id,
            balance.c.item_id,
            balance.c.lot_id,
            item.c.length_mm,
            item.c.width_mm,
            item.c.height_mm,
            item.c.weight_g,
        )
    ).all()
    units: dict[int, int] = defaultdict(int)
    volume: dict[int, int] = defaultdict(int)
    weight: dict[int, int] = defaultdict(int)
    held: dict[int, set[int]] = defaultdict(set)
    same_item: dict[int, set[int]] = defaultdict(set)
    same_lot: dict[int, set[int]] = defaultdict(set)
    wanted = set(item_ids)
    for c in contents:
        units[c.location_id] += int(c.units)
        if None not in (c.length_mm, c.width_mm, c.height_mm):
            volume[c.location_id] += int(c.units) * c.length_mm * c.width_mm * c.height_mm
        if c.weight_g is not None:
            weight[c.location_id] += int(c.units) * c.weight_g
        held[c.location_id].add(c.item_id)
        if c.item_id in wanted:
            same_item[c.item_id].add(c.location_id)
            if c.lot_id:
                same_lot[c.lot_id].add(c.location_id)
    table = BinTable.from_rows(
        [
            BinRow(
                location_id=b.id,
                code=b.code,
                kind=b.kind,
                zone=b.zone,
                hazard_class=b.hazard,
                temperature_class=b.temp,
                capacity_units=b.capacity,
                max_volume_mm3=None if b.max_volume_cm3 is None else b.max_volume_cm3 * 1000,
                max_weight_g=b.max_weight_g,
                units=units[b.id],
                volume_mm3=volume[b.id],
                weight_g=weight[b.id],
                items_held=len(held[b.id]),
                distance=None if b.walk_sequence is None else float(b.walk_sequence),
                x=b.x,
                y=b.y,
            )
            for b in bins
        ]
    )
    holdings = {i: Holdings(frozenset(same_item[i])) for i in wanted}
    return table, {
        **holdings,
        **{-lot_id: Holdings(frozenset(), frozenset(v)) for lot_id, v in same_lot.items()},
    }


def _items(
    conn: Connection, site_id: int, item_ids: Sequence[int], lots: dict[int, int]
) -> dict[int, PutawayItem]:
    """The putaway view of each item: classes, dimensions, and its ABC class at the site."""
    velocity = dict(
        conn.execute(
            sa.select(item_location_policy.c.item_id, item_location_policy.c.abc)
            .where(
                item_location_policy.c.site_id == site_id,
                item_location_policy.c.item_id.in_(list(item_ids)),
            )
            .order_by(item_location_policy.c.run_id)
        ).all()
    )
    rows = conn.execute(sa.select(item).where(item.c.id.in_(list(item_ids)))).all()
    return {
        r.id: PutawayItem(
            item_id=r.id,
            sku=r.sku,
            velocity_class=velocity.get(r.id, "C")
            if velocity.get(r.id) in ("A", "B", "C")
            else "C",
            hazard_class=r.hazard_class,
            temperature_class=r.temperature_class,
            length_mm=r.length_mm,
            width_mm=r.width_mm,
            height_mm=r.height_mm,
            weight_g=r.weight_g,
            lot_id=lots.get(r.id),
        )
        for r in rows
    }


def create_putaway_tasks(
    conn: Connection,
    st: SiteRef,
    dock_lines: Sequence[tuple[int, int, dict[str, Any]]],
    receipt_id: int,
) -> None:
    """One directed putaway task per receipt line waiting at the dock: ``(receipt line id,
    owner id, receipt line row)``; the tasks are found by their receipt line."""
    if not dock_lines:
        return
    item_ids = sorted({row["item_id"] for _, _, row in dock_lines})
    table, holdings = site_bins(conn, st.id, item_ids)
    lots = {row["item_id"]: row["lot_id"] or None for _, _, row in dock_lines}
    items = _items(conn, st.id, item_ids, {k: v for k, v in lots.items() if v})
    requests = []
    for _, _, row in dock_lines:
        itm = items[row["item_id"]]
        if row["lot_id"]:
            itm = replace(itm, lot_id=row["lot_id"])
        held = holdings.get(row["item_id"], Holdings())
        lot_held = holdings.get(-row["lot_id"], Holdings()) if row["lot_id"] else Holdings()
        requests.append(
            PutawayRequest(itm, row["quantity"], Holdings(held.same_item, lot_held.same_lot))
        )
    # One decision for the whole receipt: its lines never overfill a bin together.
    targets = choose_bins(requests, table)
    new = [
        tasks.NewTask(
            type="putaway",
            site_id=st.id,
            item_id=row["item_id"],
            quantity=row["quantity"],
            from_location_id=row["location_id"],
            to_location_id=target,
            owner_id=owner_id,
            lot_id=row["lot_id"],
            stock_status=row["status"],
            document_type="receipt",
            document_id=receipt_id,
            document_line_id=line_id,
        )
        for (line_id, owner_id, row), target in zip(dock_lines, targets, strict=True)
    ]
    # No ids back: on SQLite a RETURNING that keeps the order is one statement per row.
    tasks.create_tasks(conn, new, return_ids=False)


@tasks.handler("putaway")
def confirm_putaway(
    conn: Connection, actor: Actor, row: tasks.TaskRow, confirmation: tasks.Confirmation
) -> tasks.Outcome:
    """Move the stock from the dock to the bin: the directed one, or another with a reason that
    passes the same hard constraints."""
    target = row.to_location_id
    quantity = row.quantity if confirmation.quantity is None else confirmation.quantity
    if confirmation.location is not None:
        chosen = tasks.location_in_site(conn, row.site_id, confirmation.location).id
        if chosen != target:
            if not confirmation.reason:
                raise ValidationFailed(
                    "another bin than the one directed needs a reason", field="reason"
                )
            require_reason_code(conn, confirmation.reason, field="reason")
            table, _ = site_bins(conn, row.site_id, [row.item_id])
            itm = _items(conn, row.site_id, [row.item_id], {})[row.item_id]
            violations = check_bin(itm, quantity, table, chosen)
            if violations:
                raise ValidationFailed("; ".join(v.message for v in violations), field="location")
        target = chosen
    if target is None:
        raise ValidationFailed("no bin was directed: say which bin you used", field="location")
    tasks.post_task_move(conn, actor, row, target, quantity, confirmation.reason, "putaway")
    if quantity:
        # The stock is available now: orders waiting for it are allocated in rank order.
        from stockpilot.outbound.sales_orders import reallocate_backorders

        reallocate_backorders(conn, actor, row.site_id, [row.item_id])
    rest = row.quantity - quantity
    follow_up: list[int] = []
    if rest > 0:
        follow_up = tasks.create_tasks(
            conn,
            [
                tasks.NewTask(
                    type="putaway",
                    site_id=row.site_id,
                    item_id=row.item_id,
                    quantity=rest,
                    from_location_id=row.from_location_id,
                    to_location_id=row.to_location_id,
                    owner_id=row.owner_id,
                    lot_id=row.lot_id,
                    stock_status=row.stock_status,
                    document_type=row.document_type,
                    document_id=row.document_id,
                    document_line_id=row.document_line_id,
                )
            ],
        )
    elif row.document_line_id is not None:
        open_left = conn.execute(
            sa.select(sa.func.count())
            .select_from(task)
            .where(
                task.c.document_type == "receipt",
                task.c.document_id == row.document_id,  # the document index, not a scan
                task.c.document_line_id == row.document_line_id,
                task.c.status.in_(tasks.OPEN_STATES),
            )
        ).scalar_one()
        if not open_left:
            conn.execute(
                sa.update(receipt_line)
                .where(receipt_line.c.id == row.document_line_id)
                .values(available_at=utcnow())
            )
    return tasks.Outcome(quantity, target, {"follow_up_tasks": follow_up})
