"""Pilot before rollout: a challenger policy set on a chosen segment, tracked against the rest.

The champion is the policy set in force (a :class:`~stockpilot.planning.engine.PlanConfig`); the
challenger another one (service level, forecast candidates, segment rules …). Both are replayed on
the same held-out history with the same rolling re-plans (:func:`backtest_policies`); the
challenger's outcome is taken for the pilot segment only — the series whose demand class, ABC
class or item family is the one chosen — and the champion's for everything else, which is what
the network would have lived had the pilot run. The report puts side by side, per group
(``pilot``, ``rest``) and arm (``champion``, ``challenger``): series, fill rate, average on-hand
and turns; and a verdict for the pilot group: ``roll out`` when the challenger reached at least
the champion's fill rate (within ``tolerance``) with no more stock, or a higher fill rate at no
more than ``stock_allowance`` more stock per point of fill gained; ``keep champion`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from stockpilot.planning.backtest import backtest_policies
from stockpilot.planning.engine import PlanConfig

__all__ = ["PilotReport", "PilotScope", "pilot_verdict", "run_pilot"]


@dataclass(frozen=True)
class PilotScope:
    """Which series the challenger runs on: ``field`` is ``demand_class``, ``abc`` or
    ``family`` (from the item master), ``value`` the segment."""

    field: str
    value: str

    def __post_init__(self) -> None:
        if self.field not in ("demand_class", "abc", "family"):
            raise ValueError(f"field: {self.field!r} is not demand_class, abc or family")


@dataclass(frozen=True)
class PilotReport:
    """``groups``: one row per group and arm; ``verdict``: ``roll out`` / ``keep champion`` and
    ``reason``."""

    groups: pl.DataFrame
    verdict: str
    reason: str


def _summary(
    series: pl.DataFrame, group: str, arm: str, periods_per_year: int, holdout: int
) -> dict[str, object]:
    demand = float(series["demand"].sum())
    on_hand = float(series["average_on_hand"].sum())
    served = float(series["served"].sum())
    return {
        "group": group,
        "arm": arm,
        "series": series.height,
        "fill_rate": served / demand if demand > 0 else None,
        "average_on_hand": on_hand,
        "turns": served / holdout * periods_per_year / on_hand if on_hand > 0 else None,
    }


def pilot_verdict(
    champion: Mapping[str, object],
    challenger: Mapping[str, object],
    tolerance: float = 0.005,
    stock_allowance: float = 0.02,
) -> tuple[str, str]:
    """The rule of the module docstring on the pilot group's two summaries.

    >>> pilot_verdict({"fill_rate": 0.95, "average_on_hand": 100.0},
    ...               {"fill_rate": 0.951, "average_on_hand": 90.0})[0]
    'roll out'
    >>> pilot_verdict({"fill_rate": 0.95, "average_on_hand": 100.0},
    ...               {"fill_rate": 0.96, "average_on_hand": 130.0})[0]
    'keep champion'
    """
    f0, f1 = float(champion["fill_rate"] or 0.0), float(challenger["fill_rate"] or 0.0)  # type: ignore[arg-type]
    s0, s1 = float(champion["average_on_hand"]), float(challenger["average_on_hand"])  # type: ignore[arg-type]
    more_stock = (s1 - s0) / s0 if s0 > 0 else (0.0 if s1 <= 0 else np.inf)
    if f1 >= f0 - tolerance and s1 <= s0:
        return "roll out", f"fill {f1:.3f} vs {f0:.3f} with {-more_stock:.1%} less stock"
    gained = (f1 - f0) * 100.0
    if gained > 0 and more_stock <= stock_allowance * gained:
        return "roll out", f"fill +{gained:.1f} points for {more_stock:.1%} more stock"
    return "keep champion", f"fill {f1:.3f} vs {f0:.3f} at {more_stock:+.1%} stock"


def run_pilot(
    lines: pl.DataFrame,
    receipts: pl.DataFrame | None,
    items: pl.DataFrame | None,
    champion: PlanConfig,
    challenger: PlanConfig,
    scope: PilotScope,
    holdout: int = 26,
) -> PilotReport:
    """Replay both policy sets and report the pilot segment against the rest."""
    from stockpilot.planning.history import periods_per_year

    ppy = periods_per_year(champion.period)
    base = backtest_policies(lines, receipts, items, champion, holdout).series
    trial = backtest_policies(lines, receipts, items, challenger, holdout).series
    if scope.field == "family":
        families = (
            items.select("item", pl.col("family").cast(pl.Utf8)).unique("item")
            if items is not None and "family" in items.columns
            else pl.DataFrame(
                {"item": [], "family": []}, schema={"item": pl.Utf8, "family": pl.Utf8}
            )
        )
        base = base.join(families, on="item", how="left")
        trial = trial.join(families, on="item", how="left")
    in_pilot = pl.col(scope.field).cast(pl.Utf8) == scope.value
    pilot_base, pilot_trial = base.filter(in_pilot), trial.filter(in_pilot)
    if pilot_base.height == 0:
        raise ValueError(f"{scope.field}: no series in segment {scope.value!r}")
    rows = [
        _summary(pilot_base, "pilot", "champion", ppy, holdout),
        _summary(pilot_trial, "pilot", "challenger", ppy, holdout),
        _summary(base.filter(~in_pilot), "rest", "champion", ppy, holdout),
    ]
    verdict, reason = pilot_verdict(rows[0], rows[1])
    return PilotReport(pl.DataFrame(rows), verdict, reason)
