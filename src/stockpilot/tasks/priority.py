"""Task priority: one score per warehouse task, with the reasons it is made of, and the
"next task for me" ranking of an operator. Plain data in, no database.

The score is a sum of documented parts (see :class:`PriorityWeights`), higher first:

- **ship-by**: minutes to the route cut-off of the order the task serves; nothing until the
  horizon (8 h by default), then rising linearly to the full weight at the cut-off, and up to
  1.2 × the weight once past it.
- **customer priority**: 1 (highest) … 5 (lowest) → (5 − p) / 4 of the weight; tasks that serve
  no customer get nothing.
- **age**: minutes since the task was created, up to the age horizon (4 h) → full weight.
- **type**: a small base per task type (putaway clears the dock).
- **replenish-before-pick**: a replenishment that picks need scores at least the best of those
  picks plus a margin, so it is always done first.

Ties are broken by creation time, then task id, so the order is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from stockpilot.shared.errors import ValidationFailed

__all__ = [
    "Operator",
    "PriorityWeights",
    "RankedTask",
    "TaskFacts",
    "TaskPriority",
    "TaskType",
    "lift_reason",
    "next_tasks",
    "prioritise",
    "ranked_task",
    "score_task",
]

TaskType = Literal["putaway", "pick", "replenish", "count", "move"]
TASK_TYPES: tuple[str, ...] = ("putaway", "pick", "replenish", "count", "move")


@dataclass(frozen=True)
class TaskFacts:
    """What the priority of one open task depends on.

    ``feeds`` lists the pick tasks a replenishment must precede; ``x``/``y`` is where the task
    starts (its from-location), ``zone`` the zone of that location; ``assigned_to`` an operator
    the task is reserved for.
    """

    task_id: int
    task_type: TaskType
    created_at: datetime
    ship_by: datetime | None = None
    customer_priority: int | None = None
    feeds: tuple[int, ...] = ()
    zone: str | None = None
    x: float | None = None
    y: float | None = None
    assigned_to: str | None = None

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise ValidationFailed(
                f"task_type must be one of {', '.join(TASK_TYPES)}", field="task_type"
            )
        p = self.customer_priority
        if p is not None and not 1 <= p <= 5:
            raise ValidationFailed(
                "customer_priority must be 1 (highest) to 5", field="customer_priority"
            )


def _default_type_base() -> dict[str, float]:
    return {"putaway": 5.0, "replenish": 0.0, "pick": 0.0, "count": 0.0, "move": 0.0}


@dataclass(frozen=True)
class PriorityWeights:
    """Weights (points) and horizons (minutes) of the priority score."""

    ship_by: float = 50.0
    ship_by_horizon_minutes: float = 480.0
    customer: float = 20.0
    age: float = 10.0
    age_horizon_minutes: float = 240.0
    replenish_margin: float = 1.0
    type_base: Mapping[str, float] = field(default_factory=_default_type_base)
    distance_per_point: float = 10.0  # next-task: 10 units of travel cost one point


@dataclass(frozen=True)
class TaskPriority:
    """A task's score and the reasons (one per part that counted)."""

    task_id: int
    score: float
    reasons: tuple[str, ...]


def _minutes(delta_seconds: float) -> float:
    return delta_seconds / 60.0


def score_task(
    task: TaskFacts, now: datetime, weights: PriorityWeights = PriorityWeights()
) -> TaskPriority:
    """The score of one task on its own (without replenish-before-pick; see :func:`prioritise`).

    >>> now = datetime(2026, 12, 1, 10, 0)
    >>> pick = TaskFacts(1, "pick", datetime(2026, 12, 1, 8, 0),
    ...                  ship_by=datetime(2026, 12, 1, 12, 0), customer_priority=1)
    >>> p = score_task(pick, now)
    >>> p.score
    62.5
    >>> p.reasons
    ('route cut-off in 120 min → 37.5', 'customer priority 1 → 20.0', 'waiting 120 min → 5.0')
    """
    score, reasons = weights.type_base.get(task.task_type, 0.0), []
    if score:
        reasons.append(f"{task.task_type} task → {score:.1f}")
    if task.ship_by is not None:
        left = _minutes((task.ship_by - now).total_seconds())
        horizon = weights.ship_by_horizon_minutes
        part = weights.ship_by * max(0.0, min(1.2, (horizon - left) / horizon))
        score += part
        when = (
            f"route cut-off in {left:,.0f} min"
            if left >= 0
            else f"route cut-off passed {-left:,.0f} min ago"
        )
        reasons.append(f"{when} → {part:.1f}")
    if task.customer_priority is not None:
        part = weights.customer * (5 - task.customer_priority) / 4
        score += part
        reasons.append(f"customer priority {task.customer_priority} → {part:.1f}")
    age = max(0.0, _minutes((now - task.created_at).total_seconds()))
    part = weights.age * min(1.0, age / weights.age_horizon_minutes)
    score += part
    reasons.append(f"waiting {age:,.0f} min → {part:.1f}")
    return TaskPriority(task.task_id, round(score, 6), tuple(reasons))


def lift_reason(fed: Sequence[int], best: float, weights: PriorityWeights) -> str:
    """The reason a replenishment was lifted above the tasks it feeds."""
    ids = ", ".join(str(i) for i in fed)
    margin = weights.replenish_margin
    return f"needed by pick task(s) {ids}: ranks above them ({best:.1f} + {margin:g})"


def prioritise(
    tasks: Sequence[TaskFacts], now: datetime, weights: PriorityWeights = PriorityWeights()
) -> tuple[TaskPriority, ...]:
    """Scores of all ``tasks`` in rank order, a replenishment lifted above the picks it feeds.

    >>> now = datetime(2026, 12, 1, 10, 0)
    >>> pick = TaskFacts(1, "pick", now, customer_priority=1)
    >>> refill = TaskFacts(2, "replenish", now, feeds=(1,))
    >>> [(p.task_id, p.score) for p in prioritise([pick, refill], now)]
    [(2, 21.0), (1, 20.0)]
    """
    by_id = {t.task_id: t for t in tasks}
    if len(by_id) != len(tasks):
        raise ValidationFailed("tasks repeat a task id", field="task_id")
    scored = {t.task_id: score_task(t, now, weights) for t in tasks}
    for t in tasks:
        fed = [scored[i] for i in t.feeds if i in scored]
        if t.task_type != "replenish" or not fed:
            continue
        best = max(fed, key=lambda p: p.score)
        floor = best.score + weights.replenish_margin
        mine = scored[t.task_id]
        if mine.score < floor:
            why = lift_reason([p.task_id for p in fed], best.score, weights)
            scored[t.task_id] = TaskPriority(t.task_id, round(floor, 6), (*mine.reasons, why))
    return tuple(
        sorted(scored.values(), key=lambda p: (-p.score, by_id[p.task_id].created_at, p.task_id))
    )


@dataclass(frozen=True)
class Operator:
    """Who asks for work: the zones they are assigned (empty = every zone) and where they are."""

    operator_id: str
    zones: frozenset[str] = frozenset()
    x: float | None = None
    y: float | None = None


@dataclass(frozen=True)
class RankedTask:
    """A candidate for the operator: its priority, the travel to it, the ranking score."""

    task_id: int
    score: float
    priority: float
    distance: float | None
    reasons: tuple[str, ...]


def next_tasks(
    candidates: Sequence[TaskFacts],
    operator: Operator,
    now: datetime,
    *,
    limit: int = 1,
    weights: PriorityWeights = PriorityWeights(),
) -> tuple[RankedTask, ...]:
    """The best ``limit`` tasks for ``operator`` among a small list of open candidates.

    Tasks reserved for someone else or outside the operator's zones are left out; tasks
    reserved for this operator come first; then priority minus travel from the operator's last
    location (``distance_per_point`` units of rectilinear travel cost one point).

    >>> now = datetime(2026, 12, 1, 10, 0)
    >>> near = TaskFacts(1, "pick", now, customer_priority=3, zone="A", x=2, y=0)
    >>> far = TaskFacts(2, "pick", now, customer_priority=3, zone="A", x=90, y=0)
    >>> other = TaskFacts(3, "pick", now, customer_priority=1, zone="B", x=1, y=0)
    >>> me = Operator("ana", zones=frozenset({"A"}), x=0, y=0)
    >>> [t.task_id for t in next_tasks([far, other, near], me, now, limit=3)]
    [1, 2]
    """
    if limit < 1:
        raise ValidationFailed("limit must be at least 1", field="limit")
    eligible = [
        t
        for t in candidates
        if t.assigned_to in (None, operator.operator_id)
        and (not operator.zones or t.zone in operator.zones)
    ]
    by_id = {t.task_id: t for t in eligible}
    # Priorities are the tasks' own (a replenishment is lifted by every pick it feeds, whoever
    # picks it): scored over all candidates, then narrowed to this operator's.
    out = [
        ranked_task(p, by_id[p.task_id], operator, weights)
        for p in prioritise(candidates, now, weights)
        if p.task_id in by_id
    ]
    out.sort(
        key=lambda r: (
            by_id[r.task_id].assigned_to != operator.operator_id,
            -r.score,
            by_id[r.task_id].created_at,
            r.task_id,
        )
    )
    return tuple(out[:limit])


def ranked_task(
    p: TaskPriority, t: TaskFacts, operator: Operator, weights: PriorityWeights
) -> RankedTask:
    """``t`` as a candidate for ``operator``: priority less travel, with the reasons."""
    distance = None
    if operator.x is not None and operator.y is not None and t.x is not None and t.y is not None:
        distance = abs(float(t.x) - float(operator.x)) + abs(float(t.y) - float(operator.y))
    penalty = (distance or 0.0) / weights.distance_per_point
    reasons = [f"priority {p.score:.1f}"]
    if t.zone is not None:
        reasons.append(f"zone {t.zone}" + (" (yours)" if operator.zones else ""))
    if t.assigned_to == operator.operator_id:
        reasons.append("reserved for you")
    if distance is not None:
        reasons.append(f"{distance:,.0f} away → −{penalty:.1f}")
    return RankedTask(
        p.task_id, round(p.score - penalty, 6), p.score, distance, (*reasons, *p.reasons)
    )
