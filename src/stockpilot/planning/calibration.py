"""Honest standardised errors and the segment's error shape where the normal's tail is wrong.

A σ measured on the past is itself a forecast: it is tested on errors it has not seen. For every
series and origin ``t`` the engine replays what it would have stated then — the bias and σ of
the ``H``-period errors whose windows had ended before ``t`` (exponentially weighted with the
half-life of :mod:`stockpilot.planning.horizon_error`) — and standardises the error made at
``t`` by them:

    z_t = (e_t − b_{<t}) / σ_{<t}

These ``z`` are out of sample twice over (the forecast and its σ). Pooled over the recent
origins of a segment (demand class) they give

* ``dispersion`` ``c = √mean(z²)``: the factor by which the stated σ must grow (or shrink) for its
  promise to hold on this history — the σ the engine reports and protects with is ``c·σ_H``;
* the ``shape``: the empirical distribution of ``z / c`` (conformal style), whose loss function
  ``E[(Z − x)+]`` replaces the normal's in the fill-rate and cycle-service levels, so a heavy or
  skewed tail is protected as it is, not as the normal says it is.

A segment with fewer than ``min_pool`` honest errors keeps ``c = 1`` and the normal shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockpilot.planning.stats import FloatArray, normal_loss

__all__ = ["ErrorShape", "error_shapes", "honest_z", "shape_cycle_level", "shape_fill_rate_level"]

GRID = np.linspace(-8.0, 16.0, 2401)
MAX_POOL = 200_000


def honest_z(
    errors: FloatArray,
    horizon: npt.ArrayLike,
    half_life: float,
    min_count: int,
    min_sd: npt.ArrayLike = 0.0,
) -> FloatArray:
    """``(n, T)`` errors standardised by the bias and σ known before each origin (NaN where
    fewer than ``min_count`` earlier errors were known, or that σ was below ``min_sd`` — a
    series that sold nothing for months has no spread to standardise by).

    The error of origin ``s`` is known once its ``H`` periods are over, i.e. from origin ``s + H``.

    >>> e = np.array([[1.0, -1.0, 1.0, -1.0, 3.0, np.nan]])
    >>> honest_z(e, [1], np.inf, 4).round(3).tolist()
    [[nan, nan, nan, nan, 3.0, nan]]
    """
    n, t_len = errors.shape
    h = np.clip(np.ceil(np.asarray(horizon, dtype=np.float64) - 1e-9), 1, t_len)
    h = np.broadcast_to(h.astype(np.int64), (n,))
    lam = 1.0 if not np.isfinite(half_life) or half_life <= 0 else 2.0 ** (-1.0 / half_life)
    s0, s1, s2, seen = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    rows = np.arange(n)
    floor = np.maximum(np.broadcast_to(np.asarray(min_sd, dtype=np.float64), (n,)), 1e-12)
    z = np.full((n, t_len), np.nan)
    for t in range(t_len):
        src = t - h
        ok = src >= 0
        e_new = errors[rows, np.maximum(src, 0)]
        new = ok & np.isfinite(e_new)
        e_val = np.where(new, e_new, 0.0)
        decay = np.where(new, lam, 1.0)
        s0 = s0 * decay + new
        s1 = s1 * decay + e_val
        s2 = s2 * decay + e_val * e_val
        seen += new
        with np.errstate(invalid="ignore", divide="ignore"):
            bias = s1 / s0
            sd = np.sqrt(np.maximum(s2 / s0 - bias * bias, 0.0))
            zt = (errors[:, t] - bias) / sd
        z[:, t] = np.where((seen >= min_count) & (sd >= floor), zt, np.nan)
    return z


@dataclass(frozen=True)
class ErrorShape:
    """Per segment ``g``: ``dispersion[g]`` (``c``), ``loss[g]`` (``E[(Z − x)+]`` on
    :data:`GRID` for the unit-RMS ``Z``), ``quantiles[g]`` (``Z``'s sorted sample) and
    ``pooled[g]`` (how many honest errors stand behind it; 0 means normal)."""

    dispersion: FloatArray
    loss: FloatArray
    samples: list[FloatArray]
    pooled: npt.NDArray[np.int64]

    def row_loss(self, groups: npt.NDArray[np.int64], x: FloatArray) -> FloatArray:
        """``E[(Z_g − x)+]`` per row (linear interpolation on the grid; beyond it, the tail
        straight line of the mean, or zero)."""
        step = GRID[1] - GRID[0]
        pos = np.clip((x - GRID[0]) / step, 0.0, GRID.size - 1.000001)
        i = np.floor(pos).astype(np.int64)
        frac = pos - i
        table = self.loss
        value = table[groups, i] * (1.0 - frac) + table[groups, i + 1] * frac
        below = x < GRID[0]
        return np.asarray(np.where(below, table[groups, 0] + (GRID[0] - x), value))


def _loss_table(z: FloatArray) -> FloatArray:
    """``E[(Z − x)+]`` on :data:`GRID` for the sample ``z``."""
    zs = np.sort(z)
    tail = np.concatenate([np.cumsum(zs[::-1])[::-1], [0.0]])  # Σ_{j ≥ i} z_j
    i = np.searchsorted(zs, GRID, side="right")
    count = zs.size - i
    return np.asarray((tail[i] - GRID * count) / zs.size, dtype=np.float64)


def error_shapes(
    z: FloatArray,
    groups: npt.NDArray[np.int64],
    n_groups: int,
    recent: int,
    min_pool: int,
) -> ErrorShape:
    """Pool the honest ``z`` of the last ``recent`` periods per group (see the module docstring)."""
    dispersion = np.ones(n_groups)
    loss = np.repeat(normal_loss(GRID)[None, :], n_groups, axis=0)
    samples: list[FloatArray] = [np.zeros(0)] * n_groups
    pooled = np.zeros(n_groups, dtype=np.int64)
    window = z[:, max(0, z.shape[1] - recent) :]
    for g in range(n_groups):
        sample = window[groups == g]
        # Bounded to the grid: one error of 10⁶ σ must not decide a segment's spread.
        sample = np.clip(sample[np.isfinite(sample)], GRID[0], GRID[-1])
        if sample.size > MAX_POOL:  # an even thinning keeps the shape and bounds the sort
            sample = sample[:: int(np.ceil(sample.size / MAX_POOL))]
        if sample.size < min_pool:
            continue
        c = float(np.sqrt(np.mean(sample * sample)))
        if not c > 0:
            continue
        unit = np.sort(sample / c)
        dispersion[g], loss[g], samples[g], pooled[g] = c, _loss_table(unit), unit, sample.size
    return ErrorShape(dispersion, loss, samples, pooled)


def shape_fill_rate_level(
    shape: ErrorShape,
    groups: npt.NDArray[np.int64],
    fill_rate: FloatArray,
    mean_p: FloatArray,
    sd_p: FloatArray,
    mean_l: FloatArray,
    sd_l: FloatArray,
    order_quantity: FloatArray,
    lot_excess: FloatArray,
) -> FloatArray:
    """(R, S) level meeting fill rate ``β`` with the segment's error shape in place of the
    normal: ``σ_p·G_Z((S − μ_p)/σ_p) − σ_L·G_Z((S + e − μ_L)/σ_L) = (1 − β)·Q`` (as
    :func:`stockpilot.planning.policy.rs_fill_rate_level_normal`, whose normal ``G1`` is the
    special case)."""
    sp = np.maximum(sd_p, 1e-12)
    sl = np.maximum(sd_l, 1e-12)
    allowed = (1.0 - fill_rate) * order_quantity

    def shortage(level: FloatArray) -> FloatArray:
        lead = np.where(
            sd_l > 0,
            sl * shape.row_loss(groups, (level + lot_excess - mean_l) / sl),
            np.maximum(mean_l - level - lot_excess, 0.0),
        )
        return np.asarray(sp * shape.row_loss(groups, (level - mean_p) / sp) - lead)

    lo = np.minimum(mean_l, mean_p) - 8.0 * sp - order_quantity
    hi = mean_p + 16.0 * sp
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        ok = shortage(mid) <= allowed
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return np.asarray(hi, dtype=np.float64)


def shape_cycle_level(
    shape: ErrorShape,
    groups: npt.NDArray[np.int64],
    cycle_service: FloatArray,
    mean_p: FloatArray,
    sd_p: FloatArray,
) -> FloatArray:
    """``μ_p + σ_p·q_Z(CSL)``: the segment's empirical quantile in place of ``Φ⁻¹``."""
    k = np.empty(mean_p.size)
    for g in np.unique(groups):
        rows = groups == g
        sample = shape.samples[g]
        if sample.size:
            k[rows] = np.quantile(sample, cycle_service[rows])
        else:
            from stockpilot.planning.stats import normal_ppf

            k[rows] = normal_ppf(cycle_service[rows])
    return np.asarray(mean_p + k * sd_p, dtype=np.float64)
