"""(s, S) levels for every item-location at once, from one typed value of arrays.

:class:`PolicyInputs` holds everything the levels depend on (forecast rate, σ, lead time and
review in periods, targets, lot and rounding, and the optional measured horizon errors, error
shapes and review sizes); :func:`policy_levels` returns a :class:`PolicyLevels`. The formulas are
those of :mod:`stockpilot.planning.engine` (its module docstring states the conventions).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from stockpilot.planning.calibration import ErrorShape, shape_cycle_level, shape_fill_rate_level
from stockpilot.planning.empirical import empirical_cycle_level, empirical_fill_rate_level
from stockpilot.planning.policy import (
    cap_by_capacity,
    round_order_quantity,
    rs_fill_rate_level_normal,
)
from stockpilot.planning.policy_discrete import (
    discrete_cycle_service_level,
    discrete_fill_rate_level,
)
from stockpilot.planning.stats import FloatArray, normal_ppf
from stockpilot.planning.undershoot import (
    ReviewSizes,
    pool_size_dispersion,
    undershoot_moments,
)

__all__ = ["HorizonErrors", "PolicyInputs", "PolicyLevels", "policy_levels"]


@dataclass(frozen=True)
class PolicyInputs:
    """One value per item-location in each array (all of length ``n``).

    ``forecast`` demand per period over the protection interval; ``sigma`` one-step σ;
    ``lead_time``, ``lead_time_sd``, ``review_period`` in periods; ``service_level`` target per
    row of ``service_type`` (``"cycle"`` or ``"fill_rate"``); ``lot_size`` (0: one review's
    demand), ``moq``, ``pack_size``, ``capacity`` (NaN: none) in units; ``discrete`` rows use
    Poisson/NB. Optional: ``horizon_sd`` (demand σ over ``L + R`` measured out of sample, NaN
    unknown) and ``lead_horizon_sd`` (over ``L``), ``horizon_bias`` (mean error over ``L + R``,
    added to the protection demand), ``errors`` (empirical rows), ``sizes`` / ``size_groups`` /
    ``size_prior_weight`` (pooled sizes of sparse rows), ``shape`` / ``shape_groups`` (segment
    error shape per row, negative: the normal).
    """

    forecast: FloatArray
    sigma: FloatArray
    lead_time: FloatArray
    lead_time_sd: FloatArray
    review_period: FloatArray
    service_level: FloatArray
    service_type: str
    lot_size: FloatArray
    moq: FloatArray
    pack_size: FloatArray
    capacity: FloatArray
    discrete: np.ndarray
    horizon_sd: FloatArray | None = None
    errors: HorizonErrors | None = None
    sizes: ReviewSizes | None = None
    size_groups: np.ndarray | None = None
    size_prior_weight: float = 30.0
    horizon_bias: FloatArray | None = None
    lead_horizon_sd: FloatArray | None = None
    shape: ErrorShape | None = None
    shape_groups: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = np.shape(self.forecast)
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.shape != n:
                raise ValueError(f"{f.name}: shape {value.shape}, expected {n}")
        if self.service_type not in ("cycle", "fill_rate"):
            raise ValueError(f"service_type: {self.service_type!r} is not cycle or fill_rate")


@dataclass(frozen=True)
class PolicyLevels:
    """Per item-location: ``protection_periods`` (``L + R``), ``demand_over_protection`` and
    ``sigma_over_protection`` (mean and σ of the demand protected), ``safety_factor`` (normal
    rows; NaN otherwise), ``safety_stock``, ``reorder_point`` ``s``, ``order_up_to`` ``S``,
    ``order_quantity``, ``capacity_capped`` and ``undershoot`` (mean, sparse rows)."""

    protection_periods: FloatArray
    demand_over_protection: FloatArray
    sigma_over_protection: FloatArray
    safety_factor: FloatArray
    safety_stock: FloatArray
    reorder_point: FloatArray
    order_up_to: FloatArray
    order_quantity: FloatArray
    capacity_capped: np.ndarray
    undershoot: FloatArray

    def columns(self) -> dict[str, np.ndarray]:
        """The levels by column name (the plan's explanation columns)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


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


def policy_levels(inputs: PolicyInputs) -> PolicyLevels:
    """Vectorised (s, S) levels for all series; see the module docstring for the formulas.

    ``horizon_sd`` (demand-only σ over ``L + R`` from rolling-origin errors; NaN = unknown)
    replaces ``√(L + R)·σ``; the rows of ``errors`` use the empirical protection demand, the
    other ``discrete`` rows Poisson/NB, the rest the normal. ``size_groups`` (0 intermittent,
    1 lumpy, negative: not pooled) pools the log-size dispersion of ``sizes`` with
    ``size_prior_weight`` degrees of freedom (:func:`_pooled_variances`).
    """
    forecast, sigma, lead_time = inputs.forecast, inputs.sigma, inputs.lead_time
    lead_time_sd, review_period = inputs.lead_time_sd, inputs.review_period
    service_level, service_type = inputs.service_level, inputs.service_type
    lot_size, moq, pack_size = inputs.lot_size, inputs.moq, inputs.pack_size
    capacity, discrete, horizon_sd = inputs.capacity, inputs.discrete, inputs.horizon_sd
    errors, sizes, size_groups = inputs.errors, inputs.sizes, inputs.size_groups
    size_prior_weight, horizon_bias = inputs.size_prior_weight, inputs.horizon_bias
    lead_horizon_sd, shape, shape_groups = inputs.lead_horizon_sd, inputs.shape, inputs.shape_groups
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
    return PolicyLevels(
        protection_periods=horizon,
        demand_over_protection=mean_p,
        sigma_over_protection=np.sqrt(var_p),
        safety_factor=np.where(normal_rows, k, np.nan),
        safety_stock=reorder_point - mean_p,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        order_quantity=order_q,
        capacity_capped=capped,
        undershoot=undershoot,
    )
