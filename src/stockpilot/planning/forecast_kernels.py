"""Vectorised exponential-smoothing kernels over a whole demand matrix.

Every kernel takes ``Y`` of shape ``(n, T)`` (series × periods, demand per period in item
units) and smoothing parameters broadcastable to ``(G, n)`` — ``G`` candidate parameter sets
evaluated for all series at once (a grid search is one call). The only Python loop is over the
``T`` periods. Each kernel returns a :class:`KernelRun` with the in-sample one-step squared
error sum, the number of errors counted, the forecast path after the last period and,
optionally, the one-step-ahead fitted values.

Recursions (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §8;
error-correction form, ``e_t = y_t − ŷ_{t|t−1}``):

* SES: ``ℓ_t = ℓ_{t−1} + α·e_t``, ``ℓ_0 = y_0``; forecast ``ŷ_{t+h|t} = ℓ_t``.
* Damped Holt: ``ŷ = ℓ + φb``; ``ℓ_t = ŷ + α·e_t``; ``b_t = φ·b_{t−1} + α·β·e_t``;
  ``ŷ_{t+h|t} = ℓ_t + (φ + … + φ^h)·b_t``; ``ℓ_0 = y_0``, ``b_0 = 0``.
* Additive Holt–Winters (damped): ``ŷ = ℓ + φb + s_{t−m}``; ``ℓ_t = ℓ + φb + α·e_t``;
  ``b_t = φb + αβ·e_t``; ``s_t = s_{t−m} + γ·e_t``; initialised on the first season
  (``ℓ`` its mean, ``s_j = y_j − ℓ``, ``b = 0``); errors counted from ``t = m``.
* Croston (1972): sizes ``z`` and intervals ``p`` smoothed by SES at demand periods only, both
  initialised at the first demand, the first interval counted from period 1; forecast ``z/p``.
  SBA (Syntetos & Boylan 2005) multiplies by ``1 − α/2``.
* TSB (Teunter, Syntetos & Babai 2011): occurrence ``d_t = 1{y_t > 0}`` smoothed every period with
  ``β`` (initialised at ``d_0``), sizes smoothed at demand periods with ``α``; forecast ``p·z``,
  so the forecast decays when demand stops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stockpilot.planning.stats import ArrayLike, FloatArray

__all__ = [
    "KernelRun",
    "croston_kernel",
    "holt_kernel",
    "holt_winters_kernel",
    "ses_kernel",
    "tsb_kernel",
]


@dataclass(frozen=True)
class KernelRun:
    """Result of one kernel call.

    ``sse``/``count``: ``(G, n)`` in-sample one-step squared errors and how many were counted;
    ``path``: ``(G, n, horizon)`` forecasts for the periods after the last one;
    ``fitted``: ``(n, T)`` one-step-ahead forecasts (NaN where none) when requested with G = 1.
    """

    sse: FloatArray
    count: FloatArray
    path: FloatArray
    fitted: FloatArray | None
    cumulative: FloatArray | None = None


def damped_sum(phi: FloatArray, horizon: ArrayLike) -> FloatArray:
    """``Σ_{i=1}^{H} Σ_{j=1}^{i} φ^j``: trend weight of an ``H``-period cumulative forecast.

    Per series ``φ`` and ``H`` (whole periods); a loop over the largest ``H`` only.
    """
    h = np.asarray(horizon, dtype=np.int64)
    out = np.zeros(h.shape)
    inner = np.zeros(h.shape)
    power = np.ones(h.shape)
    for i in range(1, int(h.max(initial=0)) + 1):
        power = power * phi
        inner = inner + power
        out = out + np.where(i <= h, inner, 0.0)
    return out


def _grid(param: ArrayLike, n: int) -> FloatArray:
    arr = np.asarray(param, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    return np.asarray(arr, dtype=np.float64)


def _shape(n: int, *params: FloatArray) -> tuple[int, int]:
    g = max(p.shape[0] for p in params)
    return g, n


def ses_kernel(
    y: FloatArray, alpha: ArrayLike, horizon: int = 1, keep_fitted: bool = False
) -> KernelRun:
    """Simple exponential smoothing for all series and all ``alpha`` rows at once."""
    n, t_len = y.shape
    a = _grid(alpha, n)
    shape = _shape(n, a)
    level = np.broadcast_to(y[:, 0], shape).copy()
    sse = np.zeros(shape)
    fitted = np.full((n, t_len), np.nan) if keep_fitted else None
    for t in range(1, t_len):
        if fitted is not None:
            fitted[:, t] = level[0]
        err = y[:, t] - level
        sse += err * err
        level += a * err
    count = np.full(shape, float(max(t_len - 1, 0)))
    path = np.repeat(level[:, :, None], horizon, axis=2)
    return KernelRun(sse, count, path, fitted)


def holt_kernel(
    y: FloatArray,
    alpha: ArrayLike,
    beta: ArrayLike,
    phi: ArrayLike,
    horizon: int = 1,
    keep_fitted: bool = False,
    cumulative_horizon: FloatArray | None = None,
) -> KernelRun:
    """Additive damped-trend Holt for all series and parameter rows at once.

    With ``cumulative_horizon`` (per series ``H``, G = 1) the run also returns, for every
    origin ``t``, the ``H``-period cumulative forecast made before ``t``.
    """
    n, t_len = y.shape
    a, b_, f_ = _grid(alpha, n), _grid(beta, n), _grid(phi, n)
    shape = _shape(n, a, b_, f_)
    level = np.broadcast_to(y[:, 0], shape).copy()
    trend = np.zeros(shape)
    sse = np.zeros(shape)
    ab = a * b_
    fitted = np.full((n, t_len), np.nan) if keep_fitted else None
    cumulative = None
    if cumulative_horizon is not None:
        cumulative = np.full((n, t_len), np.nan)
        weight = damped_sum(np.broadcast_to(f_, shape)[0], cumulative_horizon)
    for t in range(1, t_len):
        damped = f_ * trend
        forecast = level + damped
        if cumulative is not None:
            cumulative[:, t] = cumulative_horizon * level[0] + weight * trend[0]
        if fitted is not None:
            fitted[:, t] = forecast[0]
        err = y[:, t] - forecast
        sse += err * err
        level = forecast + a * err
        trend = damped + ab * err
    count = np.full(shape, float(max(t_len - 1, 0)))
    steps = np.arange(1, horizon + 1, dtype=np.float64)
    phi_b = np.broadcast_to(f_, shape)[:, :, None] ** steps
    cum = np.cumsum(phi_b, axis=2)
    path = level[:, :, None] + cum * trend[:, :, None]
    return KernelRun(sse, count, path, fitted, cumulative)


def holt_winters_kernel(
    y: FloatArray,
    season: int,
    alpha: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike,
    phi: ArrayLike = 0.98,
    horizon: int = 1,
    keep_fitted: bool = False,
    cumulative_horizon: FloatArray | None = None,
) -> KernelRun:
    """Additive Holt–Winters with damped trend; needs ``T > season`` (errors from ``t = m``).

    ``cumulative_horizon`` as in :func:`holt_kernel`: the ``H``-period cumulative forecast from
    every origin, with the seasonal indices of the ``H`` periods ahead (not a flat forecast).
    """
    n, t_len = y.shape
    m = season
    a, b_, g_, f_ = _grid(alpha, n), _grid(beta, n), _grid(gamma, n), _grid(phi, n)
    shape = _shape(n, a, b_, g_, f_)
    first = y[:, :m]
    level0 = first.mean(axis=1)
    level = np.broadcast_to(level0, shape).copy()
    seasonal = np.broadcast_to((first - level0[:, None])[None], (*shape, m)).copy()
    trend = np.zeros(shape)
    sse = np.zeros(shape)
    ab = a * b_
    fitted = np.full((n, t_len), np.nan) if keep_fitted else None
    cumulative = None
    if cumulative_horizon is not None:
        cumulative = np.full((n, t_len), np.nan)
        h_int = np.asarray(cumulative_horizon, dtype=np.int64)
        weight = damped_sum(np.broadcast_to(f_, shape)[0], h_int)
        copies = int(h_int.max(initial=0)) // m + 2
        rows = np.arange(n)
    for t in range(m, t_len):
        j = t % m
        damped = f_ * trend
        forecast = level + damped + seasonal[:, :, j]
        if cumulative is not None:
            ring = np.concatenate(
                [np.zeros((n, 1)), np.cumsum(np.tile(seasonal[0], (1, copies)), axis=1)], axis=1
            )
            season_sum = ring[rows, j + h_int] - ring[:, j]
            cumulative[:, t] = h_int * level[0] + weight * trend[0] + season_sum
        if fitted is not None:
            fitted[:, t] = forecast[0]
        err = y[:, t] - forecast
        sse += err * err
        level = level + damped + a * err
        trend = damped + ab * err
        seasonal[:, :, j] += g_ * err
    count = np.full(shape, float(max(t_len - m, 0)))
    steps = np.arange(1, horizon + 1, dtype=np.float64)
    cum = np.cumsum(np.broadcast_to(f_, shape)[:, :, None] ** steps, axis=2)
    idx = (t_len + np.arange(horizon)) % m
    path = level[:, :, None] + cum * trend[:, :, None] + seasonal[:, :, idx]
    return KernelRun(sse, count, path, fitted, cumulative)


def croston_kernel(
    y: FloatArray,
    alpha: ArrayLike,
    alpha_interval: ArrayLike | None = None,
    sba: bool = False,
    horizon: int = 1,
    keep_fitted: bool = False,
) -> KernelRun:
    """Croston (or SBA) for all series and ``alpha`` rows; one-step errors after the first demand.

    ``alpha`` smooths sizes, ``alpha_interval`` (default: the same) smooths intervals; the SBA
    factor is ``1 − alpha_interval/2``.
    """
    n, t_len = y.shape
    a = _grid(alpha, n)
    ai = a if alpha_interval is None else _grid(alpha_interval, n)
    shape = _shape(n, a, ai)
    factor = (1.0 - ai / 2.0) if sba else np.ones_like(ai)
    size = np.full(shape, np.nan)
    interval = np.full(shape, np.nan)
    since = np.zeros(n)
    sse = np.zeros(shape)
    count = np.zeros(shape)
    fitted = np.full((n, t_len), np.nan) if keep_fitted else None
    for t in range(t_len):
        yt = y[:, t]
        if t > 0:
            forecast = factor * size / interval
            seen = ~np.isnan(forecast)
            if fitted is not None:
                fitted[:, t] = forecast[0]
            err = np.where(seen, yt - forecast, 0.0)
            sse += err * err
            count += seen
        since += 1.0
        demand = yt > 0
        started = ~np.isnan(size)
        new = demand & ~started
        upd = demand & started
        size = np.where(new, yt, np.where(upd, size + a * (yt - size), size))
        interval = np.where(new, since, np.where(upd, interval + ai * (since - interval), interval))
        since = np.where(demand, 0.0, since)
    level = np.where(np.isnan(size), 0.0, factor * size / interval)
    path = np.repeat(level[:, :, None], horizon, axis=2)
    return KernelRun(sse, count, path, fitted)


def tsb_kernel(
    y: FloatArray,
    alpha: ArrayLike,
    beta: ArrayLike,
    horizon: int = 1,
    keep_fitted: bool = False,
) -> KernelRun:
    """TSB with size smoothing ``alpha`` and occurrence smoothing ``beta`` (all series at once)."""
    n, t_len = y.shape
    a, b_ = _grid(alpha, n), _grid(beta, n)
    shape = _shape(n, a, b_)
    occurred = (y[:, 0] > 0).astype(np.float64)
    prob = np.broadcast_to(occurred, shape).copy()
    size = np.broadcast_to(np.where(occurred > 0, y[:, 0], np.nan), shape).copy()
    sse = np.zeros(shape)
    fitted = np.full((n, t_len), np.nan) if keep_fitted else None
    for t in range(1, t_len):
        yt = y[:, t]
        forecast = prob * np.nan_to_num(size)
        if fitted is not None:
            fitted[:, t] = forecast[0]
        err = yt - forecast
        sse += err * err
        demand = yt > 0
        prob += b_ * (demand - prob)
        started = ~np.isnan(size)
        size = np.where(demand & started, size + a * (yt - size), np.where(demand, yt, size))
    count = np.full(shape, float(max(t_len - 1, 0)))
    level = prob * np.nan_to_num(size)
    path = np.repeat(level[:, :, None], horizon, axis=2)
    return KernelRun(sse, count, path, fitted)
