"""Count programs: which stock of a site is due for counting today, as one count.

A stock key (item, bin, lot, status, owner) holding stock is due when one of these holds, the
first that applies naming its ``trigger``:

1. ``variance`` — a variance was posted for the item at that bin in the last 90 days;
2. ``short_demand`` — an open order line of the item at the site asked for more than was
   available (allocation recorded a short cause: the stock may be there after all);
3. ``value`` — its on-hand value reaches the site's value threshold (when set);
4. ``not_counted`` — it was not counted for the site's N days (when set);
5. ``A`` / ``B`` / ``C`` — its item's ABC class (the latest planning run's, C without one) is
   due: last counted longer ago than the class's frequency (30 / 90 / 365 days by default).
   Stock never counted is spread over the frequency — a key is due on the day its item's id
   falls on (``item_id mod days = day number mod days``), so a site counts each class evenly
   through its cycle instead of everything on the first day.

Short picks raise their count task at once (outbound.picking); such a task becomes a count
by exception when it is confirmed (counting.service).

The whole program is a constant number of statements, whatever the size of the site: one
INSERT … SELECT of the lines (every rule above is in its WHERE clause), one INSERT … SELECT of
their blind count tasks, one summary read.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.counting.policy import load_policy
from stockpilot.counting.rules import ControlPolicy
from stockpilot.counting.service import OPEN_LINE_STATES, insert_count
from stockpilot.network.service import site_in_scope
from stockpilot.persistence import journal
from stockpilot.persistence.control_tables import count_line, stock_count
from stockpilot.persistence.planning_tables import item_location_policy
from stockpilot.persistence.tables import (
    balance,
    item,
    location,
    sales_order,
    sales_order_line,
)
from stockpilot.persistence.warehouse_tables import task
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today, utcnow
from stockpilot.tasks.priority import TaskFacts, score_task

VARIANCE_HISTORY_DAYS = 90
CLOSED_ORDER_STATES = ("cancelled", "closed", "shipped")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time())


def due_lines(site_id: int, policy: ControlPolicy, on: date) -> sa.Select[Any]:
    """The stock keys of ``site_id`` due for counting ``on`` with their trigger (see the
    module's docstring), in walk order."""
    latest_run = (
        sa.select(sa.func.max(item_location_policy.c.run_id))
        .where(item_location_policy.c.site_id == site_id)
        .scalar_subquery()
    )
    abc = (
        sa.select(item_location_policy.c.item_id, item_location_policy.c.abc)
        .where(
            item_location_policy.c.site_id == site_id,
            item_location_policy.c.run_id == latest_run,
        )
        .subquery("abc")
    )
    since = _start_of(on - timedelta(days=VARIANCE_HISTORY_DAYS))
    history = (
        sa.select(
            count_line.c.location_id,
            count_line.c.item_id,
            sa.func.max(count_line.c.counted_at).label("last_counted"),
            sa.func.max(
                sa.case(
                    (
                        sa.and_(
                            count_line.c.quantity_variance != 0,
                            count_line.c.posted_at >= since,
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("had_variance"),
        )
        .join(stock_count, stock_count.c.id == count_line.c.count_id)
        .where(stock_count.c.site_id == site_id, count_line.c.counted_at.is_not(None))
        .group_by(count_line.c.location_id, count_line.c.item_id)
        .subquery("history")
    )
    klass = sa.func.coalesce(abc.c.abc, "C")
    days = sa.case(
        (klass == "A", policy.count_days_a),
        (klass == "B", policy.count_days_b),
        else_=policy.count_days_c,
    )
    due_before = sa.case(
        (klass == "A", _start_of(on - timedelta(days=policy.count_days_a))),
        (klass == "B", _start_of(on - timedelta(days=policy.count_days_b))),
        else_=_start_of(on - timedelta(days=policy.count_days_c)),
    )
    day_number = on.toordinal()
    by_class = sa.or_(
        sa.and_(
            history.c.last_counted.is_(None),
            balance.c.item_id % days == sa.literal(day_number) % days,
        ),
        history.c.last_counted < due_before,
    )
    short_items = (
        sa.select(sales_order_line.c.item_id)
        .join(sales_order, sales_order.c.id == sales_order_line.c.order_id)
        .where(
            sales_order.c.site_id == site_id,
            sales_order.c.status.not_in(CLOSED_ORDER_STATES),
            sales_order_line.c.short_cause.is_not(None),
            sales_order_line.c.quantity_shipped < sales_order_line.c.quantity,
        )
    )
    whens: list[tuple[Any, Any]] = [
        (history.c.had_variance == 1, "variance"),
        (balance.c.item_id.in_(short_items), "short_demand"),
    ]
    if policy.value_threshold is not None:
        whens.append(
            (balance.c.quantity_on_hand * item.c.unit_cost >= policy.value_threshold, "value")
        )
    if policy.not_counted_days is not None:
        stale = _start_of(on - timedelta(days=policy.not_counted_days))
        whens.append(
            (
                sa.or_(history.c.last_counted.is_(None), history.c.last_counted < stale),
                "not_counted",
            )
        )
    whens.append((by_class, klass))
    trigger = sa.case(*whens, else_=sa.null())
    being_counted = sa.exists().where(
        count_line.c.state.in_(OPEN_LINE_STATES),
        count_line.c.location_id == balance.c.location_id,
        count_line.c.item_id == balance.c.item_id,
        count_line.c.lot_id == balance.c.lot_id,
        count_line.c.stock_status == balance.c.status,
        count_line.c.owner_id == balance.c.owner_id,
    )
    keys = (
        sa.select(
            balance.c.item_id,
            balance.c.location_id,
            balance.c.lot_id,
            balance.c.status,
            balance.c.owner_id,
            trigger.label("trigger"),
            location.c.walk_sequence,
            location.c.code,
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(item, item.c.id == balance.c.item_id)
        .outerjoin(abc, abc.c.item_id == balance.c.item_id)
        .outerjoin(
            history,
            sa.and_(
                history.c.location_id == balance.c.location_id,
                history.c.item_id == balance.c.item_id,
            ),
        )
        .where(
            location.c.site_id == site_id,
            location.c.is_virtual.is_(False),
            balance.c.quantity_on_hand > 0,
            ~being_counted,
        )
        .subquery("keys")
    )
    return (
        sa.select(keys)
        .where(keys.c.trigger.is_not(None))
        .order_by(keys.c.walk_sequence, keys.c.code, keys.c.item_id, keys.c.lot_id)
    )


def create_program(
    conn: Connection, actor: Actor, site_code: str, *, on: date | None = None
) -> dict[str, Any]:
    """Create today's count program of a site as one count (nothing when nothing is due)."""
    st = site_in_scope(conn, actor, site_code)
    policy = load_policy(conn, st.id)
    due = due_lines(st.id, policy, on or today()).subquery("due")
    count_id = insert_count(conn, actor, st.id, source="program")
    numbered = sa.select(
        sa.literal(count_id),
        sa.func.row_number().over(
            order_by=(due.c.walk_sequence, due.c.code, due.c.item_id, due.c.lot_id)
        ),
        due.c.item_id,
        due.c.location_id,
        due.c.lot_id,
        due.c.status,
        due.c.owner_id,
        sa.literal("open"),
        due.c.trigger,
    )
    conn.execute(
        count_line.insert().from_select(
            [
                "count_id", "line_no", "item_id", "location_id", "lot_id", "stock_status",
                "owner_id", "state", "trigger",
            ],
            numbered,
        )
    )  # fmt: skip
    # (The driver's row count of an INSERT … SELECT is not reliable on every backend.)
    by_trigger = {
        str(t): int(n)
        for t, n in conn.execute(
            sa.select(count_line.c.trigger, sa.func.count())
            .where(count_line.c.count_id == count_id)
            .group_by(count_line.c.trigger)
        )
    }
    inserted = sum(by_trigger.values())
    if not inserted:
        conn.execute(sa.delete(stock_count).where(stock_count.c.id == count_id))
        return {"site": st.code, "count": None, "lines": 0, "by_trigger": {}}
    _insert_tasks(conn, st.id, count_id)
    journal.record(
        conn,
        actor,
        action="count.created",
        entity_type="count",
        entity_id=count_id,
        site_id=st.id,
        detail={"site": st.code, "lines": inserted, "source": "program", "by_trigger": by_trigger},
        topic="count.created",
    )
    return {"site": st.code, "count": count_id, "lines": int(inserted), "by_trigger": by_trigger}


def _insert_tasks(conn: Connection, site_id: int, count_id: int) -> None:
    """One blind count task per line of the count, in one INSERT … SELECT."""
    now = utcnow()
    scored = score_task(TaskFacts(task_id=0, task_type="count", created_at=now), now)
    reasons = json.dumps(list(scored.reasons))
    reasons_value: Any = (
        sa.cast(sa.literal(reasons), sa.JSON)
        if conn.dialect.name == "postgresql"
        else sa.literal(reasons)
    )
    rows = (
        sa.select(
            sa.literal("count"),
            sa.literal(site_id),
            sa.literal("open"),
            sa.literal(scored.score),
            reasons_value,
            count_line.c.item_id,
            count_line.c.lot_id,
            count_line.c.stock_status,
            count_line.c.owner_id,
            sa.literal(0),
            count_line.c.location_id,
            location.c.zone_id,
            sa.literal("count"),
            sa.literal(count_id),
            count_line.c.id,
            sa.literal(now, sa.DateTime),
        )
        .join(location, location.c.id == count_line.c.location_id)
        .where(count_line.c.count_id == count_id)
    )
    conn.execute(
        task.insert().from_select(
            [
                "type", "site_id", "status", "priority", "priority_reasons", "item_id", "lot_id",
                "stock_status", "owner_id", "quantity", "from_location_id", "zone_id",
                "document_type", "document_id", "document_line_id", "created_at",
            ],
            rows,
        )
    )  # fmt: skip
