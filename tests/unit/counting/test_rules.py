"""The counting rules: tolerances, decisions, accuracy, and what a return may bring back."""

from __future__ import annotations

import doctest
import importlib
from decimal import Decimal

import pytest

from stockpilot.counting.rules import (
    ControlPolicy,
    Tolerance,
    accuracy,
    decide_variance,
    needs_adjustment_approval,
    variance_value,
)


@pytest.mark.parametrize("name", ["stockpilot.counting.rules", "stockpilot.returns.service"])
def test_every_worked_example_in_the_docstrings_holds(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_by_default_every_variance_waits_for_approval_and_none_is_recounted() -> None:
    p = ControlPolicy()
    assert decide_variance(0, Decimal(0), p, recounted=False) == "accept"
    assert decide_variance(1, Decimal("0.01"), p, recounted=False) == "approve"
    assert decide_variance(-1, None, p, recounted=False) == "approve"


def test_an_unknown_value_exceeds_a_value_tolerance_but_not_a_quantity_one() -> None:
    assert Tolerance(value=Decimal(100)).exceeded(1, None)
    assert not Tolerance(quantity=5).exceeded(1, None)
    assert Tolerance(quantity=5, value=Decimal(100)).exceeded(-1, Decimal("-100.01"))


def test_a_recounted_line_is_never_recounted_again() -> None:
    p = ControlPolicy(recount=Tolerance(0), approval=Tolerance(None, None))
    assert decide_variance(3, None, p, recounted=False) == "recount"
    assert decide_variance(3, None, p, recounted=True) == "accept"


def test_variance_value_is_exact_and_adjustment_thresholds_default_to_none() -> None:
    assert variance_value(-3, Decimal("0.1")) == Decimal("-0.3")
    assert not needs_adjustment_approval(10**9, None, ControlPolicy())
    assert needs_adjustment_approval(6, None, ControlPolicy(adjustment=Tolerance(5)))


def test_accuracy_of_nothing_counted_is_unknown() -> None:
    assert accuracy([]).accuracy is None
    with pytest.raises(Exception, match="ABC"):
        ControlPolicy().count_days("D")
