"""Cycle counts: create them for bins, count them through the task queue, approve variances.

A count has one line per stock key (item, bin, lot, status, owner) it covers and one blind
``count`` task per line: the counter sees the bin and the item, never the quantity. When the
counter confirms the task, the quantity the ledger holds for the key is snapshotted in the same
transaction (its balance row locked, so a concurrent pick or receipt is either wholly before
the snapshot or wholly after it) and the variance is the count minus that snapshot. Nothing
else is locked or frozen: picking and receiving carry on during a count, and a variance that
waits for approval posts as a delta on whatever the bin holds by then — the moves posted
between the count and the approval are reconciled by construction.

The site's policy (counting.rules) decides each variance: post at once, recount by another
operator, or wait for a supervisor, who may not be the person who asked for the count nor one
of its counters (governance.approvals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.adjustments.service import KeyDelta, post_key_adjustment
from stockpilot.counting import rules
from stockpilot.counting.policy import load_policy
from stockpilot.governance.approvals import check_approver
from stockpilot.network.service import site_in_scope
from stockpilot.persistence import journal, raw
from stockpilot.persistence.control_tables import count_line, stock_count
from stockpilot.persistence.tables import balance, item, location, lot, site
from stockpilot.persistence.warehouse_tables import task
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.shared.sql import insert_id
from stockpilot.tasks import service as tasks

OPEN_LINE_STATES = ("open", "recount")
RESOLVED_LINE_STATES = ("accepted", "posted", "cancelled")


@dataclass(frozen=True)
class CountKey:
    """A stock key to count and where its task belongs."""

    item_id: int
    location_id: int
    lot_id: int
    stock_status: str
    owner_id: int
    zone_id: int | None


# --- creating counts ----------------------------------------------------------------------------


def _bins(conn: Connection, site_id: int, codes: Sequence[str]) -> list[int]:
    rows = dict(
        conn.execute(
            sa.select(location.c.code, location.c.id).where(
                location.c.site_id == site_id,
                location.c.code.in_(set(codes)),
                location.c.is_virtual.is_(False),
            )
        ).all()
    )
    for i, code in enumerate(codes):
        if code not in rows:
            raise ValidationFailed(f"unknown location {code!r}", field=f"locations[{i}]")
    return [int(rows[c]) for c in codes]


def _not_being_counted() -> sa.ColumnElement[bool]:
    """No open line of any count covers the balance row's key already."""
    return ~sa.exists().where(
        count_line.c.state.in_(OPEN_LINE_STATES),
        count_line.c.location_id == balance.c.location_id,
        count_line.c.item_id == balance.c.item_id,
        count_line.c.lot_id == balance.c.lot_id,
        count_line.c.stock_status == balance.c.status,
        count_line.c.owner_id == balance.c.owner_id,
    )


def _keys_at(
    conn: Connection, bin_ids: Sequence[int], item_ids: Sequence[int] | None
) -> list[CountKey]:
    stmt = (
        sa.select(
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            balance.c.status,
            balance.c.owner_id,
            location.c.zone_id,
        )
        .join(location, location.c.id == balance.c.location_id)
        .where(
            # Keys the ledger holds at zero are counted too: stock found where none should be.
            balance.c.location_id.in_(sorted(set(bin_ids))),
            _not_being_counted(),
        )
        .order_by(location.c.walk_sequence, location.c.code, balance.c.item_id, balance.c.lot_id)
    )
    if item_ids is not None:
        stmt = stmt.where(balance.c.item_id.in_(sorted(set(item_ids))))
    return [CountKey(*r) for r in conn.execute(stmt)]


def create_count(
    conn: Connection,
    actor: Actor,
    site_code: str,
    location_codes: Sequence[str],
    skus: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A count of the stock keys the ledger knows at ``location_codes`` (of ``skus`` only,
    when given; those at zero included), with one blind count task each. Keys already in an
    open count are left to that count."""
    st = site_in_scope(conn, actor, site_code)
    if not location_codes:
        raise ValidationFailed("name at least one location to count", field="locations")
    bin_ids = _bins(conn, st.id, location_codes)
    item_ids = None
    if skus is not None:
        found = dict(conn.execute(sa.select(item.c.sku, item.c.id).where(item.c.sku.in_(skus))))
        for i, sku in enumerate(skus):
            if sku not in found:
                raise ValidationFailed(f"unknown sku {sku!r}", field=f"skus[{i}]")
        item_ids = list(found.values())
    keys = _keys_at(conn, bin_ids, item_ids)
    if not keys:
        raise Conflict(
            "nothing to count: the ledger has never held stock at these bins, or it is being "
            "counted already",
            field="locations",
        )
    count_id = insert_count(conn, actor, st.id, source="manual")
    add_lines(conn, st.id, count_id, keys, trigger="manual")
    journal.record(
        conn,
        actor,
        action="count.created",
        entity_type="count",
        entity_id=count_id,
        site_id=st.id,
        detail={"site": st.code, "lines": len(keys), "source": "manual"},
        topic="count.created",
    )
    return get_count(conn, actor, count_id)


def insert_count(conn: Connection, actor: Actor, site_id: int, *, source: str) -> int:
    return insert_id(
        conn,
        stock_count.insert().values(
            site_id=site_id, source=source, created_at=utcnow(), created_by=actor.user_id
        ),
    )


def add_lines(
    conn: Connection, site_id: int, count_id: int, keys: Sequence[CountKey], *, trigger: str
) -> list[int]:
    """The count's lines and one blind count task per line (a constant number of
    statements); returns the task ids in line order."""
    line_ids = raw.reserve_ids(conn, "count_line", len(keys))
    task_ids = tasks.create_tasks(
        conn,
        [
            tasks.NewTask(
                type="count",
                site_id=site_id,
                item_id=k.item_id,
                quantity=0,
                from_location_id=k.location_id,
                owner_id=k.owner_id,
                lot_id=k.lot_id,
                stock_status=k.stock_status,
                zone_id=k.zone_id,
                document_type="count",
                document_id=count_id,
                document_line_id=line_id,
            )
            for k, line_id in zip(keys, line_ids, strict=True)
        ],
    )
    raw.insert_rows(
        conn,
        "count_line",
        _LINE_COLUMNS,
        [
            (line_id, count_id, no, k.item_id, k.location_id, k.lot_id, k.stock_status,
             k.owner_id, "open", trigger)
            for no, (k, line_id) in enumerate(zip(keys, line_ids, strict=True), start=1)
        ],
    )  # fmt: skip
    return task_ids


_LINE_COLUMNS = (
    ("id", "bigint"),
    ("count_id", "bigint"),
    ("line_no", "integer"),
    ("item_id", "bigint"),
    ("location_id", "bigint"),
    ("lot_id", "bigint"),
    ("stock_status", "varchar"),
    ("owner_id", "bigint"),
    ("state", "varchar"),
    ("trigger", "varchar"),
)


# --- counting: the task queue's handler -------------------------------------------------------


def _snapshot(conn: Connection, row: tasks.TaskRow) -> int:
    """What the ledger holds for the task's key now, its balance row locked until commit."""
    stmt = sa.select(balance.c.quantity_on_hand).where(
        balance.c.item_id == row.item_id,
        balance.c.location_id == row.from_location_id,
        balance.c.lot_id == row.lot_id,
        balance.c.status == row.stock_status,
        balance.c.owner_id == row.owner_id,
    )
    found = conn.execute(stmt.with_for_update()).scalar()
    return int(found or 0)


def _line_of_task(conn: Connection, actor: Actor, row: tasks.TaskRow) -> Any:
    """The count line a task counts; a count task raised elsewhere (a short pick) becomes a
    one-line count by exception on its first confirmation."""
    if row.document_type != "count" or row.document_line_id is None:
        count_id = insert_count(conn, actor, row.site_id, source="exception")
        key = CountKey(
            row.item_id, row.from_location_id, row.lot_id, row.stock_status, row.owner_id, None
        )
        line_id = raw.reserve_ids(conn, "count_line", 1)[0]
        raw.insert_rows(
            conn,
            "count_line",
            _LINE_COLUMNS,
            [(line_id, count_id, 1, key.item_id, key.location_id, key.lot_id,
              key.stock_status, key.owner_id, "open", "short_pick")],
        )  # fmt: skip
        conn.execute(
            sa.update(task)
            .where(task.c.id == row.id)
            .values(document_type="count", document_id=count_id, document_line_id=line_id)
        )
    else:
        line_id = row.document_line_id
    found = conn.execute(
        sa.select(count_line).where(count_line.c.id == line_id).with_for_update()
    ).first()
    if found is None:
        raise NotFound(f"count line {line_id} not found", field="task_id")
    return found


def confirm_count(
    conn: Connection, actor: Actor, row: tasks.TaskRow, confirmation: tasks.Confirmation
) -> tasks.Outcome:
    """The ``count`` handler: record what the counter found, snapshot what the ledger held,
    and act on the variance as the site's policy says (post, recount, or hold for approval)."""
    if confirmation.quantity is None:
        raise ValidationFailed("say how many you counted", field="quantity")
    if confirmation.location is not None:
        scanned = tasks.location_in_site(conn, row.site_id, confirmation.location)
        if scanned.id != row.from_location_id:
            raise ValidationFailed("count the directed bin", field="location")
    line = _line_of_task(conn, actor, row)
    counted = confirmation.quantity
    expected = _snapshot(conn, row)
    now = utcnow()
    recounted = line.state == "recount"
    if line.state == "open":
        values: dict[str, Any] = {
            "quantity_expected": expected,
            "quantity_counted": counted,
            "counted_by": actor.user_id,
            "counted_at": now,
        }
    elif recounted:
        if actor.user_id is not None and actor.user_id == line.counted_by:
            raise Forbidden("another operator than the first counter recounts", field="task_id")
        values = {
            "quantity_recount_expected": expected,
            "quantity_recounted": counted,
            "recounted_by": actor.user_id,
            "recounted_at": now,
        }
    else:
        raise Conflict(f"count line {line.id} is {line.state}", field="task_id")
    unit_cost = _unit_cost(conn, row.item_id)
    variance = counted - expected
    value = rules.variance_value(variance, unit_cost)
    head = _count_head(conn, line.count_id)
    decision = rules.decide_variance(
        variance, value, load_policy(conn, head.site_id), recounted=recounted
    )
    state = {"recount": "recount", "approve": "review"}.get(
        decision, "posted" if variance else "accepted"
    )
    values |= {
        "quantity_variance": variance,
        "variance_value": value,
        "unit_cost": unit_cost,
        "state": state,
    }
    _transition_line(conn, line.id, line.state, values)
    follow_up: list[int] = []
    if decision == "recount":
        follow_up = _recount_task(conn, head, line, actor)
    elif decision == "accept" and variance:
        _post_variances(conn, actor, head, [(line, variance, unit_cost)], approved_by=None)
    _refresh_head(conn, head.id)
    return tasks.Outcome(
        counted, row.from_location_id, {"count": head.id, "follow_up_tasks": follow_up}
    )


def _unit_cost(conn: Connection, item_id: int) -> Decimal | None:
    found = conn.execute(sa.select(item.c.unit_cost).where(item.c.id == item_id)).scalar()
    return None if found is None else Decimal(str(found))


def _count_head(conn: Connection, count_id: int) -> Any:
    return conn.execute(sa.select(stock_count).where(stock_count.c.id == count_id)).one()


def _transition_line(
    conn: Connection, line_id: int, from_state: str, values: dict[str, Any]
) -> None:
    changed = conn.execute(
        sa.update(count_line)
        .where(count_line.c.id == line_id, count_line.c.state == from_state)
        .values(**values)
    ).rowcount
    if changed != 1:
        raise Conflict(f"count line {line_id} changed meanwhile", field="task_id")


def _recount_task(conn: Connection, head: Any, line: Any, actor: Actor) -> list[int]:
    zone_id = conn.execute(
        sa.select(location.c.zone_id).where(location.c.id == line.location_id)
    ).scalar()
    (task_id,) = tasks.create_tasks(
        conn,
        [
            tasks.NewTask(
                type="count",
                site_id=head.site_id,
                item_id=line.item_id,
                quantity=0,
                from_location_id=line.location_id,
                owner_id=line.owner_id,
                lot_id=line.lot_id,
                stock_status=line.stock_status,
                zone_id=zone_id,
                document_type="count",
                document_id=head.id,
                document_line_id=line.id,
                priority_boost=1.0,
                boost_reason="recount",
            )
        ],
    )
    conn.execute(sa.update(task).where(task.c.id == task_id).values(not_for_user=actor.user_id))
    return [task_id]


def _refresh_head(conn: Connection, count_id: int) -> str:
    """The count's state from its lines: open while a line waits for a (re)count, counted
    while one waits for approval, closed when every line is resolved."""
    states = {
        s
        for (s,) in conn.execute(
            sa.select(count_line.c.state).where(count_line.c.count_id == count_id).distinct()
        )
    }
    status = (
        "open" if states & set(OPEN_LINE_STATES) else "counted" if "review" in states else "closed"
    )
    conn.execute(
        sa.update(stock_count)
        .where(stock_count.c.id == count_id, stock_count.c.status != status)
        .values(
            status=status,
            version=stock_count.c.version + 1,
            closed_at=utcnow() if status == "closed" else None,
        )
    )
    return status


def _post_variances(
    conn: Connection,
    actor: Actor,
    head: Any,
    lines: Sequence[tuple[Any, int, Decimal | None]],
    *,
    approved_by: int | None,
) -> int:
    """Post the lines' variances as one adjustment (reason COUNT) and link them to it."""
    adjustment_id = post_key_adjustment(
        conn,
        actor,
        head.site_id,
        [
            KeyDelta(
                ln.item_id, ln.location_id, ln.lot_id, ln.stock_status, ln.owner_id, delta, cost
            )
            for ln, delta, cost in lines
        ],
        reason_code="COUNT",
        source="count",
        source_id=head.id,
        requested_by=head.created_by,
        decided_by=approved_by,
    )
    conn.execute(
        sa.update(count_line)
        .where(count_line.c.id.in_(sorted(ln.id for ln, _, _ in lines)))
        .values(adjustment_id=adjustment_id, posted_at=utcnow(), approved_by=approved_by)
    )
    return adjustment_id


# --- approving ----------------------------------------------------------------------------------


def approve_count(conn: Connection, actor: Actor, count_id: int) -> dict[str, Any]:
    """Post every variance of the count that waits for approval, as one adjustment. The
    approver holds ``counts:approve`` and is neither the requester nor one of the counters.
    Of two concurrent approvals one posts; the other finds nothing left (409)."""
    head = _visible_head(conn, actor, count_id)
    waiting = conn.execute(
        sa.select(count_line).where(
            count_line.c.count_id == count_id, count_line.c.state == "review"
        )
    ).all()
    check_approver(
        actor,
        permission="counts:approve",
        requested_by=head.created_by,
        what=f"count {count_id}",
        also_excluded=[u for ln in waiting for u in (ln.counted_by, ln.recounted_by)],
    )
    if head.status == "closed":
        return get_count(conn, actor, count_id)  # every line resolved: nothing waits
    locked = conn.execute(
        sa.update(stock_count)
        .where(stock_count.c.id == count_id, stock_count.c.status.in_(("open", "counted")))
        .values(version=stock_count.c.version + 1)
    ).rowcount
    if locked != 1:
        raise Conflict(f"count {count_id} is {head.status}", field="count_id")
    # Read again under the count's lock: a concurrent approval may have taken them.
    waiting = conn.execute(
        sa.select(count_line)
        .where(count_line.c.count_id == count_id, count_line.c.state == "review")
        .order_by(count_line.c.id)
    ).all()
    if not waiting:
        raise Conflict(f"count {count_id} has no variance waiting for approval", field="count_id")
    claimed = conn.execute(
        sa.update(count_line)
        .where(count_line.c.id.in_([ln.id for ln in waiting]), count_line.c.state == "review")
        .values(state="posted")
    ).rowcount
    if claimed != len(waiting):
        raise Conflict(f"count {count_id} was approved meanwhile", field="count_id")
    variances = [
        (
            ln,
            int(ln.quantity_variance),
            None if ln.unit_cost is None else Decimal(str(ln.unit_cost)),
        )
        for ln in waiting
    ]
    adjustment_id = _post_variances(conn, actor, head, variances, approved_by=actor.user_id)
    _refresh_head(conn, count_id)
    journal.record(
        conn,
        actor,
        action="count.approved",
        entity_type="count",
        entity_id=count_id,
        site_id=head.site_id,
        reason="COUNT",
        detail={
            "lines": len(waiting),
            "quantity_variance": sum(v for _, v, _ in variances),
            "adjustment": adjustment_id,
        },
        topic="count.approved",
    )
    return get_count(conn, actor, count_id)


def cancel_count(conn: Connection, actor: Actor, count_id: int) -> dict[str, Any]:
    """Cancel what is still open of a count (its tasks and unposted lines); posted lines stay."""
    head = _visible_head(conn, actor, count_id)
    changed = conn.execute(
        sa.update(stock_count)
        .where(stock_count.c.id == count_id, stock_count.c.status.in_(("open", "counted")))
        .values(status="cancelled", version=stock_count.c.version + 1, closed_at=utcnow())
    ).rowcount
    if changed != 1:
        raise Conflict(f"count {count_id} is {head.status}", field="count_id")
    conn.execute(
        sa.update(count_line)
        .where(
            count_line.c.count_id == count_id,
            count_line.c.state.in_((*OPEN_LINE_STATES, "review")),
        )
        .values(state="cancelled")
    )
    open_tasks = conn.execute(
        sa.select(task.c.id).where(
            task.c.document_type == "count",
            task.c.document_id == count_id,
            task.c.status.in_(tasks.OPEN_STATES),
        )
    ).scalars()
    tasks.cancel_tasks(conn, [int(t) for t in open_tasks])
    journal.record(
        conn, actor, action="count.cancelled", entity_type="count", entity_id=count_id,
        site_id=head.site_id, topic="count.cancelled",
    )  # fmt: skip
    return get_count(conn, actor, count_id)


# --- reading ------------------------------------------------------------------------------------


def _visible_head(conn: Connection, actor: Actor, count_id: int) -> Any:
    head = conn.execute(sa.select(stock_count).where(stock_count.c.id == count_id)).first()
    if head is None or not actor.can_see_site(head.site_id):
        raise NotFound(f"count {count_id} not found", field="count_id")
    return head


def get_count(
    conn: Connection, actor: Actor, count_id: int, *, line_limit: int = 1000
) -> dict[str, Any]:
    """A count with its lines (the first ``line_limit``), their variances once counted, and
    their open tasks."""
    head = _visible_head(conn, actor, count_id)
    site_code = conn.execute(sa.select(site.c.code).where(site.c.id == head.site_id)).scalar_one()
    open_tasks = dict(
        conn.execute(
            sa.select(task.c.document_line_id, task.c.id).where(
                task.c.document_type == "count",
                task.c.document_id == count_id,
                task.c.status.in_(tasks.OPEN_STATES),
            )
        ).all()
    )
    totals = conn.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(count_line.c.quantity_variance), 0)
        ).where(count_line.c.count_id == count_id)
    ).one()
    rows = conn.execute(
        sa.select(
            count_line,
            item.c.sku,
            location.c.code.label("location"),
            lot.c.lot_code,
        )
        .join(item, item.c.id == count_line.c.item_id)
        .join(location, location.c.id == count_line.c.location_id)
        .outerjoin(lot, lot.c.id == count_line.c.lot_id)
        .where(count_line.c.count_id == count_id)
        .order_by(count_line.c.line_no)
        .limit(line_limit)
    ).all()
    return _render_head(
        head,
        site_code,
        int(totals[0]),
        int(totals[1]),
        sorted(int(t) for t in open_tasks.values()),
        [_render_line(r, open_tasks.get(r.id)) for r in rows],
    )


def _render_line(r: Any, task_id: int | None) -> dict[str, Any]:
    return {
        "line_no": r.line_no,
        "sku": r.sku,
        "location": r.location,
        "lot": r.lot_code,
        "stock_status": r.stock_status,
        "state": r.state,
        "trigger": r.trigger,
        "task": task_id,
        "quantity_expected": r.quantity_expected,
        "quantity_counted": r.quantity_counted,
        "counted_by": r.counted_by,
        "quantity_recount_expected": r.quantity_recount_expected,
        "quantity_recounted": r.quantity_recounted,
        "recounted_by": r.recounted_by,
        "quantity_variance": r.quantity_variance,
        "variance_value": None if r.variance_value is None else str(Decimal(str(r.variance_value))),
        "approved_by": r.approved_by,
        "adjustment": r.adjustment_id,
    }


def list_counts(
    conn: Connection,
    actor: Actor,
    *,
    site_id: int | None,
    status: str | None,
    after_id: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """One page of counts without their lines: three statements for any page size."""
    from stockpilot.shared.sql import scoped_page

    stmt = scoped_page(
        sa.select(stock_count, site.c.code.label("site_code")).join(
            site, site.c.id == stock_count.c.site_id
        ),
        stock_count, actor, after_id=after_id, limit=limit, site_id=site_id, status=status,
    )  # fmt: skip
    heads = conn.execute(stmt).all()
    ids = [h.id for h in heads]
    totals = {
        r.count_id: (int(r.lines), int(r.variance))
        for r in conn.execute(
            sa.select(
                count_line.c.count_id,
                sa.func.count().label("lines"),
                sa.func.coalesce(sa.func.sum(count_line.c.quantity_variance), 0).label("variance"),
            )
            .where(count_line.c.count_id.in_(ids))
            .group_by(count_line.c.count_id)
        )
    }
    open_tasks: dict[int, list[int]] = {i: [] for i in ids}
    for doc_id, task_id in conn.execute(
        sa.select(task.c.document_id, task.c.id)
        .where(
            task.c.document_type == "count",
            task.c.document_id.in_(ids),
            task.c.status.in_(tasks.OPEN_STATES),
        )
        .order_by(task.c.id)
    ):
        open_tasks[int(doc_id)].append(int(task_id))
    return [
        _render_head(h, h.site_code, *totals.get(h.id, (0, 0)), open_tasks[h.id], []) for h in heads
    ]


def _render_head(
    head: Any,
    site_code: str,
    lines_total: int,
    variance: int,
    open_tasks: list[int],
    lines: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": head.id,
        "site": site_code,
        "status": head.status,
        "source": head.source,
        "blind": bool(head.blind),
        "created_at": iso_utc(head.created_at),
        "created_by": head.created_by,
        "closed_at": iso_utc(head.closed_at),
        "lines_total": lines_total,
        "quantity_variance": variance,
        "tasks": open_tasks,
        "lines": lines,
    }


def count_accuracy(conn: Connection, actor: Actor, site_code: str) -> dict[str, Any]:
    """Count accuracy of a site and of each operator: lines whose first count matched the
    ledger over lines counted (KPI), from the count lines themselves."""
    st = site_in_scope(conn, actor, site_code)
    rows = conn.execute(
        sa.select(
            count_line.c.counted_by, count_line.c.quantity_expected, count_line.c.quantity_counted
        )
        .join(stock_count, stock_count.c.id == count_line.c.count_id)
        .where(stock_count.c.site_id == st.id, count_line.c.counted_at.is_not(None))
    ).all()
    results = [
        rules.CountResult(r.counted_by, int(r.quantity_counted - r.quantity_expected)) for r in rows
    ]
    by_operator: dict[int | None, list[rules.CountResult]] = {}
    for r in results:
        by_operator.setdefault(r.counted_by, []).append(r)

    def render(acc: rules.Accuracy) -> dict[str, Any]:
        return {
            "lines_counted": acc.lines_counted,
            "lines_exact": acc.lines_exact,
            "accuracy": acc.accuracy,
        }

    return {
        "site": st.code,
        **render(rules.accuracy(results)),
        "operators": [
            {"user_id": user, **render(rules.accuracy(rs))}
            for user, rs in sorted(by_operator.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
    }


tasks.HANDLERS["count"] = confirm_count
