"""Forecast selection over the whole demand matrix: grid search, holdout choice, error sigma.

Procedure (all series at once, per method only over the series whose demand class allows it):

1. Split each series into a training part and a holdout of ``h`` periods (default two years
   of periods, at most a quarter of the history).
2. For every candidate method, evaluate its parameter grid on the training part in one kernel
   call (``G × n`` states) and keep, per series, the parameters with the smallest in-sample
   one-step SSE.
3. Run the method with those parameters over the whole history and measure its ``H``-period
   cumulative errors (``H`` = the protection interval) from every origin of the holdout: each
   forecast uses only the periods before its origin (Tashman 2000, rolling-origin evaluation).
   Choose per series the candidate with the smallest MSE; candidates are listed simplest first
   and a later one must save ``complexity_margin`` (2 %) of the error to win, so ties go to the
   simple method. Holt–Winters is a candidate only where the training part shows a season.
4. The run over the full history that measured the method gives the forecast path, the
   one-step fitted values and the cumulative forecasts of the rows it wins; ``forecast_sigma``
   is the RMSE of the one-step errors (rolling origin, each forecast made only from earlier
   periods).

Reported errors are the MAE and RMSE per period of those holdout errors and the MASE (Hyndman &
Koehler 2006: MAE scaled by the in-sample MAE of the one-step naive forecast on the training
part).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.planning.forecast_kernels import (
    KernelRun,
    croston_kernel,
    holt_kernel,
    holt_winters_kernel,
    ses_kernel,
    tsb_kernel,
)
from stockpilot.planning.stats import FloatArray

__all__ = [
    "CANDIDATES",
    "ForecastConfig",
    "ForecastResult",
    "forecast_all",
    "horizon_error_sigma",
    "run_method",
    "seasonal_rows",
]

CANDIDATES: dict[str, tuple[str, ...]] = {
    "smooth": ("ses", "holt", "holt_winters"),
    "erratic": ("ses", "holt", "holt_winters"),
    "intermittent": ("sba", "tsb", "ses"),
    "lumpy": ("sba", "tsb", "ses"),
}

PARAM_NAMES = ("alpha", "beta", "phi", "gamma")


@dataclass(frozen=True)
class ForecastConfig:
    """Grids, holdout and horizon. ``holdout=None``: 13 weeks / 6 months, at most T/4."""

    holdout: int | None = None
    horizon: int = 13
    season: int | None = None
    seasonality_acf: float = 0.3
    ses_alphas: Sequence[float] = (0.05, 0.1, 0.2, 0.3, 0.5)
    holt_alphas: Sequence[float] = (0.1, 0.3)
    holt_betas: Sequence[float] = (0.05, 0.2)
    holt_phis: Sequence[float] = (0.9, 0.98)
    hw_alphas: Sequence[float] = (0.1, 0.3)
    hw_betas: Sequence[float] = (0.02,)
    hw_gammas: Sequence[float] = (0.05, 0.2)
    croston_alphas: Sequence[float] = (0.05, 0.1, 0.2, 0.3)
    tsb_alphas: Sequence[float] = (0.05, 0.1, 0.2, 0.3)
    tsb_betas: Sequence[float] = (0.02, 0.05, 0.1, 0.2)
    candidates: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(CANDIDATES))
    complexity_margin: float = 0.02  # share of error a later (richer) method must save to win


@dataclass(frozen=True)
class ForecastResult:
    """Per-series forecast frame plus matrices.

    ``frame`` columns: ``method, alpha, beta, phi, gamma, forecast_per_period, forecast_sigma,
    mae, rmse, mase`` (errors on the holdout; NaN where not applicable).
    ``path``: ``(n, horizon)`` forecasts for the next periods; ``fitted``: ``(n, T)`` one-step
    forecasts of the chosen method (NaN where none); ``cumulative``: ``(n, T)`` forecasts of the
    next ``H`` periods' total made before each period (when a horizon was requested): ``H·ŷ_t``
    for the level-only methods, the trend and seasonal path for Holt and Holt–Winters.
    """

    frame: pl.DataFrame
    path: FloatArray
    fitted: FloatArray
    cumulative: FloatArray | None = None


def _grid(config: ForecastConfig, method: str) -> list[tuple[float, float, float, float]]:
    nan = float("nan")
    if method == "ses":
        return [(a, nan, nan, nan) for a in config.ses_alphas]
    if method == "holt":
        return [
            (a, b, p, nan)
            for a, b, p in itertools.product(
                config.holt_alphas, config.holt_betas, config.holt_phis
            )
        ]
    if method == "holt_winters":
        return [
            (a, b, 0.98, g)
            for a, b, g in itertools.product(config.hw_alphas, config.hw_betas, config.hw_gammas)
        ]
    if method in ("croston", "sba"):
        return [(a, nan, nan, nan) for a in config.croston_alphas]
    if method == "tsb":
        return [(a, b, nan, nan) for a, b in itertools.product(config.tsb_alphas, config.tsb_betas)]
    raise ValueError(f"unknown method {method!r}")


def run_method(
    method: str,
    y: FloatArray,
    params: FloatArray,
    horizon: int,
    season: int,
    keep_fitted: bool = False,
    cumulative_horizon: FloatArray | None = None,
) -> KernelRun:
    """Run one method; ``params`` is ``(G, 4)`` or ``(4, n)``-shaped per :data:`PARAM_NAMES`.

    With ``params`` of shape ``(G, 4)`` every series sees every row (a grid); with shape
    ``(4, 1, n)`` each series has its own parameters (G = 1).
    """
    if params.ndim == 2:
        a, b, p, g = (params[:, i][:, None] for i in range(4))
    else:
        a, b, p, g = params[0], params[1], params[2], params[3]
    if method == "ses":
        return ses_kernel(y, a, horizon, keep_fitted)
    if method == "holt":
        return holt_kernel(y, a, b, p, horizon, keep_fitted, cumulative_horizon)
    if method == "holt_winters":
        return holt_winters_kernel(y, season, a, b, g, p, horizon, keep_fitted, cumulative_horizon)
    if method == "croston":
        return croston_kernel(y, a, horizon=horizon, keep_fitted=keep_fitted)
    if method == "sba":
        return croston_kernel(y, a, sba=True, horizon=horizon, keep_fitted=keep_fitted)
    if method == "tsb":
        return tsb_kernel(y, a, b, horizon, keep_fitted)
    raise ValueError(f"unknown method {method!r}")


def _seasonal(y: FloatArray, season: int, threshold: float) -> npt.NDArray[np.bool_]:
    """Lag-``m`` autocorrelation above ``threshold`` (and at least two seasons of history)."""
    if y.shape[1] < 2 * season:
        return np.zeros(y.shape[0], dtype=bool)
    centred = y - y.mean(axis=1, keepdims=True)
    denom = (centred * centred).sum(axis=1)
    num = (centred[:, season:] * centred[:, :-season]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acf = np.where(denom > 0, num / denom, 0.0)
    return np.asarray(acf > threshold, dtype=bool)


def seasonal_rows(y: FloatArray, season: int, threshold: float) -> npt.NDArray[np.bool_]:
    """Series whose lag-``season`` autocorrelation exceeds ``threshold`` (two seasons at least)."""
    return _seasonal(y, season, threshold)


def horizon_error_sigma(y: FloatArray, fitted: FloatArray, horizon: npt.ArrayLike) -> FloatArray:
    """RMSE of rolling-origin ``H``-period cumulative errors ``Σ_{i<H} y_{t+i} − H·ŷ_t``.

    ``ŷ_t`` is the one-step forecast made before period ``t`` (flat over ``H``); ``H`` may differ
    per series (rounded up to whole periods, at least 1). Series with no origin give NaN.
    """
    n, t_len = y.shape
    h = np.clip(np.ceil(np.asarray(horizon, dtype=np.float64)), 1, t_len).astype(np.int64)
    h = np.broadcast_to(h, (n,))
    cums = np.concatenate([np.zeros((n, 1)), np.cumsum(y, axis=1)], axis=1)
    starts = np.arange(t_len)[None, :]
    ends = starts + h[:, None]
    valid = (ends <= t_len) & ~np.isnan(fitted)
    end_idx = np.minimum(ends, t_len)
    window = np.take_along_axis(cums, end_idx, axis=1) - cums[:, :t_len]
    err = np.where(valid, window - h[:, None] * np.nan_to_num(fitted), 0.0)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.sqrt((err * err).sum(axis=1) / count), dtype=np.float64)


def _holdout_windows(y: FloatArray, horizon: FloatArray, holdout: int) -> FloatArray:
    """``(n, holdout)`` demand over the ``H`` periods from each of the last ``holdout`` origins
    whose window ends inside the history (NaN for the origins past it)."""
    n, t_len = y.shape
    h = horizon.astype(np.int64)
    cums = np.concatenate([np.zeros((n, 1)), np.cumsum(y, axis=1)], axis=1)
    starts = (t_len - holdout - h)[:, None] + np.arange(holdout)[None, :]
    ends = starts + h[:, None]
    ok = starts >= 0
    safe = np.maximum(starts, 0)
    total = np.take_along_axis(cums, np.minimum(ends, t_len), axis=1) - np.take_along_axis(
        cums, safe, axis=1
    )
    return np.where(ok, total, np.nan)


def _full_run(
    method: str, y: FloatArray, params: FloatArray, season: int, horizon: FloatArray, steps: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The method with per-series ``params`` (``(rows, 4)``) over all of ``y``: its path of
    ``steps`` periods, one-step fitted values and ``H``-period cumulative forecasts per origin
    (each made from the periods before it)."""
    run = run_method(
        method, y, params.T[:, None, :], steps, season, keep_fitted=True,
        cumulative_horizon=horizon,
    )  # fmt: skip
    assert run.fitted is not None
    cum = horizon[:, None] * run.fitted if run.cumulative is None else run.cumulative
    return run.path[0], run.fitted, cum


def _holdout_errors(cum: FloatArray, horizon: FloatArray, windows: FloatArray) -> FloatArray:
    """``H``-period errors at the origins of :func:`_holdout_windows` from the cumulative
    forecasts ``cum``."""
    t_len = cum.shape[1]
    holdout = windows.shape[1]
    starts = (t_len - holdout - horizon.astype(np.int64))[:, None] + np.arange(holdout)[None, :]
    forecast = np.take_along_axis(cum, np.maximum(starts, 0), axis=1)
    return np.where(starts >= 0, windows - forecast, np.nan)


def forecast_all(
    y: FloatArray,
    demand_class: npt.NDArray[np.str_],
    season: int,
    config: ForecastConfig | None = None,
    actual: FloatArray | None = None,
    cumulative_horizon: npt.ArrayLike | None = None,
) -> ForecastResult:
    """Fit, select and refit forecasts for every series (see the module docstring).

    ``actual`` (default ``y``) is what the one-step errors behind ``forecast_sigma`` are measured
    against: the raw demand when ``y`` is a winsorised copy, because stock must serve the spikes.
    ``cumulative_horizon`` (per series, rounded up to whole periods) requests
    :attr:`ForecastResult.cumulative`.
    """
    cfg = config or ForecastConfig()
    n, t_len = y.shape
    default = min(2 * season, t_len // 4)
    holdout = cfg.holdout if cfg.holdout is not None else default
    holdout = max(0, min(holdout, t_len - 3))
    train = y[:, : t_len - holdout]
    seasonal = _seasonal(train, season, cfg.seasonality_acf) & (train.shape[1] > season + 2)
    h_sel = (
        np.ones(n)
        if cumulative_horizon is None
        else np.broadcast_to(
            np.maximum(np.ceil(np.asarray(cumulative_horizon, dtype=np.float64) - 1e-9), 1.0),
            (n,),
        )
    )
    windows = _holdout_windows(y, h_sel, holdout) if holdout else np.zeros((n, 0))
    steps = cfg.horizon
    path = np.zeros((n, steps))
    fitted = np.full((n, t_len), np.nan)
    cumulative = np.full((n, t_len), np.nan)
    best_score = np.full(n, np.inf)
    chosen = np.full(n, "zero", dtype="<U12")
    chosen_params = np.full((n, 4), np.nan)
    mae = np.full(n, np.nan)
    rmse = np.full(n, np.nan)
    scale = np.abs(np.diff(train, axis=1)).mean(axis=1) if train.shape[1] > 1 else np.ones(n)
    methods = list(dict.fromkeys(m for ms in cfg.candidates.values() for m in ms))
    for method in methods:
        classes = [c for c, ms in cfg.candidates.items() if method in ms]
        rows = np.flatnonzero(np.isin(demand_class, classes))
        if method == "holt_winters":
            rows = rows[seasonal[rows]]
        if rows.size == 0:
            continue
        grid = np.array(_grid(cfg, method))
        run = run_method(method, train[rows], grid, 1, season)
        with np.errstate(invalid="ignore", divide="ignore"):
            in_sample = np.where(run.count > 0, run.sse / np.maximum(run.count, 1), np.inf)
        best = np.argmin(in_sample, axis=0)
        params = grid[best]
        # The run that measures the method out of sample is also the refit on all data: the
        # rows it wins keep its path, fitted values and cumulative forecasts.
        m_path, m_fitted, m_cum = _full_run(method, y[rows], params, season, h_sel[rows], steps)
        if holdout:
            errors = _holdout_errors(m_cum, h_sel[rows], windows[rows])
            valid = np.isfinite(errors)
            squares = np.where(valid, errors * errors, 0.0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                score = squares / valid.sum(axis=1)
        else:
            score = in_sample[best, np.arange(rows.size)]
        score = np.where(np.isfinite(score), score, np.inf)
        # A method that is not simpler must beat the incumbent by a margin: ties go to the
        # simple method (the candidates are listed simplest first).
        margin = 1.0 if np.all(chosen[rows] == "zero") else 1.0 - cfg.complexity_margin
        better = score < best_score[rows] * margin
        sel = rows[better]
        best_score[sel] = score[better]
        chosen[sel] = method
        chosen_params[sel] = params[better]
        path[sel], fitted[sel], cumulative[sel] = m_path[better], m_fitted[better], m_cum[better]
        if holdout:
            with np.errstate(invalid="ignore", divide="ignore"):
                absolute = np.where(valid[better], np.abs(errors[better]), 0.0).sum(axis=1)
                rmse[sel] = np.sqrt(score[better]) / h_sel[sel]
                mae[sel] = absolute / valid[better].sum(axis=1) / h_sel[sel]
    with np.errstate(invalid="ignore", divide="ignore"):
        mase = np.where(scale > 0, mae / scale, np.nan)
    zero_rows = chosen == "zero"
    fitted[zero_rows, 1:] = 0.0
    cumulative[zero_rows, 1:] = 0.0
    err = (y if actual is None else actual) - fitted
    valid = ~np.isnan(err)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(np.where(valid, err * err, 0.0).sum(axis=1) / count)
    sigma = np.where(count > 0, sigma, 0.0)
    path = np.maximum(path, 0.0)
    frame = pl.DataFrame(
        {
            "method": chosen.astype(str),
            "alpha": chosen_params[:, 0],
            "beta": chosen_params[:, 1],
            "phi": chosen_params[:, 2],
            "gamma": chosen_params[:, 3],
            "forecast_per_period": path.mean(axis=1),
            "forecast_sigma": sigma,
            "mae": mae,
            "rmse": rmse,
            "mase": mase,
        }
    )
    return ForecastResult(
        frame, path, fitted, cumulative if cumulative_horizon is not None else None
    )
