"""The pure planning engine: order lines (+ receipts, item master) → one policy row per
item-location. No database access; every step is columnar over all item-locations.

Conventions:

* Demand, forecasts and sigmas are per period (week or month); lead times and the review period
  ``R`` are in periods; stock levels and quantities in item units (levels rounded up to whole
  units).
* Policy: periodic review (s, S). At each review (every ``R`` periods), if the inventory
  position ≤ ``s`` (``reorder_point``), order up to ``S`` (``order_up_to``), then round the order
  to MOQ and pack size. An order placed at a review arrives ``L`` periods later, so
  ``s = d·(L + R) + SS`` protects ``L + R`` periods; ``S = s + max(⌈Q⌉ − ⌈d·R⌉, 0)`` where ``Q``
  is the lot size (EOQ when an ordering cost is configured, never below one review's demand
  ``d·R``); MOQ and pack rounding is applied to the order when it is placed, not added to ``S``.
  With ``Q = d·R`` the policy is the classical (R, S) order-up-to policy (``s = S``).
* Cycle service: ``SS = Φ⁻¹(CSL)·σ_{L+R}``; fill rate: ``SS = k·σ_{L+R}`` with
  ``G1(k) = (1 − β)·Q/σ_{L+R}`` (SPT eq. 7.17 with ``Q ≥ d·R``). Slow movers (mean demand over
  ``L + R`` below ``discrete_threshold``, or intermittent/lumpy classes) use a Poisson or negative
  binomial protection demand instead of the normal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import polars as pl

from stockpilot.planning.calibration import (
    ErrorShape,
    error_shapes,
    honest_z,
    shape_cycle_level,
    shape_fill_rate_level,
)
from stockpilot.planning.empirical import (
    empirical_cycle_level,
    empirical_fill_rate_level,
    horizon_errors,
)
from stockpilot.planning.forecasting import ForecastConfig, forecast_all
from stockpilot.planning.history import DemandHistory, Period, build_demand_history
from stockpilot.planning.history import periods_per_year as _ppy
from stockpilot.planning.horizon_error import HorizonErrorStats, horizon_error_stats
from stockpilot.planning.leadtime import LeadTimeConfig, days_per_period, learn_lead_times
from stockpilot.planning.policy import (
    cap_by_capacity,
    economic_order_quantity,
    round_order_quantity,
    rs_fill_rate_level_normal,
)
from stockpilot.planning.policy_discrete import (
    discrete_cycle_service_level,
    discrete_fill_rate_level,
)
from stockpilot.planning.segmentation import SegmentationConfig, segment
from stockpilot.planning.stats import FloatArray, normal_ppf
from stockpilot.planning.undershoot import (
    ReviewSizes,
    pool_size_dispersion,
    review_sizes,
    undershoot_moments,
)

__all__ = ["PLAN_COLUMNS", "PlanConfig", "PlanResult", "plan", "policy_levels"]

PLAN_COLUMNS = [
    "item", "site", "demand_class", "abc", "xyz", "method", "forecast_per_period",
    "forecast_sigma", "lead_time_periods", "lead_time_std_periods", "safety_stock",
    "reorder_point", "order_up_to", "order_quantity",
]  # fmt: skip


@dataclass(frozen=True)
class PlanConfig:
    """Engine settings. ``service_level=None`` uses the segment defaults."""

    period: Period = "week"
    service_level: float | None = None
    service_type: str = "cycle"  # "cycle" | "fill_rate"
    review_period: float = 1.0  # periods, unless items give review_period_days
    holding_rate: float = 0.25  # per year, fraction of unit cost
    ordering_cost: float | None = None  # per order; None: lot = one review's demand
    discrete_threshold: float = 20.0  # mean demand over L+R below which Poisson/NB is used
    min_origins: int = 26  # rolling-origin errors needed before they replace the formulas
    error_half_life: float | None = None  # periods (None: one year) an origin's weight halves in
    error_prior_origins: float = 12.0  # pseudo-origins of the segment's error in the shrinkage
    calibration_years: int = 5  # recent history whose honest errors set a segment's error shape
    calibration_min_pool: int = 200  # honest errors a segment needs before its shape is used
    size_prior_weight: float = 30.0  # degrees of freedom of the pooled log-size dispersion
    start: date | None = None
    end: date | None = None
    outlier_k: float = 3.5
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    lead_time: LeadTimeConfig = field(default_factory=LeadTimeConfig)


@dataclass(frozen=True)
class PlanResult:
    """``policies``: one row per item-location (``PLAN_COLUMNS`` first, then explanation
    columns); ``history``: the demand matrix it was computed from; ``timings``: seconds per
    stage."""

    policies: pl.DataFrame
    history: DemandHistory
    timings: dict[str, float]


def _item_column(
    items: pl.DataFrame | None, keys: pl.DataFrame, name: str, default: float
) -> FloatArray:
    if items is None or name not in items.columns:
        return np.full(keys.height, default)
    joined = keys.select("item", "site").join(
        items.select("item", "site", pl.col(name).cast(pl.Float64)).unique(
            ["item", "site"], keep="last"
        ),
        on=["item", "site"],
        how="left",
        maintain_order="left",
    )
    return np.asarray(joined[name].fill_null(default).fill_nan(default).to_numpy(), dtype=float)


@dataclass(frozen=True)
class HorizonErrors:
    """Rolling-origin cumulative forecast errors of the series ``rows`` over ``L + R``
    (``protection``) and ``L`` (``lead``) periods, ``(len(rows), T)`` with NaN where no origin
    exists (see :mod:`stockpilot.planning.empirical`)."""

    rows: np.ndarray
    protection: FloatArray
    lead: FloatArray


def _normal_levels(
    service_level: FloatArray,
    service_type: str,
    mean_p: FloatArray,
    sigma_p: FloatArray,
    mean_l: FloatArray,
    sigma_l: FloatArray,
    q_service: FloatArray,
    lot_excess: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Level and safety factor under normal protection demand (cycle or exact (R, S) fill rate)."""
    safe_sigma = np.maximum(sigma_p, 1e-9)
    if service_type == "fill_rate":
        level = rs_fill_rate_level_normal(
            service_level, mean_p, safe_sigma, mean_l, sigma_l, q_service, lot_excess
        )
        return level, (level - mean_p) / safe_sigma
    k = normal_ppf(service_level)
    return mean_p + np.where(sigma_p > 0, k * sigma_p, 0.0), k * np.ones_like(mean_p)


def _discrete_levels(
    idx: np.ndarray,
    service_level: FloatArray,
    service_type: str,
    mean_p: FloatArray,
    var_p: FloatArray,
    mean_l: FloatArray,
    var_l: FloatArray,
    q_service: FloatArray,
    lot_excess: FloatArray,
) -> FloatArray:
    if service_type == "fill_rate":
        return discrete_fill_rate_level(
            service_level[idx], mean_p[idx], var_p[idx], mean_l[idx], var_l[idx], q_service[idx],
            lot_excess[idx],
        )  # fmt: skip
    return discrete_cycle_service_level(service_level[idx], mean_p[idx], var_p[idx])


def _empirical_levels(
    service_level: FloatArray,
    service_type: str,
    mean_p: FloatArray,
    mean_l: FloatArray,
    lead_var_share: FloatArray,
    errors: HorizonErrors,
    q_service: FloatArray,
    lot_excess: FloatArray,
) -> FloatArray:
    idx = errors.rows
    # Lead-time variability is not in the demand errors: scale them so the variance matches.
    scale = np.sqrt(1.0 + lead_var_share[idx])[:, None]
    protection = np.maximum(mean_p[idx, None] + scale * errors.protection, 0.0)
    if service_type == "fill_rate":
        lead = np.maximum(mean_l[idx, None] + scale * errors.lead, 0.0)
        return empirical_fill_rate_level(
            service_level[idx], protection, lead, q_service[idx], lot_excess[idx]
        )
    return empirical_cycle_level(service_level[idx], protection)


def _undershoot_protection(
    idx: np.ndarray,
    sub: ReviewSizes,
    extra: FloatArray,
    moq: FloatArray,
    pack_size: FloatArray,
    mean_l: FloatArray,
    var_l: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Mean and variance of the protection demand ``D_L + V``, the mean order and ``y − s`` (the
    position after an order above ``s``) per order cycle, for the rows ``idx``.

    The order ``S − IP = extra + V`` is raised to the MOQ and rounded up to packs; the rounding
    slack leaves the position above ``S`` and so sets the demand needed before the next order,
    which in turn shapes ``V`` — two fixed-point passes from ``E[V] = E[X]`` settle it.
    """
    ex = extra[idx]
    pack = np.where(pack_size[idx] > 0, pack_size[idx], 1.0)
    smallest = round_order_quantity(np.ones(idx.size), moq[idx], pack)
    strict = ex <= 0
    offset = np.where(strict, 1.0, 0.0)
    mean_v, var_v = np.nan_to_num(sub.m1), np.zeros(idx.size)
    for _ in range(2):
        slack = np.maximum(smallest - ex - mean_v, 0.5 * (pack - 1.0))
        mean_v, var_v = undershoot_moments(sub, ex + slack + offset, strict)
    slack = np.maximum(smallest - ex - mean_v, 0.5 * (pack - 1.0))
    order = np.maximum(ex + mean_v + slack, 1e-9)
    return mean_l[idx] + mean_v, var_l[idx] + var_v, order, ex + slack


def _sparse_sizes(
    idx: np.ndarray, sizes: ReviewSizes, groups: np.ndarray | None, prior_weight: float
) -> ReviewSizes:
    """The review sizes of the rows ``idx``, their log-dispersion pooled within ``groups``."""
    sub = ReviewSizes(sizes.samples[idx], sizes.m1[idx], sizes.m2[idx], sizes.m3[idx])
    if groups is None or prior_weight <= 0:
        return sub
    return pool_size_dispersion(sub, groups[idx], prior_weight)


def _pooled_variances(
    idx: np.ndarray,
    sizes: ReviewSizes,
    pooled: ReviewSizes,
    groups: np.ndarray | None,
    d: FloatArray,
    horizon: FloatArray,
    lead_time: FloatArray,
    var_p: FloatArray,
    var_l: FloatArray,
    lt_var: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Variances of ``D_{L+R}`` and ``D_L`` for the rows ``idx`` with the pooled size tail.

    Intermittent rows (group 0): compound Poisson at the *current* rate, ``λ·H·E[X²]`` with
    ``λ = d/E[X]`` occurrences per period and the pooled ``E[X²]``, plus ``d²σL²``. The one-step
    RMSE of the history does not follow the forecast: a dying item kept its old σ (s = 406 at a
    forecast of 3·10⁻⁵ a week on the small demo) and a few large sizes in a sparse history
    inflated σ² far beyond ``λ·E[X²]`` (s = 937 at 2 a week). Other rows keep their measured
    variance plus the compound variance the pooled tail adds, ``λ·H·ΔE[X²]``.
    """
    rate = np.nan_to_num(d[idx] / sizes.m1[idx])
    compound = rate * np.nan_to_num(pooled.m2)
    added = rate * np.nan_to_num(pooled.m2 - sizes.m2[idx])
    intermittent = np.zeros(idx.size, dtype=bool) if groups is None else groups[idx] == 0
    own_p = np.maximum(var_p[idx] + horizon[idx] * added, 0.0)
    own_l = np.maximum(var_l[idx] + lead_time[idx] * added, 0.0)
    return (
        np.where(intermittent, horizon[idx] * compound + lt_var[idx], own_p),
        np.where(intermittent, lead_time[idx] * compound + lt_var[idx], own_l),
    )


def policy_levels(
    forecast: FloatArray,
    sigma: FloatArray,
    lead_time: FloatArray,
    lead_time_sd: FloatArray,
    review_period: FloatArray,
    service_level: FloatArray,
    service_type: str,
    lot_size: FloatArray,
    moq: FloatArray,
    pack_size: FloatArray,
    capacity: FloatArray,
    discrete: np.ndarray,
    horizon_sd: FloatArray | None = None,
    errors: HorizonErrors | None = None,
    sizes: ReviewSizes | None = None,
    size_groups: np.ndarray | None = None,
    size_prior_weight: float = 30.0,
    horizon_bias: FloatArray | None = None,
    lead_horizon_sd: FloatArray | None = None,
    shape: ErrorShape | None = None,
    shape_groups: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Vectorised (s, S) levels for all series; see the module docstring for the formulas.

    ``horizon_sd`` (demand-only σ over ``L + R`` from rolling-origin errors; NaN = unknown)
    replaces ``√(L + R)·σ``; the rows of ``errors`` use the empirical protection demand, the
    other ``discrete`` rows Poisson/NB, the rest the normal. ``size_groups`` (0 intermittent,
    1 lumpy, negative: not pooled) pools the log-size dispersion of ``sizes`` with
    ``size_prior_weight`` degrees of freedom (:func:`_pooled_variances`).
    """
    d = np.maximum(forecast, 0.0)
    horizon = lead_time + review_period
    mean_p, mean_l = d * horizon, d * lead_time
    # Centre of the error samples of the empirical rows (the errors are centred on their bias).
    centre_p, centre_l = mean_p, mean_l
    if horizon_bias is not None:
        # The mean error at the protection horizon moves the forecast, shared out over L.
        lead_share = np.where(horizon > 0, lead_time / np.maximum(horizon, 1e-12), 0.0)
        centre_p = mean_p + horizon_bias
        centre_l = mean_l + horizon_bias * lead_share
        mean_p, mean_l = np.maximum(centre_p, 0.0), np.maximum(centre_l, 0.0)
    lt_var = d**2 * lead_time_sd**2
    var_demand_p = horizon * sigma**2
    if horizon_sd is not None:
        var_demand_p = np.where(
            np.isfinite(horizon_sd), np.nan_to_num(horizon_sd) ** 2, var_demand_p
        )
    var_p = var_demand_p + lt_var
    sigma_p = np.sqrt(var_p)
    # D_L: the same error process over the lead-time share of the interval, unless measured.
    share = np.where(horizon > 0, lead_time / np.maximum(horizon, 1e-12), 0.0)
    var_l = var_demand_p * share + lt_var
    if lead_horizon_sd is not None:
        measured = np.isfinite(lead_horizon_sd)
        var_l = np.where(measured, np.nan_to_num(lead_horizon_sd) ** 2 + lt_var, var_l)
    cycle_demand = d * review_period
    order_q = round_order_quantity(np.maximum(lot_size, cycle_demand), moq, pack_size)
    q_service = np.maximum(order_q, np.maximum(cycle_demand, 1e-9))
    lot_excess = q_service - np.maximum(cycle_demand, 1e-9)
    level, k = _normal_levels(
        service_level, service_type, mean_p, sigma_p, mean_l, np.sqrt(var_l), q_service, lot_excess
    )
    if shape is not None and shape_groups is not None:
        rows = np.flatnonzero((shape_groups >= 0) & (d > 0))
        rows = rows[shape.pooled[shape_groups[rows]] > 0]
        if rows.size:
            g = shape_groups[rows].astype(np.int64)
            if service_type == "fill_rate":
                level[rows] = shape_fill_rate_level(
                    shape, g, service_level[rows], mean_p[rows], sigma_p[rows], mean_l[rows],
                    np.sqrt(var_l[rows]), q_service[rows], lot_excess[rows],
                )  # fmt: skip
            else:
                level[rows] = shape_cycle_level(
                    shape, g, service_level[rows], mean_p[rows], sigma_p[rows]
                )
            k[rows] = (level[rows] - mean_p[rows]) / np.maximum(sigma_p[rows], 1e-9)
    use_empirical = np.zeros(d.shape, dtype=bool)
    if errors is not None:
        use_empirical[errors.rows] = True
    idx = np.flatnonzero(discrete | use_empirical)
    undershoot = np.full(d.shape, np.nan)
    lot = np.maximum(lot_size, cycle_demand)
    extra = np.maximum(np.ceil(lot - 1e-9) - np.ceil(cycle_demand - 1e-9), 0.0)
    sub = None
    if idx.size and sizes is not None:
        sub = _sparse_sizes(idx, sizes, size_groups, size_prior_weight)
        var_p[idx], var_l[idx] = _pooled_variances(
            idx, sizes, sub, size_groups, d, horizon, lead_time, var_p, var_l, lt_var
        )
    if idx.size:
        level[idx] = _discrete_levels(
            idx, service_level, service_type, mean_p, var_p, mean_l, var_l, q_service, lot_excess
        )
    if sub is not None and service_type == "fill_rate":
        # A lot that covers several reviews is ordered when one demand of a run crosses s, so the
        # stock protects D_L + V (V the undershoot, undershoot.py), charged per order cycle.
        # The per-review (R, S) level above is exact when every demand triggers an order; both
        # rest on a fitted NB, so the larger of the two is kept (measured on the demo replay).
        mp, vp, qs, ex = _undershoot_protection(idx, sub, extra, moq, pack_size, mean_l, var_l)
        undershoot[idx] = mp - mean_l[idx]
        per_order = _discrete_levels(
            np.arange(idx.size), service_level[idx], service_type, mp, vp, mean_l[idx],
            var_l[idx], qs, ex,
        )  # fmt: skip
        level[idx] = np.maximum(level[idx], per_order)
    if errors is not None and errors.rows.size:
        share_lt = np.where(var_demand_p > 0, lt_var / np.maximum(var_demand_p, 1e-12), 0.0)
        empirical_level = _empirical_levels(
            service_level, service_type, centre_p, centre_l, share_lt, errors, q_service,
            lot_excess,
        )  # fmt: skip
        level[errors.rows] = np.maximum(level[errors.rows], empirical_level)
    reorder_point = np.ceil(level - 1e-9)
    reorder_point = np.where(d > 0, np.maximum(reorder_point, 0.0), 0.0)
    # S − s is the part of the lot beyond one review's demand: the order S − IP is rounded up to
    # MOQ and pack when it is placed, so adding that rounding to S as well would order up to two
    # packs above s (an (s, nQ) policy when the pack is the lot). Whole-unit rounding of d·R
    # alone must not lift S above s either (that is the (R, S) case).
    order_up_to = np.ceil(reorder_point + extra - 1e-9)
    order_up_to, capped = cap_by_capacity(order_up_to, capacity, pack_size)
    reorder_point = np.minimum(reorder_point, order_up_to)
    normal_rows = ~(discrete | use_empirical)
    return {
        "protection_periods": horizon,
        "demand_over_protection": mean_p,
        "sigma_over_protection": np.sqrt(var_p),
        "safety_factor": np.where(normal_rows, k, np.nan),
        "safety_stock": reorder_point - mean_p,
        "reorder_point": reorder_point,
        "order_up_to": order_up_to,
        "order_quantity": order_q,
        "capacity_capped": capped,
        "undershoot": undershoot,
    }


def protection_rate(path: FloatArray, horizon: FloatArray) -> FloatArray:
    """Mean forecast per period over the first ``H`` periods of ``path`` (``H`` per series, whole
    periods; beyond the path's end its last value is carried).

    >>> protection_rate(np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([2.0]))
    array([1.5])
    >>> protection_rate(np.array([[1.0, 3.0]]), np.array([4.0]))
    array([2.5])
    """
    n, width = path.shape
    h = np.maximum(np.ceil(np.asarray(horizon, dtype=np.float64) - 1e-9), 1.0).astype(np.int64)
    cum = np.cumsum(path, axis=1)
    inside = np.minimum(h, width)
    total = cum[np.arange(n), inside - 1] + (h - inside) * path[:, -1]
    return np.asarray(np.maximum(total / h, 0.0), dtype=np.float64)


def _half_life(config: PlanConfig) -> float:
    return float(config.error_half_life or _ppy(config.period))


def _horizon_errors(
    demand: FloatArray,
    cumulative: FloatArray,
    horizon: FloatArray,
    lead: FloatArray,
    forecast_h: FloatArray,
    groups: np.ndarray,
    candidates: np.ndarray,
    config: PlanConfig,
) -> tuple[HorizonErrorStats, HorizonErrors, FloatArray]:
    """Bias and σ over ``L + R`` from rolling-origin errors (:mod:`.horizon_error`), the
    error samples, centred on their bias, of the ``candidates`` with enough origins, and the
    errors of every series (``(n, T)``)."""
    errors = horizon_errors(demand, cumulative, horizon)
    half_life = _half_life(config)
    # Series forecast well above zero at every origin err in proportion to their level.
    with np.errstate(invalid="ignore"):
        floor = np.where(np.isfinite(errors), cumulative, np.inf).min(axis=1)
    relative = (floor >= config.discrete_threshold) & (forecast_h >= config.discrete_threshold)
    scaled = np.where(
        relative[:, None], errors / np.where(relative[:, None], cumulative, 1.0), errors
    )
    stats = horizon_error_stats(
        scaled,
        forecast_h,
        groups.astype(np.int64),
        config.min_origins,
        half_life,
        config.error_prior_origins,
        relative,
    )
    rows = np.flatnonzero(candidates & stats.own)
    # F_t(L) is taken as the L/(L + R) share of F_t(L + R): exact for the level-only methods.
    share_all = (lead / horizon)[:, None]
    lead_cum = cumulative * share_all
    lead_all = horizon_errors(demand, lead_cum, np.maximum(lead, 1.0))
    lead_all[lead <= 0] = np.nan
    lead_scaled = np.where(
        relative[:, None], lead_all / np.where(relative[:, None], lead_cum, 1.0), lead_all
    )
    lead_stats = horizon_error_stats(
        lead_scaled,
        forecast_h * share_all[:, 0],
        groups.astype(np.int64),
        config.min_origins,
        half_life,
        config.error_prior_origins,
        relative,
    )
    stats = replace(stats, lead_sigma=np.where(lead > 0, lead_stats.sigma, 0.0))
    share = share_all[rows]
    lead_errors = lead_all[rows]
    bias = stats.bias[rows, None]
    return stats, HorizonErrors(rows, errors[rows] - bias, lead_errors - bias * share), scaled


def plan(
    demand: pl.DataFrame,
    receipts: pl.DataFrame | None,
    items: pl.DataFrame | None,
    config: PlanConfig,
    progress: Callable[[str], None] | None = None,
) -> PlanResult:
    """Plan every item-location found in ``demand`` (order lines ``item, site, date, quantity``).

    ``items`` (optional) may carry ``unit_cost, moq, pack_size, service_level, lead_time_days,
    lead_time_std_days, review_period_days, storage_capacity, criticality, supplier``.
    """
    import time

    timings: dict[str, float] = {}
    step = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal step
        now = time.perf_counter()
        timings[name] = now - step
        step = now
        if progress is not None:
            progress(name)

    history = build_demand_history(
        demand, config.period, config.start, config.end, config.outlier_k
    )
    mark("history")
    keys = history.series
    ppy = _ppy(config.period)
    unit_cost = _item_column(items, keys, "unit_cost", 1.0)
    override = _item_column(items, keys, "service_level", np.nan)
    if config.service_level is not None:
        override = np.where(np.isfinite(override), override, config.service_level)
    critical = np.zeros(keys.height, dtype=bool)
    if items is not None and "criticality" in items.columns:
        crit = keys.join(
            items.select("item", "site", pl.col("criticality").cast(pl.Utf8)),
            on=["item", "site"],
            how="left",
            maintain_order="left",
        )
        critical = (
            crit["criticality"]
            .fill_null("")
            .str.to_lowercase()
            .is_in(["critical", "high"])
            .to_numpy()
        )
    seg = segment(history.demand, keys, unit_cost, ppy, config.segmentation, critical, override)
    mark("segmentation")
    season = ppy
    classes = seg["demand_class"].to_numpy().astype(str)
    lt = learn_lead_times(keys, receipts, items, config.period, config.lead_time)
    per = days_per_period(config.period)
    review = _item_column(items, keys, "review_period_days", config.review_period * per) / per
    # Demand is bucketed: a receipt serves demand from the first period after it arrives, so the
    # protection interval counts whole lead-time periods (as the simulation does).
    lead = np.ceil(lt["lead_time_periods"].to_numpy() - 1e-9)
    lead_sd = lt["lead_time_std_periods"].to_numpy()
    horizon = np.maximum(np.ceil(lead + review - 1e-9), 1.0)
    mark("lead_time")
    # Large sizes are what makes a series erratic or lumpy: winsorising them would bias the
    # forecast low, so those classes are forecast on the raw demand.
    heavy = np.isin(classes, ["erratic", "lumpy"])
    y_forecast = np.where(heavy[:, None], history.demand, history.cleaned)
    fc = forecast_all(
        y_forecast,
        classes,
        season,
        config.forecast,
        actual=history.demand,
        cumulative_horizon=horizon,
    )
    mark("forecast")
    forecast = fc.frame["forecast_per_period"].to_numpy()
    sigma = fc.frame["forecast_sigma"].to_numpy()
    # The stock protects the next L + R periods, not the average of the reported horizon: a
    # seasonal or trended path is used where it is, at its rate over the protection interval.
    local = protection_rate(fc.path, horizon)
    holding = config.holding_rate * unit_cost / ppy
    if config.ordering_cost is not None:
        eoq = np.where(
            forecast > 0,
            economic_order_quantity(config.ordering_cost, holding, np.maximum(forecast, 1e-12))[0],
            0.0,
        )
    else:
        eoq = np.full(keys.height, np.nan)
    lot = np.where(np.isfinite(eoq), eoq, 0.0)
    assert fc.cumulative is not None
    mean_p = local * (lead + review)
    discrete = (mean_p < config.discrete_threshold) | np.isin(classes, ["intermittent"])
    discrete &= local > 0
    class_code = np.unique(classes, return_inverse=True)[1]
    err_stats, errors, all_errors = _horizon_errors(
        history.demand, fc.cumulative, horizon, lead, mean_p, class_code, heavy & (local > 0),
        config,
    )  # fmt: skip
    sigma_h = err_stats.sigma
    # Poisson/NB rows keep σ·√(L + R): their one-step errors are close to independent and the
    # discrete fit over-protects with the noisier horizon RMSE (measured on the replay).
    sigma_h_policy = np.where(discrete & ~heavy, np.nan, sigma_h)
    shape = error_shapes(
        honest_z(
            all_errors,
            horizon,
            _half_life(config),
            2 * config.min_origins,
            # errors of level-relative series are shares; the others are in units, and a σ
            # under half a unit is a series that barely sold
            np.where(err_stats.relative, 1e-6, 0.5),
        ),
        class_code,
        int(class_code.max(initial=0)) + 1,
        config.calibration_years * ppy,
        config.calibration_min_pool,
    )
    shaped = np.isfinite(sigma_h_policy) & ~np.isin(np.arange(keys.height), errors.rows)
    # The σ stated (and protected with) is the one that held out of sample on this history.
    dispersion = np.where(shaped, shape.dispersion[class_code], 1.0)
    sigma_h_policy = sigma_h_policy * dispersion
    sigma_l_policy = np.where(shaped, err_stats.lead_sigma * dispersion, np.nan)
    levels = policy_levels(
        local,
        sigma,
        lead,
        lead_sd,
        review,
        seg["service_level"].to_numpy(),
        config.service_type,
        lot,
        _item_column(items, keys, "moq", 0.0),
        _item_column(items, keys, "pack_size", 1.0),
        _item_column(items, keys, "storage_capacity", np.nan),
        discrete,
        sigma_h_policy,
        errors,
        review_sizes(history.demand, review),
        np.select([classes == "intermittent", classes == "lumpy"], [0, 1], -1),
        config.size_prior_weight,
        horizon_bias=np.where(np.isfinite(sigma_h_policy), err_stats.bias, 0.0),
        lead_horizon_sd=sigma_l_policy,
        shape=shape,
        shape_groups=np.where(shaped, class_code, -1),
    )
    variance_ratio = np.where(
        mean_p > 0, levels["sigma_over_protection"] ** 2 / np.maximum(mean_p, 1e-12), np.nan
    )
    distribution = np.where(
        ~discrete, "normal", np.where(variance_ratio > 1.0, "negative_binomial", "poisson")
    )
    distribution[errors.rows] = "empirical"
    mark("policy")
    policies = pl.concat(
        [
            keys.select("item", "site"),
            seg.select("demand_class", "abc", "xyz"),
            fc.frame.select("method", "forecast_per_period", "forecast_sigma"),
            lt.select("lead_time_periods", "lead_time_std_periods"),
            pl.DataFrame(
                {
                    k: levels[k]
                    for k in ("safety_stock", "reorder_point", "order_up_to", "order_quantity")
                }
            ),
            pl.DataFrame(
                {
                    "service_level": seg["service_level"],
                    "service_type": [config.service_type] * keys.height,
                    "review_period_periods": review,
                    "protection_periods": levels["protection_periods"],
                    "demand_over_protection": levels["demand_over_protection"],
                    "sigma_over_protection": levels["sigma_over_protection"],
                    "forecast_sigma_horizon": sigma_h,
                    "safety_factor": levels["safety_factor"],
                    "distribution": distribution,
                    "eoq": eoq,
                    "capacity_capped": levels["capacity_capped"],
                    "outlier_count": history.outlier.sum(axis=1).astype(np.int64),
                    "undershoot": levels["undershoot"],
                }
            ),
            fc.frame.select("alpha", "beta", "phi", "gamma", "mae", "rmse", "mase"),
            seg.select("annual_value", "cv_recent", "adi", "cv2", "criticality"),
            lt.select(
                "supplier",
                "lead_time_source",
                "lead_time_days",
                "lead_time_std_days",
                "on_time_share",
                "n_receipts",
            ),
        ],
        how="horizontal",
    )
    return PlanResult(policies, history, timings)
