"""Task priority with its reasons, and the next task for an operator."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.shared.errors import ValidationFailed
from stockpilot.tasks.priority import (
    Operator,
    PriorityWeights,
    TaskFacts,
    next_tasks,
    prioritise,
    score_task,
)

NOW = datetime(2026, 12, 1, 10, 0)


def _pick(task_id: int, **attrs: object) -> TaskFacts:
    values: dict[str, object] = {"created_at": NOW}
    values.update(attrs)
    return TaskFacts(task_id, "pick", **values)  # type: ignore[arg-type]


def test_a_task_for_a_route_leaving_soon_outranks_one_for_a_later_route() -> None:
    soon = _pick(1, ship_by=NOW + timedelta(minutes=30))
    later = _pick(2, ship_by=NOW + timedelta(hours=6))
    assert [p.task_id for p in prioritise([later, soon], NOW)] == [1, 2]
    assert score_task(soon, NOW).reasons[0] == "route cut-off in 30 min → 46.9"


def test_ship_by_counts_nothing_beyond_the_horizon_and_caps_once_the_cut_off_passed() -> None:
    far = score_task(_pick(1, ship_by=NOW + timedelta(hours=9)), NOW)
    late = score_task(_pick(2, ship_by=NOW - timedelta(hours=5)), NOW)
    assert far.reasons[0] == "route cut-off in 540 min → 0.0"
    assert late.reasons[0] == "route cut-off passed 300 min ago → 60.0"


def test_customer_priority_one_earns_the_full_customer_weight_and_five_nothing() -> None:
    top = score_task(_pick(1, customer_priority=1), NOW)
    low = score_task(_pick(2, customer_priority=5), NOW)
    assert (top.score, low.score) == (20.0, 0.0)


def test_an_older_task_earns_age_points_up_to_the_horizon() -> None:
    young = score_task(_pick(1, created_at=NOW - timedelta(minutes=60)), NOW)
    old = score_task(_pick(2, created_at=NOW - timedelta(hours=10)), NOW)
    assert (young.score, old.score) == (2.5, 10.0)


def test_a_putaway_starts_with_its_type_base_to_clear_the_dock() -> None:
    putaway = TaskFacts(1, "putaway", NOW)
    assert score_task(putaway, NOW).reasons[0] == "putaway task → 5.0"


def test_a_replenishment_that_picks_need_ranks_just_above_the_best_of_them() -> None:
    urgent = _pick(1, ship_by=NOW + timedelta(minutes=10), customer_priority=1)
    normal = _pick(2, customer_priority=3)
    refill = TaskFacts(3, "replenish", NOW - timedelta(hours=1), feeds=(1, 2))
    ranked = prioritise([urgent, normal, refill], NOW)
    assert [p.task_id for p in ranked] == [3, 1, 2]
    assert ranked[0].score == pytest.approx(ranked[1].score + 1.0)
    assert ranked[0].reasons[-1].startswith("needed by pick task(s) 1, 2: ranks above them")


def test_a_replenishment_already_above_its_picks_keeps_its_own_score() -> None:
    pick = _pick(1)
    refill = TaskFacts(2, "replenish", NOW - timedelta(hours=8), feeds=(1,))
    ranked = prioritise([pick, refill], NOW)
    assert ranked[0].task_id == 2 and ranked[0].score == 10.0


def test_equal_scores_go_to_the_older_task_then_the_lower_id() -> None:
    a, b = _pick(5), _pick(4)
    c = _pick(9, created_at=NOW - timedelta(seconds=1))
    assert [p.task_id for p in prioritise([a, b, c], NOW, PriorityWeights(age=0.0))] == [9, 4, 5]


def test_the_next_task_stays_in_the_operators_zones_and_skips_tasks_reserved_for_others() -> None:
    tasks = [
        _pick(1, zone="A", customer_priority=3),
        _pick(2, zone="B", customer_priority=1),
        _pick(3, zone="A", customer_priority=1, assigned_to="bo"),
    ]
    ana = Operator("ana", zones=frozenset({"A"}))
    assert [t.task_id for t in next_tasks(tasks, ana, NOW, limit=5)] == [1]
    anyone = Operator("cy")
    assert [t.task_id for t in next_tasks(tasks, anyone, NOW, limit=5)] == [2, 1]


def test_a_nearer_task_wins_when_priorities_are_close_and_a_far_urgent_one_still_wins() -> None:
    me = Operator("ana", x=0, y=0)
    near = _pick(1, customer_priority=3, x=5, y=0)
    far = _pick(2, customer_priority=3, x=100, y=20)
    assert next_tasks([far, near], me, NOW)[0].task_id == 1
    urgent_far = _pick(3, customer_priority=1, ship_by=NOW, x=100, y=20)
    best = next_tasks([near, urgent_far], me, NOW)[0]
    assert best.task_id == 3 and best.distance == 120.0
    assert "120 away → −12.0" in best.reasons


def test_a_task_reserved_for_the_operator_comes_first() -> None:
    mine = _pick(1, assigned_to="ana")
    urgent = _pick(2, customer_priority=1)
    assert next_tasks([urgent, mine], Operator("ana"), NOW)[0].task_id == 1


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: TaskFacts(1, "dance", NOW), "task_type"),  # type: ignore[arg-type]
        (lambda: _pick(1, customer_priority=0), "customer_priority"),
        (lambda: prioritise([_pick(1), _pick(1)], NOW), "task_id"),
        (lambda: next_tasks([], Operator("ana"), NOW, limit=0), "limit"),
    ],
)
def test_bad_input_is_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


_tasks = st.lists(
    st.builds(
        TaskFacts,
        task_id=st.integers(1, 500),
        task_type=st.sampled_from(["pick", "replenish", "putaway"]),
        created_at=st.integers(0, 600).map(lambda m: NOW - timedelta(minutes=m)),
        ship_by=st.one_of(
            st.none(), st.integers(-120, 900).map(lambda m: NOW + timedelta(minutes=m))
        ),
        customer_priority=st.one_of(st.none(), st.integers(1, 5)),
        feeds=st.lists(st.integers(1, 500), max_size=3).map(tuple),
    ),
    max_size=25,
    unique_by=lambda t: t.task_id,
)


@settings(max_examples=200, deadline=None)
@given(tasks=_tasks)
def test_every_replenishment_outranks_every_pick_it_feeds(tasks: list[TaskFacts]) -> None:
    ranked = prioritise(tasks, NOW)
    position = {p.task_id: i for i, p in enumerate(ranked)}
    kinds = {t.task_id: t.task_type for t in tasks}
    assert sorted(position) == sorted(kinds)
    for t in tasks:
        if t.task_type == "replenish":
            for fed in t.feeds:
                if fed in position and kinds[fed] == "pick":
                    assert position[t.task_id] < position[fed]
