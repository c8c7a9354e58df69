"""The task queue as columns: priority scores and "next task for me" over every open task of a
site at once (tens of thousands), with the same rules and numbers as ``tasks.priority``.

``tasks.priority`` explains one task at a time and suits short lists; here the same score is
computed with NumPy over a :class:`TaskTable` (built once from the open tasks, rebuilt when
they change) and only the few tasks returned are explained, by ``tasks.priority`` itself, so
the reasons an operator sees are the same words whichever path chose the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from stockpilot.shared.errors import ValidationFailed
from stockpilot.tasks.priority import (
    TASK_TYPES,
    Operator,
    PriorityWeights,
    RankedTask,
    TaskFacts,
    TaskPriority,
    lift_reason,
    ranked_task,
    score_task,
)

__all__ = ["TaskTable", "next_tasks_from_table", "score_table"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _seconds(moment: datetime) -> float:
    # Naive datetimes are taken as UTC, aware ones as they are: both sides are converted alike.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _codes(values: Sequence[str | None]) -> tuple[npt.NDArray[np.int32], tuple[str, ...]]:
    labels = tuple(sorted({v for v in values if v is not None}))
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index.get(v, -1) if v is not None else -1 for v in values], np.int32), labels


@dataclass(frozen=True, eq=False)
class TaskTable:
    """Open tasks as read-only columns (one row per task, in the order given).

    ``feed_from``/``feed_to`` are row pairs: the replenishment in row ``feed_from[k]`` must
    precede the task in row ``feed_to[k]``. ``facts`` keeps the rows as :class:`TaskFacts` to
    explain the few tasks chosen.
    """

    facts: tuple[TaskFacts, ...]
    task_id: IntArray
    type_code: npt.NDArray[np.int32]
    created_s: FloatArray
    ship_by_s: FloatArray
    customer_priority: FloatArray
    zone: npt.NDArray[np.int32]
    zone_labels: tuple[str, ...]
    assigned: npt.NDArray[np.int32]
    assigned_labels: tuple[str, ...]
    x: FloatArray
    y: FloatArray
    feed_from: IntArray
    feed_to: IntArray

    @classmethod
    def from_facts(cls, tasks: Sequence[TaskFacts]) -> TaskTable:
        """Columns of ``tasks``; a repeated task id is refused.

        >>> now = datetime(2026, 12, 1, 10, 0)
        >>> table = TaskTable.from_facts([TaskFacts(1, "pick", now), TaskFacts(2, "move", now)])
        >>> len(table), table.task_id.tolist()
        (2, [1, 2])
        """
        ids = [t.task_id for t in tasks]
        row = {task_id: i for i, task_id in enumerate(ids)}
        if len(row) != len(ids):
            raise ValidationFailed("tasks repeat a task id", field="task_id")
        zone, zone_labels = _codes([t.zone for t in tasks])
        assigned, assigned_labels = _codes([t.assigned_to for t in tasks])
        nan = float("nan")
        pairs = [
            (i, row[fed])
            for i, t in enumerate(tasks)
            if t.task_type == "replenish"
            for fed in t.feeds
            if fed in row
        ]
        columns: dict[str, npt.NDArray[np.generic]] = {
            "task_id": np.array(ids, dtype=np.int64),
            "type_code": np.array([TASK_TYPES.index(t.task_type) for t in tasks], np.int32),
            "created_s": np.array([_seconds(t.created_at) for t in tasks], np.float64),
            "ship_by_s": np.array(
                [nan if t.ship_by is None else _seconds(t.ship_by) for t in tasks], np.float64
            ),
            "customer_priority": np.array(
                [nan if t.customer_priority is None else t.customer_priority for t in tasks],
                np.float64,
            ),
            "zone": zone,
            "assigned": assigned,
            "x": np.array([nan if t.x is None else t.x for t in tasks], np.float64),
            "y": np.array([nan if t.y is None else t.y for t in tasks], np.float64),
            "feed_from": np.array([p[0] for p in pairs], np.int64),
            "feed_to": np.array([p[1] for p in pairs], np.int64),
        }
        for array in columns.values():
            array.setflags(write=False)
        return cls(
            facts=tuple(tasks),
            zone_labels=zone_labels,
            assigned_labels=assigned_labels,
            **columns,  # type: ignore[arg-type]
        )

    def __len__(self) -> int:
        return int(self.task_id.size)


def _own_scores(table: TaskTable, now: datetime, weights: PriorityWeights) -> FloatArray:
    """``score_task`` for every row, summed in the same order so the floats agree."""
    now_s = _seconds(now)
    base = np.array([weights.type_base.get(t, 0.0) for t in TASK_TYPES])[table.type_code]
    horizon = weights.ship_by_horizon_minutes
    left = (table.ship_by_s - now_s) / 60.0
    ship = weights.ship_by * np.clip((horizon - left) / horizon, 0.0, 1.2)
    customer = weights.customer * (5 - table.customer_priority) / 4
    age = np.maximum(0.0, (now_s - table.created_s) / 60.0)
    aged = weights.age * np.minimum(1.0, age / weights.age_horizon_minutes)
    return np.round(base + np.nan_to_num(ship) + np.nan_to_num(customer) + aged, 6)


def score_table(
    table: TaskTable, now: datetime, weights: PriorityWeights = PriorityWeights()
) -> FloatArray:
    """The priority of every row, replenishments lifted above the tasks they feed.

    >>> now = datetime(2026, 12, 1, 10, 0)
    >>> table = TaskTable.from_facts([TaskFacts(1, "pick", now, customer_priority=1),
    ...                               TaskFacts(2, "replenish", now, feeds=(1,))])
    >>> score_table(table, now).tolist()
    [20.0, 21.0]
    """
    return _lifted(table, _own_scores(table, now, weights), weights)


def _lifted(table: TaskTable, own: FloatArray, weights: PriorityWeights) -> FloatArray:
    if not table.feed_from.size:
        return own
    best = np.full(len(table), -np.inf)
    np.maximum.at(best, table.feed_from, own[table.feed_to])
    return np.maximum(own, np.round(best + weights.replenish_margin, 6))


def next_tasks_from_table(
    table: TaskTable,
    operator: Operator,
    now: datetime,
    *,
    limit: int = 1,
    weights: PriorityWeights = PriorityWeights(),
) -> tuple[RankedTask, ...]:
    """``tasks.priority.next_tasks`` over a whole table: the same eligibility (reservation,
    zones), order (reserved for the operator first, then priority − travel, then age, id) and
    reasons, computed in columns.

    >>> now = datetime(2026, 12, 1, 10, 0)
    >>> table = TaskTable.from_facts([
    ...     TaskFacts(1, "pick", now, customer_priority=3, zone="A", x=2, y=0),
    ...     TaskFacts(2, "pick", now, customer_priority=3, zone="A", x=90, y=0),
    ...     TaskFacts(3, "pick", now, customer_priority=1, zone="B", x=1, y=0)])
    >>> me = Operator("ana", zones=frozenset({"A"}), x=0, y=0)
    >>> [t.task_id for t in next_tasks_from_table(table, me, now, limit=3)]
    [1, 2]
    """
    if limit < 1:
        raise ValidationFailed("limit must be at least 1", field="limit")
    own = _own_scores(table, now, weights)
    scores = _lifted(table, own, weights)
    me = _label(table.assigned_labels, operator.operator_id)
    ok = (table.assigned == -1) | (table.assigned == me)
    if operator.zones:
        # A lookup by zone code (shifted by one: code -1 is "no zone", never allowed).
        allowed = np.zeros(len(table.zone_labels) + 1, dtype=bool)
        for z in operator.zones:
            if z in table.zone_labels:
                allowed[table.zone_labels.index(z) + 1] = True
        ok &= allowed[table.zone + 1]
    if operator.x is not None and operator.y is not None:
        travel = np.abs(table.x - operator.x) + np.abs(table.y - operator.y)
        rank = np.round(scores - np.nan_to_num(travel) / weights.distance_per_point, 6)
    else:
        rank = scores
    chosen = _best(np.flatnonzero(ok & (table.assigned == me)), rank, table, limit)
    if len(chosen) < limit:
        chosen += _best(
            np.flatnonzero(ok & (table.assigned != me)), rank, table, limit - len(chosen)
        )
    return tuple(_explain(table, i, scores, own, operator, now, weights) for i in chosen)


def _label(labels: tuple[str, ...], value: str) -> int:
    return labels.index(value) if value in labels else -2  # -2 matches no row


def _best(rows: IntArray, rank: FloatArray, table: TaskTable, k: int) -> list[int]:
    """The ``k`` best rows by (−rank, created, id), partitioning before the exact sort."""
    if rows.size == 0:
        return []
    if rows.size > 4 * k:
        threshold = np.partition(-rank[rows], k - 1)[k - 1]
        rows = rows[-rank[rows] <= threshold]  # every tie at the threshold stays in
    order = np.lexsort((table.task_id[rows], table.created_s[rows], -rank[rows]))
    return [int(i) for i in rows[order[:k]]]


def _explain(
    table: TaskTable,
    i: int,
    scores: FloatArray,
    own_scores: FloatArray,
    operator: Operator,
    now: datetime,
    weights: PriorityWeights,
) -> RankedTask:
    fact = table.facts[i]
    score = float(scores[i])
    own = score_task(fact, now, weights)
    reasons = own.reasons
    if score > own.score:
        fed = table.feed_to[table.feed_from == i]
        best = float(own_scores[fed].max())
        ids = [int(table.task_id[j]) for j in fed]
        reasons = (*reasons, lift_reason(ids, best, weights))
    return ranked_task(TaskPriority(fact.task_id, score, reasons), fact, operator, weights)
