"""Policy quality on held-out demand: the engine's policies against a static min/max rule.

Given order lines, hold out the last ``holdout`` periods, plan on the rest and replay the holdout
(all series at once, :func:`stockpilot.planning.simulation.simulate`) against

* the engine's (s, S) policies, and
* the static rule (min = mean lead-time demand, max = 2 × min), then the same rule with min and
  max scaled by a multiplier found by bisection, per demand class, until the class reaches the
  engine's fill rate — so inventories are compared *at the same fill rate*.

Fill rate = units served from stock on hand ÷ units demanded; cycle service = share of
replenishment cycles without a stockout. Pure: frames in, frames out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from stockpilot.planning.engine import PlanConfig, plan
from stockpilot.planning.history import build_demand_history, periods_per_year
from stockpilot.planning.simulation import Policy, simulate
from stockpilot.planning.stats import FloatArray

__all__ = ["BacktestResult", "backtest_policies"]


@dataclass(frozen=True)
class BacktestResult:
    """``by_class``: one row per demand class; ``series``: one row per replayed series."""

    by_class: pl.DataFrame
    series: pl.DataFrame


def _static(mean: FloatArray, lead: np.ndarray, review: np.ndarray, scale: FloatArray) -> Policy:
    low = np.ceil(mean * lead * scale - 1e-9)
    return Policy(low, 2.0 * low, lead, review)


def _class_fill(res: pl.DataFrame, groups: np.ndarray, n_groups: int) -> FloatArray:
    served = np.bincount(groups, res["served"].to_numpy(), n_groups)
    demand = np.bincount(groups, res["demand"].to_numpy(), n_groups)
    return np.where(demand > 0, served / np.maximum(demand, 1e-12), 1.0)


def _equal_fill_scale(
    test: FloatArray,
    mean: FloatArray,
    lead: np.ndarray,
    review: np.ndarray,
    groups: np.ndarray,
    target: FloatArray,
    ppy: int,
) -> FloatArray:
    """Per-group multiplier of min and max reaching ``target`` fill (bisection, all groups at
    once; the fill rate of the static rule is non-decreasing in the multiplier)."""
    lo = np.zeros(target.shape)
    hi = np.full(target.shape, 1.0)
    for _ in range(12):  # widen until every group reaches its target
        fill = _class_fill(simulate(test, _static(mean, lead, review, hi[groups])), groups, hi.size)
        short = fill < target - 1e-12
        if not np.any(short):
            break
        lo = np.where(short, hi, lo)
        hi = np.where(short, hi * 2.0, hi)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        res = simulate(test, _static(mean, lead, review, mid[groups]), periods_per_year=ppy)
        ok = _class_fill(res, groups, mid.size) >= target - 1e-12
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi


def _summary(prefix: str) -> list[pl.Expr]:
    return [
        (pl.col(f"{prefix}served").sum() / pl.col("demand").sum()).alias(f"{prefix}fill_rate"),
        pl.col(f"{prefix}average_on_hand").sum().alias(f"{prefix}average_on_hand"),
    ]


def backtest_policies(
    lines: pl.DataFrame,
    receipts: pl.DataFrame | None,
    items: pl.DataFrame | None,
    config: PlanConfig,
    holdout: int = 26,
) -> BacktestResult:
    """Plan on all but the last ``holdout`` periods and replay them (see the module docstring).

    ``by_class`` columns: ``demand_class, series, target, fill_rate, cycle_service,
    average_on_hand, turns, stockout_periods, static_fill_rate, static_average_on_hand,
    static_scale, static_fill_rate_at_equal_fill, static_average_on_hand_at_equal_fill``.
    Replays use backorders and the mean lead time in whole periods.
    """
    full = build_demand_history(lines, config.period, config.start, config.end)
    cut = full.period_starts[-holdout]
    train_end = (cut - np.timedelta64(1, "D")).astype(object)
    result = plan(
        lines,
        receipts,
        items,
        replace(config, start=full.period_starts[0].astype(object), end=train_end),
    )
    keys = result.policies.select("item", "site").with_row_index("row")
    idx = full.series.join(keys, on=["item", "site"], how="inner", maintain_order="left")
    pol = result.policies[idx["row"].to_numpy()]
    test = full.demand[idx["series_index"].to_numpy(), -holdout:]
    lead = np.ceil(pol["lead_time_periods"].to_numpy() - 1e-9).astype(np.int64)
    review = np.maximum(np.round(pol["review_period_periods"].to_numpy()), 1).astype(np.int64)
    ppy = periods_per_year(config.period)
    mean = pol["forecast_per_period"].to_numpy()
    planned = Policy(pol["reorder_point"].to_numpy(), pol["order_up_to"].to_numpy(), lead, review)
    engine = simulate(test, planned, periods_per_year=ppy)
    static = simulate(test, _static(mean, lead, review, np.ones(mean.size)), periods_per_year=ppy)
    classes, groups = np.unique(pol["demand_class"].to_numpy().astype(str), return_inverse=True)
    engine_fill = _class_fill(engine, groups, classes.size)
    scale = _equal_fill_scale(test, mean, lead, review, groups, engine_fill, ppy)
    equal = simulate(test, _static(mean, lead, review, scale[groups]), periods_per_year=ppy)
    series = pl.DataFrame(
        {
            "item": pol["item"],
            "site": pol["site"],
            "demand_class": pol["demand_class"],
            "target": pol["service_level"],
            "demand": engine["demand"],
            "served": engine["served"],
            "cycle_service": engine["cycle_service_level"],
            "average_on_hand": engine["average_on_hand"],
            "stockout_periods": engine["stockout_periods"],
            "static_served": static["served"],
            "static_average_on_hand": static["average_on_hand"],
            "static_scale": scale[groups],
            "equal_served": equal["served"],
            "equal_average_on_hand": equal["average_on_hand"],
        }
    )
    by_class = (
        series.group_by("demand_class")
        .agg(
            pl.len().alias("series"),
            pl.col("target").mean(),
            *_summary(""),
            pl.col("cycle_service").mean(),
            (pl.col("served").sum() / holdout * ppy / pl.col("average_on_hand").sum()).alias(
                "turns"
            ),
            pl.col("stockout_periods").sum(),
            *_summary("static_"),
            pl.col("static_scale").first(),
            *_summary("equal_"),
        )
        .rename(
            {
                "equal_fill_rate": "static_fill_rate_at_equal_fill",
                "equal_average_on_hand": "static_average_on_hand_at_equal_fill",
            }
        )
        .sort("demand_class")
    )
    return BacktestResult(by_class, series)
