"""The columnar task queue ranks exactly as the one-task-at-a-time priority rules do."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.shared.errors import ValidationFailed
from stockpilot.tasks.priority import Operator, TaskFacts, next_tasks, prioritise
from stockpilot.tasks.ranking import TaskTable, next_tasks_from_table, score_table

NOW = datetime(2026, 12, 1, 10, 0)


def test_a_lifted_replenishment_explains_itself_in_the_same_words_as_the_short_list_rule() -> None:
    pick = TaskFacts(1, "pick", NOW, customer_priority=1, zone="A")
    refill = TaskFacts(2, "replenish", NOW - timedelta(minutes=30), feeds=(1,), zone="R")
    table = TaskTable.from_facts([pick, refill])
    columnar = next_tasks_from_table(table, Operator("ana"), NOW, limit=2)
    listed = next_tasks([pick, refill], Operator("ana"), NOW, limit=2)
    assert columnar == listed
    assert columnar[0].reasons[-1] == "needed by pick task(s) 1: ranks above them (20.0 + 1)"


def test_a_replenishment_in_another_zone_still_counts_the_picks_it_feeds() -> None:
    pick = TaskFacts(1, "pick", NOW, customer_priority=1, zone="A", assigned_to="bo")
    refill = TaskFacts(2, "replenish", NOW, feeds=(1,), zone="R")
    rover = Operator("cy", zones=frozenset({"R"}))
    best = next_tasks_from_table(TaskTable.from_facts([pick, refill]), rover, NOW)[0]
    assert (best.task_id, best.priority) == (2, 21.0)


def test_tasks_reserved_for_the_operator_come_first_in_the_table_too() -> None:
    mine = TaskFacts(1, "pick", NOW, assigned_to="ana")
    urgent = TaskFacts(2, "pick", NOW, customer_priority=1)
    table = TaskTable.from_facts([urgent, mine])
    assert [t.task_id for t in next_tasks_from_table(table, Operator("ana"), NOW, limit=2)] == [
        1,
        2,
    ]


def test_bad_input_to_the_table_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as error:
        TaskTable.from_facts([TaskFacts(1, "pick", NOW), TaskFacts(1, "move", NOW)])
    assert error.value.field == "task_id"
    with pytest.raises(ValidationFailed) as error:
        next_tasks_from_table(TaskTable.from_facts([]), Operator("ana"), NOW, limit=0)
    assert error.value.field == "limit"


_minutes = st.integers(-600, 600).map(lambda m: NOW + timedelta(minutes=m))
_tasks = st.lists(
    st.builds(
        TaskFacts,
        task_id=st.integers(1, 300),
        task_type=st.sampled_from(["pick", "replenish", "putaway", "count"]),
        created_at=st.integers(0, 600).map(lambda m: NOW - timedelta(minutes=m)),
        ship_by=st.one_of(st.none(), _minutes),
        customer_priority=st.one_of(st.none(), st.integers(1, 5)),
        feeds=st.lists(st.integers(1, 300), max_size=3).map(tuple),
        zone=st.sampled_from([None, "A", "B"]),
        x=st.one_of(st.none(), st.integers(0, 100).map(float)),
        y=st.integers(0, 100).map(float),
        assigned_to=st.sampled_from([None, None, "ana", "bo"]),
    ),
    max_size=40,
    unique_by=lambda t: t.task_id,
)
_operators = st.builds(
    Operator,
    operator_id=st.sampled_from(["ana", "cy"]),
    zones=st.sampled_from([frozenset(), frozenset({"A"}), frozenset({"A", "B"})]),
    x=st.one_of(st.none(), st.integers(0, 100).map(float)),
    y=st.integers(0, 100).map(float),
)


@settings(max_examples=300, deadline=None)
@given(tasks=_tasks, operator=_operators, limit=st.integers(1, 6))
def test_the_table_ranks_and_scores_exactly_as_the_short_list_rules(
    tasks: list[TaskFacts], operator: Operator, limit: int
) -> None:
    table = TaskTable.from_facts(tasks)
    scores = dict(zip(table.task_id.tolist(), score_table(table, NOW).tolist(), strict=True))
    assert scores == {p.task_id: p.score for p in prioritise(tasks, NOW)}
    assert next_tasks_from_table(table, operator, NOW, limit=limit) == next_tasks(
        tasks, operator, NOW, limit=limit
    )
