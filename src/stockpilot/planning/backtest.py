"""Policy quality on held-out demand: the engine's policies against a static min/max rule.

Given order lines, hold out the last ``holdout`` periods and replay them (all series at once,
:func:`stockpilot.planning.simulation.simulate`) as a weekly planner would live them: at every
``replan_every``-th period of the holdout the engine is re-run on all history (demand and
receipts) before that period, and the new levels replace the old ones while stock and pipeline
carry over. The replay starts ``warmup`` periods before the holdout with the first plan, so the
holdout begins with a steady stock and pipeline. Compared against

* the engine's (s, S) policies, and
* the static rule (min = mean lead-time demand, max = 2 × min, with the mean and lead time of
  the plan in force — the rule is re-planned as often as the engine), then the same rule with
  min and max scaled by a multiplier found by bisection, per demand class, until the class
  reaches the engine's fill rate — so inventories are compared *at the same fill rate*.

Lead times are those of the plan (whole periods, as the engine protects them), with the plan's
MOQ and pack rounding. Every policy opens at its first ``S`` plus half the MOQ/pack slack of its
smallest order (see :func:`_opening`). Fill rate = units served from stock on hand ÷ units
demanded; cycle service = share of replenishment cycles without a stockout. Pure: frames in,
frames out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from stockpilot.planning.calibration_report import calibration_by_class, standardised_errors
from stockpilot.planning.engine import PlanConfig, plan
from stockpilot.planning.history import DemandHistory, build_demand_history, periods_per_year
from stockpilot.planning.policy import round_order_quantity
from stockpilot.planning.simulation import Policy, simulate
from stockpilot.planning.stats import FloatArray

__all__ = ["BacktestResult", "Replay", "backtest_policies", "build_replay"]


@dataclass(frozen=True)
class BacktestResult:
    """``by_class``: one row per demand class; ``series``: one row per replayed series;
    ``calibration``: one row per demand class (:func:`calibration_by_class`)."""

    by_class: pl.DataFrame
    series: pl.DataFrame
    calibration: pl.DataFrame | None = None


@dataclass(frozen=True)
class Replay:
    """What is replayed: ``demand`` ``(n, warmup + holdout)`` and the plans in force per period
    (``reorder_point``, ``order_up_to``, ``forecast`` as ``(n, warmup + holdout)`` matrices); the
    first plan's rows (``policies``) fix the series, lead times, review periods and rounding."""

    policies: pl.DataFrame
    demand: FloatArray
    reorder_point: FloatArray
    order_up_to: FloatArray
    forecast: FloatArray
    lead: np.ndarray
    review: np.ndarray
    moq: FloatArray
    pack: FloatArray
    warmup: int
    protection_mean: FloatArray | None = None
    protection_sigma: FloatArray | None = None
    protection_periods: FloatArray | None = None
    at_review: bool = False

    def policy(self, reorder_point: FloatArray, order_up_to: FloatArray) -> Policy:
        return Policy(reorder_point, order_up_to, self.lead, self.review, self.moq, self.pack)

    def static(self, scale: FloatArray) -> Policy:
        """The static rule with min and max multiplied by ``scale`` (per series)."""
        low = np.ceil(self.forecast * (self.lead * scale)[:, None] - 1e-9)
        return self.policy(low, 2.0 * low)


def _plan_before(
    lines: pl.DataFrame,
    receipts: pl.DataFrame | None,
    items: pl.DataFrame | None,
    config: PlanConfig,
    full: DemandHistory,
    origin: int,
) -> pl.DataFrame:
    """The engine's policies as planned at the start of period ``origin``: all demand and the
    receipts received before it."""
    cut = full.period_starts[origin]
    end = (cut - np.timedelta64(1, "D")).astype(object)
    known = receipts
    if receipts is not None and receipts.height:
        received = pl.col("receipt_date")
        if receipts.schema["receipt_date"] == pl.Utf8:
            received = received.str.to_date()
        known = receipts.filter(received.cast(pl.Date) <= end)
    start = full.period_starts[0].astype(object)
    return plan(lines, known, items, replace(config, start=start, end=end)).policies


def _aligned(keys: pl.DataFrame, policies: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``columns`` of ``policies`` in the row order of ``keys`` (null where absent)."""
    return keys.join(
        policies.select("item", "site", *columns), on=["item", "site"], how="left",
        maintain_order="left",
    ).select(columns)  # fmt: skip


def build_replay(
    lines: pl.DataFrame,
    receipts: pl.DataFrame | None,
    items: pl.DataFrame | None,
    config: PlanConfig,
    holdout: int = 26,
    replan_every: int | None = 1,
    warmup: int | None = None,
    at_review: bool = False,
) -> Replay:
    """Plan at the holdout's start and every ``replan_every`` periods after it (``None``: one
    frozen plan); ``warmup`` defaults to the longest lead time + review + 1 periods.

    ``at_review``: the review at the end of a period orders with the plan made from every period
    up to and including it (a planner who re-plans after the period's demand is known), instead
    of the plan made at the start of the period."""
    full = build_demand_history(lines, config.period, config.start, config.end)
    t_len = full.demand.shape[1]
    first = t_len - holdout
    pol = _plan_before(lines, receipts, items, config, full, first)
    keys = pol.select("item", "site").with_row_index("row")
    idx = full.series.join(keys, on=["item", "site"], how="inner", maintain_order="left")
    pol = pol[idx["row"].to_numpy()]
    keys = pol.select("item", "site")
    lead = np.ceil(pol["lead_time_periods"].to_numpy() - 1e-9).astype(np.int64)
    review = np.maximum(np.round(pol["review_period_periods"].to_numpy()), 1).astype(np.int64)
    if warmup is None:
        warmup = int(lead.max(initial=0) + review.max(initial=1) + 1)
    warmup = max(0, min(warmup, first))
    demand = full.demand[idx["series_index"].to_numpy(), first - warmup :]
    columns = [
        "reorder_point", "order_up_to", "forecast_per_period", "demand_over_protection",
        "sigma_over_protection", "protection_periods",
    ]  # fmt: skip
    levels = {c: np.repeat(pol[c].to_numpy()[:, None], demand.shape[1], axis=1) for c in columns}
    step = replan_every or holdout
    for origin in range(first + step, t_len, step):
        later = _aligned(keys, _plan_before(lines, receipts, items, config, full, origin), columns)
        col = origin - first + warmup - (1 if at_review else 0)
        for c in columns:
            levels[c][:, col:] = later[c].fill_null(0.0).to_numpy()[:, None]
    return Replay(
        pol, demand, levels["reorder_point"], levels["order_up_to"],
        levels["forecast_per_period"], lead, review,
        _item_values(items, keys, "moq", 0.0), _item_values(items, keys, "pack_size", 1.0), warmup,
        levels["demand_over_protection"], levels["sigma_over_protection"],
        levels["protection_periods"], at_review,
    )  # fmt: skip


def _item_values(
    items: pl.DataFrame | None, keys: pl.DataFrame, name: str, default: float
) -> FloatArray:
    if items is None or name not in items.columns:
        return np.full(keys.height, default)
    values = _aligned(keys, items.unique(["item", "site"], keep="last"), [name])[name]
    return np.asarray(values.cast(pl.Float64).fill_null(default).to_numpy(), dtype=np.float64)


def _opening(replay: Replay, policy: Policy) -> FloatArray:
    """Opening net stock: the first order-up-to level plus half the MOQ/pack slack of the
    smallest order (where an order cycle leaves the position on average). Starting at ``S``
    makes every policy order a whole MOQ lot in the first period: with lots of years of demand
    that lot, not the policy, decides the stock of a 26-week replay."""
    s0, up0 = policy.reorder_point[:, 0], policy.order_up_to[:, 0]
    smallest = round_order_quantity(np.ones(s0.size), replay.moq, replay.pack)
    return np.asarray(up0 + 0.5 * np.maximum(smallest - (up0 - s0), 0.0), dtype=np.float64)


def _class_fill(res: pl.DataFrame, groups: np.ndarray, n_groups: int) -> FloatArray:
    served = np.bincount(groups, res["served"].to_numpy(), n_groups)
    demand = np.bincount(groups, res["demand"].to_numpy(), n_groups)
    return np.where(demand > 0, served / np.maximum(demand, 1e-12), 1.0)


def _equal_fill_scale(
    replay: Replay, groups: np.ndarray, target: FloatArray, ppy: int
) -> FloatArray:
    """Per-group multiplier of min and max reaching ``target`` fill (bisection, all groups at
    once; the fill rate of the static rule is non-decreasing in the multiplier)."""

    def fill(scale: FloatArray) -> FloatArray:
        static = replay.static(scale[groups])
        res = simulate(
            replay.demand, static, periods_per_year=ppy, warmup=replay.warmup,
            opening=_opening(replay, static),
        )  # fmt: skip
        return _class_fill(res, groups, scale.size)

    lo = np.zeros(target.shape)
    hi = np.full(target.shape, 1.0)
    for _ in range(12):  # widen until every group reaches its target
        short = fill(hi) < target - 1e-12
        if not np.any(short):
            break
        lo = np.where(short, hi, lo)
        hi = np.where(short, hi * 2.0, hi)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        ok = fill(mid) >= target - 1e-12
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
    replan_every: int | None = 1,
    warmup: int | None = None,
    at_review: bool = False,
) -> BacktestResult:
    """Replay the last ``holdout`` periods with rolling re-plans (see the module docstring).

    ``by_class`` columns: ``demand_class, series, target, fill_rate, cycle_service,
    average_on_hand, turns, stockout_periods, static_fill_rate, static_average_on_hand,
    static_scale, static_fill_rate_at_equal_fill, static_average_on_hand_at_equal_fill``.
    Replays use backorders. ``replan_every=None`` freezes the first plan for the whole holdout.
    """
    replay = build_replay(lines, receipts, items, config, holdout, replan_every, warmup, at_review)
    pol = replay.policies
    ppy = periods_per_year(config.period)

    def run(policy: Policy) -> pl.DataFrame:
        return simulate(
            replay.demand, policy, periods_per_year=ppy, warmup=replay.warmup,
            opening=_opening(replay, policy),
        )  # fmt: skip

    engine = run(replay.policy(replay.reorder_point, replay.order_up_to))
    static = run(replay.static(np.ones(pol.height)))
    classes, groups = np.unique(pol["demand_class"].to_numpy().astype(str), return_inverse=True)
    engine_fill = _class_fill(engine, groups, classes.size)
    scale = _equal_fill_scale(replay, groups, engine_fill, ppy)
    equal = run(replay.static(scale[groups]))
    series = pl.DataFrame(
        {
            "item": pol["item"],
            "site": pol["site"],
            "demand_class": pol["demand_class"],
            "abc": pol["abc"],
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
    calibration = None
    if replay.protection_mean is not None and replay.protection_sigma is not None:
        assert replay.protection_periods is not None
        z = standardised_errors(
            replay.demand, replay.protection_mean, replay.protection_sigma,
            replay.protection_periods, replay.warmup - int(replay.at_review),
            offset=int(replay.at_review),
        )  # fmt: skip
        calibration = calibration_by_class(
            pol["demand_class"].to_numpy().astype(str), z, series, holdout
        )
    return BacktestResult(by_class, series, calibration)
