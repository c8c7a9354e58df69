"""The decisions of cycle counting, in pure code: what a variance calls for, which class of
item is due for counting, and how accurate a set of counts was.

A variance is what the counter found minus what the ledger held when the bin was counted.
The site's policy sets two tolerances, each in units and in value (either may be unset):

- beyond the **recount** tolerance, another operator counts the bin again (once);
- beyond the **approval** tolerance, a supervisor approves the variance before it posts;
- otherwise the variance posts at once as an adjustment (reason ``COUNT``).

A variance of an item without a cost has no value: a value tolerance then counts as exceeded,
so an unknown value never slips past a control.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from stockpilot.shared.errors import ValidationFailed

Decision = Literal["accept", "recount", "approve"]
ABC_CLASSES = ("A", "B", "C")


@dataclass(frozen=True)
class Tolerance:
    """A variance is within the tolerance when it is within both its limits (``None``: that
    limit does not apply)."""

    quantity: int | None = None
    value: Decimal | None = None

    def exceeded(self, variance: int, value: Decimal | None) -> bool:
        if variance == 0:
            return False
        if self.quantity is not None and abs(variance) > self.quantity:
            return True
        return self.value is not None and (value is None or abs(value) > self.value)


@dataclass(frozen=True)
class ControlPolicy:
    """A site's count frequencies, count exceptions, tolerances and adjustment thresholds.

    Out of the box: A monthly, B quarterly, C yearly; no recount; every variance approved
    (approval tolerance 0 units and 0 value); adjustments post without approval."""

    count_days_a: int = 30
    count_days_b: int = 90
    count_days_c: int = 365
    not_counted_days: int | None = None
    value_threshold: Decimal | None = None
    recount: Tolerance = Tolerance()
    approval: Tolerance = Tolerance(0, Decimal(0))
    adjustment: Tolerance = Tolerance()

    def count_days(self, abc: str) -> int:
        days = {"A": self.count_days_a, "B": self.count_days_b, "C": self.count_days_c}
        if abc not in days:
            raise ValidationFailed(f"unknown ABC class {abc!r}", field="abc")
        return days[abc]


def variance_value(variance: int, unit_cost: Decimal | None) -> Decimal | None:
    """The variance at the item's cost (exact), or ``None`` when the item has no cost."""
    return None if unit_cost is None else Decimal(variance) * unit_cost


def decide_variance(
    variance: int, value: Decimal | None, policy: ControlPolicy, *, recounted: bool
) -> Decision:
    """What a counted variance calls for (see the module's docstring). A recounted line is
    never recounted again.

    >>> p = ControlPolicy(recount=Tolerance(2), approval=Tolerance(5))
    >>> [decide_variance(v, None, p, recounted=False) for v in (0, 1, 3)]
    ['accept', 'accept', 'recount']
    >>> [decide_variance(v, None, p, recounted=True) for v in (3, -6)]
    ['accept', 'approve']
    """
    if variance == 0:
        return "accept"
    if not recounted and policy.recount.exceeded(variance, value):
        return "recount"
    if policy.approval.exceeded(variance, value):
        return "approve"
    return "accept"


def needs_adjustment_approval(quantity: int, value: Decimal | None, policy: ControlPolicy) -> bool:
    """Whether an adjustment of ``quantity`` units in total (absolute) worth ``value`` waits for
    approval under the site's thresholds."""
    return policy.adjustment.exceeded(quantity, value)


@dataclass(frozen=True)
class CountResult:
    """One counted line for accuracy: who counted it first and the variance they found."""

    counted_by: int | None
    quantity_variance: int


@dataclass(frozen=True)
class Accuracy:
    lines_counted: int
    lines_exact: int

    @property
    def accuracy(self) -> float | None:
        """Share of lines whose first count matched the ledger (``None``: nothing counted)."""
        return None if not self.lines_counted else self.lines_exact / self.lines_counted


def accuracy(results: Iterable[CountResult]) -> Accuracy:
    """Count accuracy: lines whose first count found no variance over lines counted.

    >>> accuracy([CountResult(1, 0), CountResult(1, -2), CountResult(2, 0)]).accuracy
    0.6666666666666666
    """
    counted = exact = 0
    for r in results:
        counted += 1
        exact += r.quantity_variance == 0
    return Accuracy(counted, exact)
