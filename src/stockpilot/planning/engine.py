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
import numpy.typing as npt
import polars as pl

from stockpilot.planning.calibration import error_shapes, honest_z
from stockpilot.planning.empirical import horizon_errors
from stockpilot.planning.events import event_uplift
from stockpilot.planning.forecasting import ForecastConfig, forecast_all
from stockpilot.planning.history import DemandHistory, Period, build_demand_history
from stockpilot.planning.history import periods_per_year as _ppy
from stockpilot.planning.horizon_error import HorizonErrorStats, horizon_error_stats
from stockpilot.planning.leadtime import LeadTimeConfig, days_per_period, learn_lead_times
from stockpilot.planning.levels import HorizonErrors, PolicyInputs, PolicyLevels, policy_levels
from stockpilot.planning.policy import economic_order_quantity
from stockpilot.planning.segment_policy import (
    POLICY_TYPES,
    SegmentPolicies,
    SegmentPolicyConfig,
    apply_segment_policies,
    assign_segment_policies,
)
from stockpilot.planning.segmentation import SegmentationConfig, segment
from stockpilot.planning.stats import FloatArray
from stockpilot.planning.undershoot import review_sizes

__all__ = [
    "PLAN_COLUMNS",
    "PilotSegment",
    "PlanConfig",
    "PlanResult",
    "PolicyInputs",
    "PolicyLevels",
    "plan",
    "policy_levels",
    "protection_rate",
]

PLAN_COLUMNS = [
    "item", "site", "demand_class", "abc", "xyz", "method", "forecast_per_period",
    "forecast_sigma", "lead_time_periods", "lead_time_std_periods", "safety_stock",
    "reorder_point", "order_up_to", "order_quantity",
]  # fmt: skip


@dataclass(frozen=True)
class PilotSegment:
    """A challenger policy set in force on one segment (``field`` ``demand_class``, ``abc`` or
    the item master's ``family`` equal to ``value``): its ``service_level`` replaces the
    segment default there (an item-location override still wins) and ``segment_policies``
    turns the default segment rules on for it alone (:mod:`stockpilot.planning.pilot` replays
    it against the rest)."""

    field: str
    value: str
    service_level: float | None = None
    segment_policies: bool = False

    def __post_init__(self) -> None:
        if self.field not in ("demand_class", "abc", "family"):
            raise ValueError(f"field: {self.field!r} is not demand_class, abc or family")


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
    segment_policies: bool = False  # default rules for make-to-order, transfer, phase-out
    segment_policy: SegmentPolicyConfig = field(default_factory=SegmentPolicyConfig)
    pilot: PilotSegment | None = None  # a challenger on one segment (champion elsewhere)
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


POOL_CELLS = 2_000_000  # honest-z cells (rows × periods) a class's shape is drawn from


def _thinned(rows: np.ndarray, groups: np.ndarray, periods: int) -> np.ndarray:
    """``rows`` with each group thinned evenly to at most ``POOL_CELLS / periods`` rows: a
    class's error shape needs a few hundred thousand errors, not every series' (the honest-z
    replay is a loop over periods on every pooled row)."""
    keep = max(POOL_CELLS // max(periods, 1), 1)
    parts = []
    for g in np.unique(groups[rows]):
        members = rows[groups[rows] == g]
        step = int(np.ceil(members.size / keep))
        parts.append(members[::step] if step > 1 else members)
    return np.sort(np.concatenate(parts)) if parts else rows


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
    measured: np.ndarray,
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
    # Only the rows whose levels use measured errors need the lead part.
    need = np.flatnonzero(measured)
    share_all = (lead / horizon)[:, None]
    lead_cum = cumulative[need] * share_all[need]
    lead_all = np.full(errors.shape, np.nan)
    lead_all[need] = horizon_errors(demand[need], lead_cum, np.maximum(lead[need], 1.0))
    lead_all[lead <= 0] = np.nan
    rel = relative[need, None]
    lead_scaled = np.where(rel, lead_all[need] / np.where(rel, lead_cum, 1.0), lead_all[need])
    lead_sigma = np.full(lead.shape, np.nan)
    lead_sigma[need] = horizon_error_stats(
        lead_scaled,
        forecast_h[need] * share_all[need, 0],
        groups[need].astype(np.int64),
        config.min_origins,
        half_life,
        config.error_prior_origins,
        relative[need],
    ).sigma
    stats = replace(stats, lead_sigma=np.where(lead > 0, lead_sigma, 0.0))
    share = share_all[rows]
    lead_errors = lead_all[rows]
    bias = stats.bias[rows, None]
    return stats, HorizonErrors(rows, errors[rows] - bias, lead_errors - bias * share), scaled


def _path_starts(
    period_starts: np.ndarray, period: Period, width: int
) -> npt.NDArray[np.datetime64]:
    """Start dates of the ``width`` forecast periods after the history."""
    steps = np.arange(1, width + 1)
    if len(period_starts) == 0:
        return np.full(width, np.datetime64("NaT"), dtype="datetime64[D]")
    last = period_starts[-1]
    if period == "month":
        return (last.astype("datetime64[M]") + steps).astype("datetime64[D]")
    return (last + 7 * steps).astype("datetime64[D]")


def _seasonal_build(
    method: np.ndarray, protection: FloatArray, average: FloatArray, horizon: FloatArray
) -> FloatArray:
    """Pre-season build-up of seasonal rows: how much more the seasonal path asks over the
    protection interval than the item's average rate (item units; 0 elsewhere or off-season).

    >>> _seasonal_build(np.array(["holt_winters", "ses"]), np.array([30.0, 30.0]),
    ...     np.array([20.0, 20.0]), np.array([4.0, 4.0])).tolist()
    [40.0, 0.0]
    """
    build = np.maximum(protection - np.maximum(average, 0.0), 0.0) * horizon
    return np.asarray(np.where(method == "holt_winters", build, 0.0), dtype=np.float64)


def _largest_uplift(factor: FloatArray, horizon: FloatArray) -> FloatArray:
    """The largest multiplier over each row's first ``⌈H⌉`` path periods."""
    h = np.minimum(np.ceil(horizon - 1e-9), factor.shape[1]).astype(np.int64)
    inside = np.arange(factor.shape[1])[None, :] < h[:, None]
    return np.asarray(np.where(inside, factor, 1.0).max(axis=1, initial=1.0))


def _text_column(items: pl.DataFrame | None, keys: pl.DataFrame, name: str) -> np.ndarray:
    if items is None or name not in items.columns:
        return np.full(keys.height, "", dtype=object)
    joined = keys.select("item", "site").join(
        items.select("item", "site", pl.col(name).cast(pl.Utf8)).unique(
            ["item", "site"], keep="last"
        ),
        on=["item", "site"],
        how="left",
        maintain_order="left",
    )
    return np.asarray(joined[name].fill_null("").to_numpy(), dtype=object)


def _segment_policies(
    config: PlanConfig,
    history: DemandHistory,
    seg: pl.DataFrame,
    items: pl.DataFrame | None,
    keys: pl.DataFrame,
    unit_cost: FloatArray,
    lead: FloatArray,
    critical: np.ndarray,
) -> SegmentPolicies:
    """The policy type per row: overrides (``items.policy_type``) always, the default rules
    when ``config.segment_policies`` (:mod:`stockpilot.planning.segment_policy`)."""
    override = _text_column(items, keys, "policy_type").astype(str)
    given = np.isin(override, POLICY_TYPES)
    plain = SegmentPolicies(
        np.where(given, override, "stock").astype(str),
        np.where(given, "override per item-location", "default: (s, S) stock policy").astype(str),
    )
    pilot = config.pilot
    in_pilot = _pilot_rows(pilot, seg) if pilot is not None and pilot.segment_policies else None
    if not config.segment_policies and in_pilot is None:
        return plain
    ruled = assign_segment_policies(
        history.demand,
        seg["abc"].to_numpy().astype(str),
        seg["demand_class"].to_numpy().astype(str),
        unit_cost,
        lead,
        critical,
        _text_column(items, keys, "replenished_from").astype(str) != "",
        _ppy(config.period),
        override,
        config.segment_policy,
    )
    if config.segment_policies or in_pilot is None:
        return ruled
    return SegmentPolicies(
        np.where(in_pilot, ruled.policy_type, plain.policy_type).astype(str),
        np.where(in_pilot, ruled.reason, plain.reason).astype(str),
    )


def _pilot_rows(pilot: PilotSegment, seg: pl.DataFrame) -> npt.NDArray[np.bool_]:
    """The rows of the pilot segment."""
    return np.asarray(seg[pilot.field].cast(pl.Utf8).to_numpy() == pilot.value, dtype=bool)


def _pilot_service_levels(
    pilot: PilotSegment | None,
    seg: pl.DataFrame,
    item_override: FloatArray,
    critical: npt.NDArray[np.bool_],
) -> pl.DataFrame:
    """``seg`` with the pilot's service level on its segment, where no item-location override
    or criticality sets one."""
    if pilot is None or pilot.service_level is None:
        return seg
    rows = _pilot_rows(pilot, seg) & ~np.isfinite(item_override) & ~critical
    current = seg["service_level"].to_numpy()
    return seg.with_columns(
        pl.Series("service_level", np.where(rows, pilot.service_level, current), pl.Float64)
    )


def plan(
    demand: pl.DataFrame,
    receipts: pl.DataFrame | None,
    items: pl.DataFrame | None,
    config: PlanConfig,
    progress: Callable[[str], None] | None = None,
    events: pl.DataFrame | None = None,
) -> PlanResult:
    """Plan every item-location found in ``demand`` (order lines ``item, site, date, quantity``).

    ``items`` (optional) may carry ``unit_cost, moq, pack_size, service_level, lead_time_days,
    lead_time_std_days, review_period_days, storage_capacity, criticality, supplier,
    policy_type, replenished_from, family``; ``events`` (optional) the known events
    (:mod:`stockpilot.planning.events`).
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
    if config.pilot is not None and config.pilot.field == "family":
        # The item master's family, per row, for a pilot scoped to one family.
        seg = seg.with_columns(
            pl.Series("family", _text_column(items, keys, "family").astype(str), pl.Utf8)
        )
    seg = _pilot_service_levels(
        config.pilot, seg, _item_column(items, keys, "service_level", np.nan), critical
    )
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
    base_rate = protection_rate(fc.path, horizon)
    uplift = event_uplift(
        keys, _text_column(items, keys, "family").astype(str),
        _path_starts(history.period_starts, config.period, fc.path.shape[1]), events,
    )  # fmt: skip
    local = protection_rate(fc.path * uplift.factor, horizon)
    event_build = (local - base_rate) * horizon
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
    # Poisson/NB rows keep σ·√(L + R): their one-step errors are close to independent and the
    # discrete fit over-protects with the noisier horizon RMSE (measured on the replay).
    poisson_rows = discrete & ~heavy
    err_stats, errors, all_errors = _horizon_errors(
        history.demand, fc.cumulative, horizon, lead, mean_p, class_code, heavy & (local > 0),
        ~poisson_rows, config,
    )  # fmt: skip
    sigma_h = err_stats.sigma
    sigma_h_policy = np.where(poisson_rows, np.nan, sigma_h)
    shaped = np.isfinite(sigma_h_policy) & ~np.isin(np.arange(keys.height), errors.rows)
    # The class's shape pools every series of the class with measured errors (its slow members
    # included): a pool of the normal rows alone over-protected the demo's smooth class.
    pool = _thinned(
        np.flatnonzero(~poisson_rows | np.isfinite(sigma_h)), class_code, history.demand.shape[1]
    )
    shape = error_shapes(
        honest_z(
            all_errors[pool],
            horizon[pool],
            _half_life(config),
            2 * config.min_origins,
            # errors of level-relative series are shares; the others are in units, and a σ
            # under half a unit is a series that barely sold
            np.where(err_stats.relative[pool], 1e-6, 0.5),
        ),
        class_code[pool],
        int(class_code.max(initial=0)) + 1,
        config.calibration_years * ppy,
        config.calibration_min_pool,
    )
    # The σ stated (and protected with) is the one that held out of sample on this history.
    dispersion = np.where(shaped, shape.dispersion[class_code], 1.0)
    sigma_h_policy = sigma_h_policy * dispersion
    sigma_l_policy = np.where(shaped, err_stats.lead_sigma * dispersion, np.nan)
    levels = policy_levels(
        PolicyInputs(
            forecast=local,
            sigma=sigma,
            lead_time=lead,
            lead_time_sd=lead_sd,
            review_period=review,
            service_level=seg["service_level"].to_numpy(),
            service_type=config.service_type,
            lot_size=lot,
            moq=_item_column(items, keys, "moq", 0.0),
            pack_size=_item_column(items, keys, "pack_size", 1.0),
            capacity=_item_column(items, keys, "storage_capacity", np.nan),
            discrete=discrete,
            horizon_sd=sigma_h_policy,
            errors=errors,
            sizes=review_sizes(history.demand, review),
            size_groups=np.select([classes == "intermittent", classes == "lumpy"], [0, 1], -1),
            size_prior_weight=config.size_prior_weight,
            horizon_bias=np.where(np.isfinite(sigma_h_policy), err_stats.bias, 0.0),
            lead_horizon_sd=sigma_l_policy,
            shape=shape,
            shape_groups=np.where(shaped, class_code, -1),
        )
    ).columns()
    variance_ratio = np.where(
        mean_p > 0, levels["sigma_over_protection"] ** 2 / np.maximum(mean_p, 1e-12), np.nan
    )
    distribution = np.where(
        ~discrete, "normal", np.where(variance_ratio > 1.0, "negative_binomial", "poisson")
    )
    distribution[errors.rows] = "empirical"
    segment_types = _segment_policies(config, history, seg, items, keys, unit_cost, lead, critical)
    (
        levels["reorder_point"], levels["order_up_to"], levels["safety_stock"], excess_flag,
    ) = apply_segment_policies(
        segment_types, levels["reorder_point"], levels["order_up_to"], levels["safety_stock"]
    )  # fmt: skip
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
                    "policy_type": segment_types.policy_type,
                    "in_pilot": (
                        _pilot_rows(config.pilot, seg)
                        if config.pilot is not None
                        else np.zeros(keys.height, dtype=bool)
                    ),
                    "policy_reason": segment_types.reason,
                    "excess_flag": excess_flag,
                    "event_uplift": _largest_uplift(uplift.factor, horizon) - 1.0,
                    "event_build": event_build,
                    "seasonal_build": _seasonal_build(
                        fc.frame["method"].to_numpy(), base_rate, forecast, horizon
                    ),
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
