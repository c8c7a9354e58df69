"""Protection demand from the series' own rolling-origin forecast errors (vectorised).

For erratic and lumpy demand neither the normal nor a negative binomial fitted by mean and
variance has the right shape over the protection interval: horizon demand is a compound of few
occurrences and heavy-tailed sizes. The engine therefore uses the empirical distribution of the
series' own ``H``-period cumulative forecast errors:

* origin ``t`` (every period with a forecast), horizon ``H`` whole periods:
  ``e_t = Σ_{i<H} y_{t+i} − F_t(H)``, where ``F_t(H)`` is the cumulative forecast made before
  ``t`` (:func:`stockpilot.planning.forecasting.cumulative_forecasts`);
* protection demand samples ``x_t = max(d·H + e_t, 0)`` around the current forecast ``d``; the
  bias of the method (if any) is in the errors, so it is corrected, not ignored.

Levels are integers (item units); all functions take ``(n, T)`` sample matrices with NaN for
missing origins and work on every row at once (bisection over levels, never a loop over rows).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from stockpilot.planning.stats import FloatArray

__all__ = [
    "empirical_cycle_level",
    "empirical_fill_rate_level",
    "empirical_loss",
    "horizon_errors",
]


def horizon_errors(
    y: FloatArray, cumulative_forecast: FloatArray, horizon: npt.ArrayLike
) -> FloatArray:
    """``(n, T)`` cumulative errors ``Σ_{i<H} y_{t+i} − F_t(H)``; NaN where the window runs past
    the history or no forecast was made. ``cumulative_forecast[:, t]`` is ``F_t(H)``."""
    n, t_len = y.shape
    h = np.clip(np.ceil(np.asarray(horizon, dtype=np.float64) - 1e-9), 1, t_len).astype(np.int64)
    h = np.broadcast_to(h, (n,))
    cums = np.concatenate([np.zeros((n, 1)), np.cumsum(y, axis=1)], axis=1)
    ends = np.arange(t_len)[None, :] + h[:, None]
    window = np.take_along_axis(cums, np.minimum(ends, t_len), axis=1) - cums[:, :t_len]
    valid = (ends <= t_len) & np.isfinite(cumulative_forecast)
    return np.where(valid, window - np.nan_to_num(cumulative_forecast), np.nan)


def empirical_loss(samples: FloatArray, level: FloatArray) -> FloatArray:
    """Expected shortage ``E[(X − S)+]`` per row over the non-NaN samples of ``X``."""
    excess = np.maximum(samples - level[:, None], 0.0)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.nanmean(excess, axis=1), dtype=np.float64)


def _integer_bisection(ok: object, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """Smallest integer in ``(lo, hi]`` where the monotone predicate ``ok`` holds (ok(hi) true)."""
    lo, hi = lo.copy(), hi.copy()
    while np.any(hi - lo > 1):
        mid = np.floor(0.5 * (lo + hi))
        good = ok(mid)  # type: ignore[operator]
        hi = np.where(good, mid, hi)
        lo = np.where(good, lo, mid)
    return hi


def empirical_fill_rate_level(
    fill_rate: FloatArray,
    protection: FloatArray,
    lead: FloatArray,
    cycle_demand: FloatArray,
    lot_excess: FloatArray | float = 0.0,
) -> FloatArray:
    """Smallest integer ``S`` with ``E[(D_{L+R} − S)+] − E[(D_L − S − e)+] ≤ (1 − β)·Q``.

    The left side is the expected shortage of one review cycle of an (R, S) policy with
    backorders (SPT eq. 7.23), estimated on the sample matrices ``protection`` (``D_{L+R}``) and
    ``lead`` (``D_L``; a row of NaN means ``L = 0``, i.e. no lead part). ``Q`` is the demand of
    one review (``cycle_demand``, or the lot when larger) and ``e = Q − d·R`` (``lot_excess``) the
    part of the lot beyond it, still on hand when the next order is placed.
    """
    allowed = (1.0 - fill_rate) * cycle_demand
    has_lead = np.any(np.isfinite(lead), axis=1)
    excess = np.broadcast_to(np.asarray(lot_excess, dtype=np.float64), allowed.shape)

    def ok(level: FloatArray) -> npt.NDArray[np.bool_]:
        above = level + excess
        lead_part = np.where(has_lead, empirical_loss(lead, above), np.maximum(-above, 0.0))
        return np.asarray(empirical_loss(protection, level) - lead_part <= allowed + 1e-12)

    top = np.ceil(np.nan_to_num(np.nanmax(protection, axis=1), nan=0.0)) + 1.0
    return np.maximum(_integer_bisection(ok, np.full(top.shape, -1.0), top), 0.0)


def empirical_cycle_level(cycle_service: FloatArray, protection: FloatArray) -> FloatArray:
    """Smallest integer ``s`` with the empirical ``P(D_{L+R} ≤ s) ≥ CSL``."""
    count = np.sum(np.isfinite(protection), axis=1)

    def ok(level: FloatArray) -> npt.NDArray[np.bool_]:
        below = np.sum(protection <= level[:, None], axis=1)
        return np.asarray(below >= cycle_service * count - 1e-9)

    top = np.ceil(np.nan_to_num(np.nanmax(protection, axis=1), nan=0.0)) + 1.0
    return np.maximum(_integer_bisection(ok, np.full(top.shape, -1.0), top), 0.0)
