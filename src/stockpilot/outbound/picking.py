"""Pick confirmation: a pick task posts its allocation from the bin to the staging location.

The task queue (tasks/service.py) makes the guarded ``open → done`` transition and calls the
``pick`` handler registered here in the same transaction; ``confirm_picks`` confirms a whole
pick list the same way in one transaction with a constant number of statements.

A short pick posts what was picked, releases the rest of the allocation, records on the
order line why it is short (the pick face was empty while reserve held stock, or the site had
none) and raises a count task for the bin. The line's and the order's status follow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger import allocation as alloc
from stockpilot.ledger.keys import PostingContext
from stockpilot.outbound import allocation_rules as rules
from stockpilot.outbound import bulk
from stockpilot.outbound.allocation import STORABLE_KINDS, lock_orders, refresh_statuses
from stockpilot.outbound.sales_orders import line_counters
from stockpilot.persistence import journal, raw
from stockpilot.persistence.tables import balance, location, sales_order_line, stock_status
from stockpilot.persistence.warehouse_tables import task
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today, utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.tasks import service as tasks

__all__ = ["PickDone", "confirm_picks"]


@dataclass(frozen=True, slots=True)
class PickDone:
    """One confirmed pick: the task (a :class:`tasks.TaskRow` or a row of the task table,
    read by the same attribute names), the quantity picked and the task's zone."""

    task: Any
    quantity: int
    zone_id: int | None = None

    @property
    def short(self) -> int:
        return int(self.task.quantity) - self.quantity


def _reserve_elsewhere(
    conn: Connection, site_id: int, shorts: Sequence[PickDone]
) -> dict[tuple[int, int], int]:
    """Available allocatable stock of each short item in the site's other storable bins,
    keyed by (item, the bin that came up short)."""
    items = sorted({p.task.item_id for p in shorts})
    rows = conn.execute(
        sa.select(
            balance.c.item_id,
            balance.c.location_id,
            sa.func.sum(balance.c.quantity_on_hand - balance.c.quantity_allocated),
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .where(
            balance.c.item_id.in_(items),
            location.c.site_id == site_id,
            location.c.kind.in_(STORABLE_KINDS),
            stock_status.c.allocatable.is_(True),
        )
        .group_by(balance.c.item_id, balance.c.location_id)
    ).all()
    out = {}
    for p in shorts:
        key = (p.task.item_id, p.task.from_location_id)
        out[key] = sum(int(q or 0) for i, loc, q in rows if i == p.task.item_id and loc != key[1])
    return out


def _bin_on_hand(conn: Connection, shorts: Sequence[PickDone]) -> dict[tuple[Any, ...], int]:
    """What the ledger says is left in each bin that came up short (the count's expectation)."""
    pairs = sorted({(p.task.item_id, p.task.from_location_id) for p in shorts})
    rows = conn.execute(
        sa.select(
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            balance.c.status,
            balance.c.owner_id,
            balance.c.quantity_on_hand,
        ).where(
            sa.tuple_(balance.c.item_id, balance.c.location_id).in_(pairs),
        )
    ).all()
    return {(r[0], r[1], r[2], r[3], r[4]): int(r[5]) for r in rows}


def _handle_shorts(conn: Connection, shorts: Sequence[PickDone]) -> dict[int, int]:
    """Record each short line's cause and raise a count task per bin; returns pick task id →
    count task id."""
    if not shorts:
        return {}
    site_id = shorts[0].task.site_id
    reserve = _reserve_elsewhere(conn, site_id, shorts)
    on_hand = _bin_on_hand(conn, shorts)
    causes = {}
    counts: list[tasks.NewTask] = []
    for p in shorts:
        t = p.task
        cause = rules.classify_shortfall(
            rules.ShortfallFacts(
                quantity_short=p.short,
                stage="pick",
                quantity_reserve_available=reserve[(t.item_id, t.from_location_id)],
                today=today(),
            )
        )
        if t.document_line_id is not None:
            causes[t.document_line_id] = cause.code
        counts.append(
            tasks.NewTask(
                type="count",
                site_id=t.site_id,
                item_id=t.item_id,
                quantity=on_hand.get(
                    (t.item_id, t.from_location_id, t.lot_id, t.stock_status, t.owner_id), 0
                ),
                from_location_id=t.from_location_id,
                owner_id=t.owner_id,
                lot_id=t.lot_id,
                stock_status=t.stock_status,
                zone_id=p.zone_id,
                document_type="task",
                document_id=t.id,
            )
        )
    if causes:
        conn.execute(
            sa.update(sales_order_line)
            .where(sales_order_line.c.id == sa.bindparam("line_id"))
            .values(short_cause=sa.bindparam("cause")),
            [{"line_id": k, "cause": v} for k, v in sorted(causes.items())],
        )
    tasks.create_tasks(conn, counts, return_ids=False)
    created = conn.execute(
        sa.select(task.c.document_id, task.c.id).where(
            task.c.type == "count",
            task.c.document_type == "task",
            task.c.document_id.in_(sorted(p.task.id for p in shorts)),
        )
    ).all()
    return {int(d): int(i) for d, i in created}


def apply_picks(
    conn: Connection, actor: Actor, picks: Sequence[PickDone], ctx: PostingContext
) -> dict[int, int]:
    """Post the picks' allocations to their staging bins, count what the lines got, handle the
    shorts and refresh the orders; returns pick task id → count task id for the shorts."""
    order_ids = sorted({p.task.document_id for p in picks if p.task.document_id is not None})
    lock_orders(conn, order_ids)
    missing = [p.task.id for p in picks if p.task.allocation_id is None]
    if missing:
        raise ValidationFailed(f"pick task {missing[0]} has no allocation", field="task_id")
    states = {s.id: s for s in alloc.load_allocations(conn, [p.task.allocation_id for p in picks])}
    posts = []
    posted: dict[int, int] = defaultdict(int)
    released: dict[int, int] = defaultdict(int)
    for p in picks:
        state = states[p.task.allocation_id]
        if state.state != "open" or state.quantity_open < p.task.quantity:
            raise Conflict(
                f"the allocation of pick task {p.task.id} was released meanwhile", field="task_id"
            )
        if p.task.to_location_id is None:
            raise ValidationFailed(f"pick task {p.task.id} has no staging bin", field="task_id")
        posts.append((state, p.quantity, p.task.to_location_id))
        if state.document_line_id is not None:
            posted[state.document_line_id] += p.quantity
            released[state.document_line_id] += state.quantity_open - p.quantity
    alloc.post_many(conn, posts, ctx)
    line_counters(conn, released, posted)
    counts = _handle_shorts(conn, [p for p in picks if p.quantity != p.task.quantity])
    refresh_statuses(conn, order_ids)
    return counts


def _zone_ids(conn: Connection, task_ids: Sequence[int]) -> dict[int, int | None]:
    return dict(
        conn.execute(
            sa.select(task.c.id, task.c.zone_id).where(task.c.id.in_(sorted(task_ids)))
        ).all()
    )


def confirm_pick(
    conn: Connection, actor: Actor, row: tasks.TaskRow, confirmation: tasks.Confirmation
) -> tasks.Outcome:
    """The ``pick`` handler of the task queue. ``location``, when given, is the bin scanned:
    it must be the directed one (picking elsewhere would take stock reserved for others)."""
    if confirmation.location is not None:
        scanned = tasks.location_in_site(conn, row.site_id, confirmation.location)
        if scanned.id != row.from_location_id:
            raise ValidationFailed(
                "pick from the directed bin; report a short pick there instead", field="location"
            )
    quantity = row.quantity if confirmation.quantity is None else confirmation.quantity
    zone = _zone_ids(conn, [row.id]).get(row.id)
    done = PickDone(row, quantity, zone)
    counts = apply_picks(
        conn, actor, [done], PostingContext("task_pick", row.id, actor.user_id, "PICK")
    )
    # The count raised by a short pick is the confirmation's follow-up task.
    detail: dict[str, Any] = {"follow_up_tasks": [counts[row.id]] if row.id in counts else []}
    return tasks.Outcome(quantity, row.to_location_id, detail)


tasks.HANDLERS["pick"] = confirm_pick


def confirm_picks(
    conn: Connection, actor: Actor, confirmations: Sequence[tuple[int, int | None]]
) -> dict[str, Any]:
    """Confirm many pick tasks at once (a whole pick list): every one or none. Each is
    ``(task id, quantity picked or None for all)``; a task already confirmed is a 409 and
    nothing is posted."""
    ids = [t for t, _ in confirmations]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("each task may be confirmed once", field="picks")
    rows = {
        r.id: r
        for r in conn.execute(
            # Only what the confirmation needs: no timestamps to parse for thousands of rows.
            sa.select(*(task.c[name] for name in _PICK_COLUMNS))
            .where(task.c.id.in_(sorted(ids)))
            .order_by(task.c.id)
            .with_for_update()
        )
    }
    sites = {r.site_id for r in rows.values()}
    hidden = {site_id for site_id in sites if not actor.can_see_site(site_id)}
    picks = []
    open_states = tasks.OPEN_STATES
    for i, (task_id, qty) in enumerate(confirmations):
        r = rows.get(task_id)
        if r is None or r.site_id in hidden or r.type != "pick":
            raise NotFound(f"pick task {task_id} not found", field=f"picks[{i}].task_id")
        if r.status not in open_states:
            raise Conflict(f"task {task_id} is {r.status}", field=f"picks[{i}].task_id")
        if qty is None:
            qty = r.quantity
        elif not 0 <= qty <= r.quantity:
            raise ValidationFailed(
                f"quantity must be between 0 and the task's {r.quantity}",
                field=f"picks[{i}].quantity",
            )
        # The row itself: a TaskRow per pick would cost more than posting its move.
        picks.append(PickDone(r, qty, r.zone_id))
    if len(sites) > 1:
        raise ValidationFailed("pick tasks of one site at a time", field="picks")
    now = raw.timestamp(conn, utcnow())
    # The guarded transition of the whole list in one statement; the short ones then say
    # how much they picked.
    claimed = bulk.update_ids(conn, _CONFIRM, (now, actor.user_id, now), [p.task.id for p in picks])
    if claimed != len(picks):
        raise Conflict("a task of the list was confirmed meanwhile", field="picks")
    shorts = [(p.quantity, p.task.id) for p in picks if p.quantity != p.task.quantity]
    if shorts:
        raw.execute_many(conn, _CONFIRMED_SHORT, shorts)
    wave_ids = {p.task.wave_id for p in picks}
    wave_id = wave_ids.pop() if len(wave_ids) == 1 else None
    counts = apply_picks(
        conn, actor, picks, PostingContext("pick_list", wave_id, actor.user_id, "PICK")
    )
    summary = {
        "confirmed": len(picks),
        "quantity_picked": sum(p.quantity for p in picks),
        "quantity_short": sum(p.short for p in picks),
        "count_tasks": sorted(counts.values()),
    }
    journal.record(
        conn,
        actor,
        action="task.pick.confirmed",
        entity_type="wave" if wave_id is not None else "task",
        entity_id=wave_id if wave_id is not None else ids[0],
        site_id=picks[0].task.site_id,
        detail={**summary, "tasks": len(ids)},
        topic="task.pick.confirmed",
    )
    return summary


_PICK_COLUMNS = (
    "id",
    "type",
    "status",
    "site_id",
    "item_id",
    "lot_id",
    "stock_status",
    "owner_id",
    "quantity",
    "from_location_id",
    "to_location_id",
    "zone_id",
    "document_type",
    "document_id",
    "document_line_id",
    "allocation_id",
    "wave_id",
)
_CONFIRM = (
    "UPDATE task SET status = 'done', confirmed_at = ?, confirmed_by = ?, "
    "confirmed_quantity = quantity, confirmed_location_id = to_location_id, "
    "started_at = COALESCE(started_at, ?) "
    "WHERE status IN ('open', 'assigned') AND id IN ({ids})"
)
_CONFIRMED_SHORT = raw.Sql("UPDATE task SET confirmed_quantity = ? WHERE id = ?")
