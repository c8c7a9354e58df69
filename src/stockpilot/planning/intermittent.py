"""Intermittent-demand forecasts with statsforecast-compatible conventions (vectorised).

Conventions (checked against statsforecast 2.1.1 in ``refs/intermittent_forecasts.csv``):

* SES is initialised at the first observation; the default ``α = 0.1``.
* Croston's first interval counts from period 1 to the first non-zero period.
* "Optimised" SES picks ``α ∈ [0.1, 0.3]`` minimising the in-sample one-step SSE of the sequence
  it smooths (golden-section search, vectorised over series).
* TSB smooths the 0/1 occurrence over all periods and the sizes over non-zero periods only.
* SBA = ``(1 − α/2)``·Croston.
* ADIDA (Nikolopoulos et al. 2011): aggregate into non-overlapping buckets of
  ``a = round(mean inter-demand interval)`` periods (incomplete bucket at the *start* dropped),
  optimised SES on the bucket sums, forecast ``/ a``.
* IMAPA (Petropoulos & Kourentzes 2015): average of the ADIDA-style forecasts over aggregation
  levels ``1..a``.

All functions take ``Y`` of shape ``(n, T)`` and return the one-step forecast per series
``(n,)`` (flat over the horizon). Series without demand forecast 0.
"""

from __future__ import annotations

import numpy as np

from stockpilot.planning.forecast_kernels import croston_kernel, ses_kernel, tsb_kernel
from stockpilot.planning.stats import FloatArray

__all__ = [
    "adida",
    "croston_classic",
    "croston_optimized",
    "croston_sba",
    "imapa",
    "mean_interval",
    "optimized_ses",
    "tsb",
]

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def croston_classic(y: FloatArray, alpha: float = 0.1) -> FloatArray:
    """Croston's method with ``α = 0.1`` on sizes and intervals."""
    return croston_kernel(y, alpha).path[0, :, 0]


def croston_sba(y: FloatArray, alpha: float = 0.1) -> FloatArray:
    """Syntetos–Boylan approximation: ``(1 − α/2)``·Croston."""
    return croston_kernel(y, alpha, sba=True).path[0, :, 0]


def tsb(y: FloatArray, alpha_size: float, alpha_probability: float) -> FloatArray:
    """TSB forecast ``p·z`` with size smoothing ``α`` and occurrence smoothing ``β``."""
    return tsb_kernel(y, alpha_size, alpha_probability).path[0, :, 0]


def _masked_ses_sse(values: FloatArray, mask: FloatArray, alpha: FloatArray) -> FloatArray:
    """SSE of SES run only over the masked entries of each row (the compressed sequence)."""
    n, t_len = values.shape
    level = np.full(n, np.nan)
    sse = np.zeros(n)
    for t in range(t_len):
        m = mask[:, t]
        v = values[:, t]
        started = ~np.isnan(level)
        err = np.where(m & started, v - level, 0.0)
        sse += err * err
        level = np.where(m & ~started, v, np.where(m & started, level + alpha * err, level))
    return sse


def _masked_ses_final(values: FloatArray, mask: FloatArray, alpha: FloatArray) -> FloatArray:
    n, t_len = values.shape
    level = np.full(n, np.nan)
    for t in range(t_len):
        m = mask[:, t]
        v = values[:, t]
        started = ~np.isnan(level)
        level = np.where(m & ~started, v, np.where(m & started, level + alpha * (v - level), level))
    return level


def _golden_alpha(
    values: FloatArray, mask: FloatArray, lo: float = 0.1, hi: float = 0.3
) -> FloatArray:
    """Per-row ``α ∈ [lo, hi]`` minimising the masked SES SSE (vectorised golden section)."""
    n = values.shape[0]
    a = np.full(n, lo)
    b = np.full(n, hi)
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fc = _masked_ses_sse(values, mask, c)
    fd = _masked_ses_sse(values, mask, d)
    for _ in range(60):
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new_c = np.where(left, b - _GOLDEN * (b - a), d)
        new_d = np.where(left, c, a + _GOLDEN * (b - a))
        c, d = new_c, new_d
        f_new = _masked_ses_sse(values, mask, np.where(left, c, d))
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
    return 0.5 * (a + b)


def optimized_ses(y: FloatArray, mask: FloatArray | None = None) -> FloatArray:
    """Final SES level with ``α`` optimised in ``[0.1, 0.3]`` per row (masked entries only)."""
    m = np.ones(y.shape, dtype=bool) if mask is None else mask
    alpha = _golden_alpha(y, m)
    return _masked_ses_final(y, m, alpha)


def _intervals_matrix(y: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """Inter-demand intervals placed at demand periods (first counted from period 1)."""
    n, t_len = y.shape
    out = np.zeros_like(y)
    since = np.zeros(n)
    for t in range(t_len):
        since += 1.0
        demand = y[:, t] > 0
        out[:, t] = np.where(demand, since, 0.0)
        since = np.where(demand, 0.0, since)
    return out, y > 0


def croston_optimized(y: FloatArray) -> FloatArray:
    """Croston with sizes and intervals each smoothed by optimised SES (``α ∈ [0.1, 0.3]``)."""
    intervals, mask = _intervals_matrix(y)
    size = optimized_ses(y, mask)
    interval = optimized_ses(intervals, mask)
    out = np.where(np.isnan(size), 0.0, size / np.where(np.isnan(interval), 1.0, interval))
    return np.asarray(out, dtype=np.float64)


def mean_interval(y: FloatArray) -> FloatArray:
    """Mean inter-demand interval per series (NaN without demand)."""
    intervals, mask = _intervals_matrix(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(intervals.sum(axis=1) / mask.sum(axis=1), dtype=np.float64)


def _aggregated_forecast(y: FloatArray, level: int) -> FloatArray:
    """Optimised SES on non-overlapping bucket sums of ``level`` periods, divided by ``level``."""
    t_len = y.shape[1]
    usable = (t_len // level) * level
    buckets = y[:, t_len - usable :].reshape(y.shape[0], -1, level).sum(axis=2)
    if buckets.shape[1] == 1:
        return buckets[:, 0] / level
    return optimized_ses(buckets) / level


def _round_half_even(x: FloatArray) -> FloatArray:
    # Python's round() (banker's rounding) is what the reference implementation applies.
    return np.round(x)


def adida(y: FloatArray) -> FloatArray:
    """ADIDA forecast per series (grouped by aggregation level, vectorised inside a group)."""
    levels = _round_half_even(np.nan_to_num(mean_interval(y), nan=0.0)).astype(int)
    out = np.zeros(y.shape[0])
    for level in np.unique(levels[levels > 0]):
        rows = levels == level
        out[rows] = _aggregated_forecast(y[rows], int(level))
    return out


def imapa(y: FloatArray) -> FloatArray:
    """IMAPA forecast per series: mean over aggregation levels ``1..a`` of ADIDA-style forecasts."""
    levels = _round_half_even(np.nan_to_num(mean_interval(y), nan=0.0)).astype(int)
    out = np.zeros(y.shape[0])
    for top in np.unique(levels[levels > 0]):
        rows = levels == top
        sub = y[rows]
        forecasts = [_aggregated_forecast(sub, lv) for lv in range(1, int(top) + 1)]
        out[rows] = np.mean(forecasts, axis=0)
    return out


_ = ses_kernel  # SES itself is exposed through stockpilot.planning.forecast_kernels
