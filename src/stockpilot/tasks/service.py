"""The task queue: putaway, pick, replenishment, count and move tasks in one table.

Tasks are created by the documents (a receipt creates putaway tasks, a wave release pick
tasks, ...) with ``create_tasks`` — one statement for any number. An operator asks for the
``next_task`` (assigned to them with a guarded update, so two operators never get the same
one) and confirms it with ``confirm_task``: one guarded transition ``open|assigned → done`` in
the same transaction as the moves the task's handler posts — of two concurrent confirmations
exactly one wins and the other is a 409 with nothing posted.

Each task type has one confirmation handler (``HANDLERS``), registered by the package that
owns the flow (inbound: putaway; outbound: pick; this module: replenish, move, count).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence import journal, raw
from stockpilot.persistence.tables import item, location, lot, site, zone
from stockpilot.persistence.warehouse_tables import task
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.sql import scoped_page
from stockpilot.tasks.priority import TaskFacts, score_task

OPEN_STATES = ("open", "assigned")


@dataclass(frozen=True)
class NewTask:
    """A task to create. ``priority_facts`` (ship-by, customer priority) feed its score."""

    type: str
    site_id: int
    item_id: int
    quantity: int
    from_location_id: int
    owner_id: int
    to_location_id: int | None = None
    lot_id: int = 0
    stock_status: str = "available"
    zone_id: int | None = None
    document_type: str | None = None
    document_id: int | None = None
    document_line_id: int | None = None
    allocation_id: int | None = None
    wave_id: int | None = None
    pick_list: int | None = None
    sequence: int | None = None
    due_at: datetime | None = None
    customer_priority: int | None = None
    priority_boost: float = 0.0
    boost_reason: str | None = None


@dataclass(frozen=True)
class Confirmation:
    """What the operator reports: where (a location code) and how much (base units)."""

    location: str | None = None
    quantity: int | None = None
    reason: str | None = None
    exception: str | None = None


@dataclass(frozen=True)
class TaskRow:
    """An open task as its handler sees it."""

    id: int
    type: str
    site_id: int
    item_id: int
    lot_id: int
    stock_status: str
    owner_id: int
    quantity: int
    from_location_id: int
    to_location_id: int | None
    document_type: str | None
    document_id: int | None
    document_line_id: int | None
    allocation_id: int | None
    wave_id: int | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a handler did: the quantity and location it confirmed, and details for the answer."""

    quantity: int
    location_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Connection, Actor, TaskRow, Confirmation], Outcome]
HANDLERS: dict[str, Handler] = {}
# The modules that register the handlers of the flows (imported on first use: the queue does
# not depend on the flows, the flows register with the queue).
HANDLER_MODULES = (
    "stockpilot.inbound.putaway",
    "stockpilot.outbound.picking",
    "stockpilot.counting.service",
)


def _load_handlers() -> None:
    import importlib

    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def handler(task_type: str) -> Callable[[Handler], Handler]:
    """Register the confirmation handler of ``task_type``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[task_type] = fn
        return fn

    return register


def create_tasks(
    conn: Connection, tasks: Sequence[NewTask], *, return_ids: bool = True
) -> list[int]:
    """Insert ``tasks`` with their priority and its reasons (one statement for any number, on
    the driver); returns the ids in order (``return_ids=False``: returns nothing, and no ids
    are drawn beforehand)."""
    if not tasks:
        return []
    now = utcnow()
    stamp = raw.timestamp(conn, now)
    # Tasks of one release share their facts (type, ship-by, customer priority): each
    # distinct combination is scored once.
    scores: dict[tuple[str, datetime | None, int | None], tuple[float, list[str]]] = {}
    ids = raw.reserve_ids(conn, "task", len(tasks)) if return_ids else []
    rows = []
    for n, t in enumerate(tasks):
        facts_key = (t.type, t.due_at, t.customer_priority)
        scored = scores.get(facts_key)
        if scored is None:
            s = score_task(
                TaskFacts(
                    task_id=0,
                    task_type=t.type,  # type: ignore[arg-type]
                    created_at=now,
                    ship_by=t.due_at,
                    customer_priority=t.customer_priority,
                ),
                now,
            )
            scored = scores[facts_key] = (s.score, list(s.reasons))
        score, reasons = scored
        if t.priority_boost:
            reasons = [*reasons, f"{t.boost_reason or 'boost'} → {t.priority_boost:.1f}"]
        row = (
            t.type,
            t.site_id,
            "open",
            score + t.priority_boost,
            raw.json_value(reasons),
            t.item_id,
            t.lot_id,
            t.stock_status,
            t.owner_id,
            t.quantity,
            t.from_location_id,
            t.to_location_id,
            t.zone_id,
            t.document_type,
            t.document_id,
            t.document_line_id,
            t.allocation_id,
            t.wave_id,
            t.pick_list,
            t.sequence,
            None if t.due_at is None else raw.timestamp(conn, t.due_at),
            stamp,
        )
        rows.append((ids[n], *row) if return_ids else row)
    raw.insert_rows(conn, "task", _TASK_ID + _TASK_COLUMNS if return_ids else _TASK_COLUMNS, rows)
    return ids


_TASK_ID = (("id", "bigint"),)
_TASK_COLUMNS = (
    ("type", "varchar"),
    ("site_id", "bigint"),
    ("status", "varchar"),
    ("priority", "float8"),
    ("priority_reasons", "json"),
    ("item_id", "bigint"),
    ("lot_id", "bigint"),
    ("stock_status", "varchar"),
    ("owner_id", "bigint"),
    ("quantity", "bigint"),
    ("from_location_id", "bigint"),
    ("to_location_id", "bigint"),
    ("zone_id", "bigint"),
    ("document_type", "varchar"),
    ("document_id", "bigint"),
    ("document_line_id", "bigint"),
    ("allocation_id", "bigint"),
    ("wave_id", "bigint"),
    ("pick_list", "integer"),
    ("sequence", "integer"),
    ("due_at", "timestamp"),
    ("created_at", "timestamp"),
)


def _task_row(conn: Connection, actor: Actor, task_id: int) -> Any:
    row = conn.execute(sa.select(task).where(task.c.id == task_id)).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"task {task_id} not found", field="task_id")
    return row


def confirm_task(
    conn: Connection, actor: Actor, task_id: int, confirmation: Confirmation
) -> dict[str, Any]:
    """Confirm an open task: the transition and the task's moves in one transaction."""
    row = _task_row(conn, actor, task_id)
    if row.status not in OPEN_STATES:
        raise Conflict(f"task {task_id} is {row.status}", field="task_id")
    # A count reports what is there, whatever the task says (counting.service bounds it).
    bounded = row.type != "count"
    if (
        confirmation.quantity is not None
        and bounded
        and not 0 <= confirmation.quantity <= row.quantity
    ):
        raise ValidationFailed(
            f"quantity must be between 0 and the task's {row.quantity}", field="quantity"
        )
    now = utcnow()
    claimed = conn.execute(
        sa.update(task)
        .where(task.c.id == task_id, task.c.status.in_(OPEN_STATES))
        .values(status="done", confirmed_at=now, confirmed_by=actor.user_id)
    ).rowcount
    if claimed != 1:  # another confirmation won the race
        raise Conflict(f"task {task_id} was confirmed meanwhile", field="task_id")
    fn = HANDLERS.get(row.type)
    if fn is None:
        _load_handlers()
        fn = HANDLERS.get(row.type)
    if fn is None:
        raise ValidationFailed(f"tasks of type {row.type} cannot be confirmed here", field="type")
    outcome = fn(conn, actor, _as_task_row(row), confirmation)
    conn.execute(
        sa.update(task)
        .where(task.c.id == task_id)
        .values(
            confirmed_quantity=outcome.quantity,
            confirmed_location_id=outcome.location_id,
            reason_code=confirmation.reason,
            exception=confirmation.exception,
            started_at=sa.func.coalesce(task.c.started_at, now),
        )
    )
    journal.record(
        conn,
        actor,
        action=f"task.{row.type}.confirmed",
        entity_type="task",
        entity_id=task_id,
        site_id=row.site_id,
        reason=confirmation.reason,
        detail={"quantity": outcome.quantity, **outcome.detail},
        topic=f"task.{row.type}.confirmed",
    )
    return {**get_task(conn, actor, task_id), **outcome.detail}


def _as_task_row(row: Any) -> TaskRow:
    return TaskRow(
        id=row.id,
        type=row.type,
        site_id=row.site_id,
        item_id=row.item_id,
        lot_id=row.lot_id,
        stock_status=row.stock_status,
        owner_id=row.owner_id,
        quantity=row.quantity,
        from_location_id=row.from_location_id,
        to_location_id=row.to_location_id,
        document_type=row.document_type,
        document_id=row.document_id,
        document_line_id=row.document_line_id,
        allocation_id=row.allocation_id,
        wave_id=row.wave_id,
    )


def cancel_tasks(conn: Connection, task_ids: Sequence[int]) -> int:
    """Cancel open tasks (a released wave taken back, a receipt reversed)."""
    if not task_ids:
        return 0
    return int(
        conn.execute(
            sa.update(task)
            .where(task.c.id.in_(list(task_ids)), task.c.status.in_(OPEN_STATES))
            .values(status="cancelled")
        ).rowcount
    )


# --- reading ------------------------------------------------------------------------------------

_from = location.alias("from_loc")
_to = location.alias("to_loc")


def _select() -> sa.Select[Any]:
    return (
        sa.select(
            task.c.id,
            task.c.type,
            site.c.code.label("site"),
            item.c.sku,
            lot.c.lot_code.label("lot"),
            task.c.stock_status.label("stock_status"),
            task.c.quantity,
            _from.c.code.label("from_location"),
            _to.c.code.label("to_location"),
            zone.c.code.label("zone"),
            task.c.priority,
            task.c.priority_reasons,
            task.c.status,
            task.c.assigned_to,
            task.c.document_type,
            task.c.document_id,
            task.c.document_line_id,
            task.c.wave_id,
            task.c.pick_list,
            task.c.sequence,
            task.c.due_at,
            task.c.created_at,
            task.c.started_at,
            task.c.confirmed_at,
            task.c.confirmed_quantity,
            task.c.exception,
        )
        .join(site, site.c.id == task.c.site_id)
        .join(item, item.c.id == task.c.item_id)
        .join(_from, _from.c.id == task.c.from_location_id)
        .outerjoin(_to, _to.c.id == task.c.to_location_id)
        .outerjoin(zone, zone.c.id == task.c.zone_id)
        .outerjoin(lot, lot.c.id == task.c.lot_id)
    )


def _render(row: Any) -> dict[str, Any]:
    from stockpilot.shared.fields import iso_utc

    body = dict(row._mapping)
    for name in ("due_at", "created_at", "started_at", "confirmed_at"):
        body[name] = iso_utc(body[name])
    body["priority"] = round(float(body["priority"]), 3)
    body["priority_reasons"] = list(body["priority_reasons"] or [])
    if body["type"] == "count":
        body["quantity"] = None  # counts are blind: the counter never sees what is expected
    return body


def get_task(conn: Connection, actor: Actor, task_id: int) -> dict[str, Any]:
    row = conn.execute(_select().where(task.c.id == task_id)).first()
    if row is None:
        raise NotFound(f"task {task_id} not found", field="task_id")
    body = _render(row)
    site_id = conn.execute(sa.select(task.c.site_id).where(task.c.id == task_id)).scalar_one()
    if not actor.can_see_site(site_id):
        raise NotFound(f"task {task_id} not found", field="task_id")
    return body


@dataclass(frozen=True)
class TaskFilter:
    site_id: int | None = None
    type: str | None = None
    status: str | None = None
    wave_id: int | None = None
    document_type: str | None = None
    document_id: int | None = None


def list_tasks(
    conn: Connection, actor: Actor, flt: TaskFilter, *, after_id: int | None, limit: int
) -> list[dict[str, Any]]:
    stmt = scoped_page(_select(), task, actor, after_id=after_id, limit=limit, **asdict(flt))
    return [_render(r) for r in conn.execute(stmt)]


def next_task(
    conn: Connection,
    actor: Actor,
    site_id: int,
    *,
    task_type: str | None = None,
    zone_id: int | None = None,
) -> dict[str, Any] | None:
    """The operator's next task: one already assigned to them, or else the highest-priority
    open task (of the type and zone asked), assigned to them by a guarded update so two
    operators asking at once never get the same task."""
    if actor.user_id is not None:
        mine = conn.execute(
            sa.select(task.c.id)
            .where(
                task.c.assigned_to == actor.user_id,
                task.c.status == "assigned",
                task.c.site_id == site_id,
            )
            .order_by(task.c.priority.desc(), task.c.id)
            .limit(1)
        ).scalar()
        if mine is not None:
            return get_task(conn, actor, int(mine))
    for _attempt in range(5):
        stmt = (
            sa.select(task.c.id)
            .where(task.c.site_id == site_id, task.c.status == "open")
            .order_by(task.c.priority.desc(), task.c.id)
            .limit(1)
        )
        if task_type is not None:
            stmt = stmt.where(task.c.type == task_type)
        if zone_id is not None:
            stmt = stmt.where(task.c.zone_id == zone_id)
        if actor.user_id is not None:  # a recount is never handed to the first counter
            stmt = stmt.where(
                sa.or_(task.c.not_for_user.is_(None), task.c.not_for_user != actor.user_id)
            )
        candidate = conn.execute(stmt).scalar()
        if candidate is None:
            return None
        taken = conn.execute(
            sa.update(task)
            .where(task.c.id == candidate, task.c.status == "open")
            .values(status="assigned", assigned_to=actor.user_id, started_at=utcnow())
        ).rowcount
        if taken == 1:
            return get_task(conn, actor, int(candidate))
    raise Conflict("the queue is busy; ask again", field="task")


# --- the handlers of the moves this module owns -------------------------------------------------


def location_in_site(conn: Connection, site_id: int, code: str, *, field: str = "location") -> Any:
    """A physical location of the task's site by code (404-free: an unknown bin is a 422)."""
    row = conn.execute(
        sa.select(location).where(
            location.c.site_id == site_id, location.c.code == code, location.c.is_virtual.is_(False)
        )
    ).first()
    if row is None:
        raise ValidationFailed(f"unknown location {code!r}", field=field)
    return row


def _move_stock(
    conn: Connection, actor: Actor, row: TaskRow, confirmation: Confirmation
) -> Outcome:
    """Replenishment and move tasks: the stock goes from the task's source to its target (or
    to the bin the operator names, with a reason)."""

    target = row.to_location_id
    if confirmation.location is not None:
        chosen = location_in_site(conn, row.site_id, confirmation.location).id
        if chosen != target and not confirmation.reason:
            raise ValidationFailed(
                "another bin than the one directed needs a reason", field="reason"
            )
        target = chosen
    if target is None:
        raise ValidationFailed("say which bin the stock went to", field="location")
    quantity = row.quantity if confirmation.quantity is None else confirmation.quantity
    post_task_move(conn, actor, row, target, quantity, confirmation.reason, f"task_{row.type}")
    return Outcome(quantity, target)


def post_task_move(
    conn: Connection,
    actor: Actor,
    row: TaskRow,
    target: int,
    quantity: int,
    reason: str | None,
    document_type: str,
) -> None:
    """Post what a task moved: ``quantity`` of its stock key from its source to ``target``."""
    from stockpilot.ledger.keys import MoveLine, PostingContext
    from stockpilot.ledger.posting import post_moves

    if not quantity:
        return
    post_moves(
        conn,
        [
            MoveLine(
                item_id=row.item_id,
                from_location_id=row.from_location_id,
                to_location_id=target,
                quantity=quantity,
                owner_id=row.owner_id,
                lot_id=row.lot_id,
                from_status=row.stock_status,
                to_status=row.stock_status,
                reason_code=reason,
            )
        ],
        PostingContext(document_type=document_type, document_id=row.id, user_id=actor.user_id),
    )


HANDLERS["replenish"] = _move_stock
HANDLERS["move"] = _move_stock
