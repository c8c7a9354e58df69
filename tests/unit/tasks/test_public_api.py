"""The rule modules' public names are pinned, and the rules load without the database layer."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import stockpilot.tasks as tasks

RULE_MODULES = [
    "stockpilot.tasks.putaway",
    "stockpilot.tasks.pickpath",
    "stockpilot.tasks.replenish",
    "stockpilot.tasks.priority",
    "stockpilot.tasks.ranking",
    "stockpilot.outbound.allocation_rules",
    "stockpilot.outbound.waves_rules",
]


def test_the_tasks_package_exports_exactly_its_pinned_names() -> None:
    assert sorted(tasks.__all__) == [
        "BinRow", "BinScore", "BinTable", "Holdings", "Operator", "PickFace", "PickPath",
        "PickStop", "PriorityWeights", "PutawayDecision", "PutawayItem", "PutawayRequest",
        "RankedTask",
        "ReplenishMove", "ReplenishmentDecision", "ReserveStock", "TaskFacts", "TaskPriority",
        "TaskTable", "Violation", "check_bin", "choose_bin", "choose_bins",
        "decide_replenishment",
        "mean_travel_per_line", "next_tasks", "next_tasks_from_table", "order_picks",
        "plan_replenishments", "prioritise", "score_table", "score_task", "travel_per_line",
    ]  # fmt: skip
    assert all(hasattr(tasks, name) for name in tasks.__all__)


@pytest.mark.parametrize("name", RULE_MODULES)
def test_every_public_class_and_function_of_a_rule_module_is_in_its_all(name: str) -> None:
    module = importlib.import_module(name)
    defined = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and (inspect.isclass(v) or inspect.isfunction(v))
        and v.__module__ == name
    }
    assert defined <= set(module.__all__)
    assert all(hasattr(module, n) for n in module.__all__)


def test_the_rules_load_without_sqlalchemy_or_any_database_driver() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in RULE_MODULES)
        + "heavy = {'sqlalchemy', 'psycopg', 'sqlite3', 'polars', 'pydantic'}\n"
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
