"""The worked examples in the rule modules' docstrings are tests too."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "stockpilot.tasks.putaway",
    "stockpilot.tasks.pickpath",
    "stockpilot.tasks.replenish",
    "stockpilot.tasks.priority",
    "stockpilot.tasks.ranking",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_worked_example_in_the_docstrings_holds(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
