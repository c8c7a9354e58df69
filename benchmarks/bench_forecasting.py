"""Our vectorised kernels vs statsforecast on the same 10k series, same run.

Run: ``python -m benchmarks.bench_forecasting`` (prints JSON). Accuracy on the last 13 held-out
periods: MASE (scale = in-sample MAE of the naive forecast) and RMSSE.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np

from stockpilot.planning import intermittent
from stockpilot.planning.forecast_kernels import holt_kernel, ses_kernel
from stockpilot.planning.stats import FloatArray

HOLDOUT = 13


def _series(n: int, periods: int, seed: int = 0) -> FloatArray:
    rng = np.random.default_rng(seed)
    occurrence = rng.uniform(0.1, 1.0, n)
    rate = rng.gamma(1.0, 5.0, n)
    y = (rng.random((n, periods)) < occurrence[:, None]) * rng.poisson(
        rate[:, None] + 1, (n, periods)
    )
    return y.astype(np.float64)


def _scores(train: FloatArray, test: FloatArray, forecast: FloatArray) -> dict[str, float]:
    err = test - forecast[:, None]
    naive = np.diff(train, axis=1)
    mae_scale = np.abs(naive).mean(axis=1)
    mse_scale = (naive**2).mean(axis=1)
    ok = (mae_scale > 0) & (mse_scale > 0)
    mase = np.abs(err).mean(axis=1)[ok] / mae_scale[ok]
    rmsse = np.sqrt((err**2).mean(axis=1)[ok] / mse_scale[ok])
    return {"mase": round(float(mase.mean()), 4), "rmsse": round(float(rmsse.mean()), 4)}


def _ses_optimized(train: FloatArray) -> FloatArray:
    alphas = np.linspace(0.05, 0.95, 19)
    run = ses_kernel(train, alphas)
    best = np.argmin(run.sse, axis=0)
    return run.path[best, np.arange(train.shape[0]), 0]


def _holt(train: FloatArray) -> FloatArray:
    grid = np.array([(a, b, p) for a in (0.1, 0.3) for b in (0.05, 0.2) for p in (0.9, 0.98)])
    run = holt_kernel(train, grid[:, 0:1], grid[:, 1:2], grid[:, 2:3], horizon=HOLDOUT)
    best = np.argmin(run.sse, axis=0)
    return run.path[best, np.arange(train.shape[0])].mean(axis=1)


def run(report: dict[str, object], n_series: int = 10_000, periods: int = 104) -> None:
    """Time and score each model pair; fills ``report``."""
    y = _series(n_series, periods)
    train, test = y[:, :-HOLDOUT], y[:, -HOLDOUT:]
    ours: dict[str, Callable[[FloatArray], FloatArray]] = {
        "CrostonClassic": intermittent.croston_classic,
        "CrostonOptimized": intermittent.croston_optimized,
        "CrostonSBA": intermittent.croston_sba,
        "TSB": lambda t: intermittent.tsb(t, 0.1, 0.1),
        "SimpleExponentialSmoothingOptimized": _ses_optimized,
        "Holt": _holt,
    }
    try:
        from statsforecast import models as sf
    except ImportError:  # statsforecast is a bench-only dependency
        sf = None
    theirs = {}
    if sf is not None:
        theirs = {
            "CrostonClassic": sf.CrostonClassic(),
            "CrostonOptimized": sf.CrostonOptimized(),
            "CrostonSBA": sf.CrostonSBA(),
            "TSB": sf.TSB(alpha_d=0.1, alpha_p=0.1),
            "SimpleExponentialSmoothingOptimized": sf.SimpleExponentialSmoothingOptimized(),
            "Holt": sf.Holt(),
        }
    subset = {"Holt": 500}  # statsforecast's ETS fit is per series: time it on a subset
    results = {}
    for name, fn in ours.items():
        start = time.perf_counter()
        forecast = fn(train)
        ours_s = time.perf_counter() - start
        entry: dict[str, object] = {
            "ours_seconds": round(ours_s, 4),
            "ours": _scores(train, test, forecast),
        }
        if name in theirs:
            rows = subset.get(name, n_series)
            start = time.perf_counter()
            sf_fc = np.array(
                [
                    float(np.mean(theirs[name].forecast(y=train[i], h=HOLDOUT)["mean"]))
                    for i in range(rows)
                ]
            )
            sf_s = (time.perf_counter() - start) * n_series / rows
            entry["statsforecast_seconds_for_all"] = round(sf_s, 4)
            entry["statsforecast_series_timed"] = rows
            entry["speed_ratio"] = round(sf_s / max(ours_s, 1e-9), 1)
            entry["statsforecast"] = _scores(train[:rows], test[:rows], sf_fc)
            entry["ours_on_same_rows"] = _scores(train[:rows], test[:rows], forecast[:rows])
            entry["max_rel_diff"] = float(
                np.max(np.abs(forecast[:rows] - sf_fc) / np.maximum(np.abs(sf_fc), 1e-9))
            )
        results[name] = entry
    report["series"] = n_series
    report["periods"] = periods
    report["models"] = results


if __name__ == "__main__":
    out: dict[str, object] = {}
    run(out)
    print(json.dumps(out, indent=2))
