"""Our vectorised forecasts vs statsforecast, per method, on the same series in the same run.

Run: ``python -m benchmarks.bench_forecasting [--series 10000] [--periods 104] [--repeats 3]``.
Prints JSON and writes a Markdown table to ``docs/benchmarks-forecasting.md`` (``--markdown``).
With the real-demand data sets beside the repository (``../shared/data/real-demand``), it also
compares the engine's protection-horizon forecast with statsforecast's AutoETS on them
(``--only-real`` runs that part alone).

* Timing: ours and statsforecast alternate (A B A B …, ``--repeats`` rounds) and each side's
  median is reported — the machine is shared, so a burst of load hits both sides alike. A
  method whose statsforecast run takes longer than ``SLOW_SECONDS`` is timed once on that side
  (recorded as ``statsforecast_repeats``).
* statsforecast is called per series through its model's ``forecast`` — the way the engine
  would have to call it (it fits one series at a time); ours takes the whole matrix.
* Accuracy on the last ``HOLDOUT`` held-out periods, over series with a non-zero naive scale:
  MASE (scale = in-sample MAE of the one-step naive forecast) and RMSSE (scale = its MSE).
* Verdict per method: ours at least as fast (ratio ≥ 1) and MASE and RMSSE no worse than
  statsforecast's (equal within 1e-6 relative counts as equal).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from stockpilot.planning import intermittent
from stockpilot.planning.forecast_kernels import holt_kernel
from stockpilot.planning.stats import FloatArray

HOLDOUT = 13
SLOW_SECONDS = 20.0
EQUAL = 1e-6
MARKDOWN = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-forecasting.md"


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
    return {"mase": float(mase.mean()), "rmsse": float(rmsse.mean())}


def _ses_optimized(train: FloatArray) -> FloatArray:
    # statsforecast's SimpleExponentialSmoothingOptimized: same SSE, same search, α ∈ [0.01, 0.99].
    return intermittent.optimized_ses(train, lower=0.01, upper=0.99)


def _holt(train: FloatArray) -> FloatArray:
    grid = np.array([(a, b, p) for a in (0.1, 0.3) for b in (0.05, 0.2) for p in (0.9, 0.98)])
    run = holt_kernel(train, grid[:, 0:1], grid[:, 1:2], grid[:, 2:3], horizon=HOLDOUT)
    best = np.argmin(run.sse, axis=0)
    return np.asarray(run.path[best, np.arange(train.shape[0])].mean(axis=1), dtype=np.float64)


def ours() -> dict[str, Callable[[FloatArray], FloatArray]]:
    """Our implementation per statsforecast model name."""
    return {
        "CrostonClassic": intermittent.croston_classic,
        "CrostonOptimized": intermittent.croston_optimized,
        "CrostonSBA": intermittent.croston_sba,
        "TSB": lambda t: intermittent.tsb(t, 0.1, 0.1),
        "ADIDA": intermittent.adida,
        "IMAPA": intermittent.imapa,
        "SimpleExponentialSmoothingOptimized": _ses_optimized,
        "Holt": _holt,
    }


def theirs() -> dict[str, Callable[[FloatArray], FloatArray]]:
    """statsforecast's model per name, called series by series (bench-only dependency)."""
    from statsforecast import models as sf

    models: dict[str, Any] = {
        "CrostonClassic": sf.CrostonClassic(),
        "CrostonOptimized": sf.CrostonOptimized(),
        "CrostonSBA": sf.CrostonSBA(),
        "TSB": sf.TSB(alpha_d=0.1, alpha_p=0.1),
        "ADIDA": sf.ADIDA(),
        "IMAPA": sf.IMAPA(),
        "SimpleExponentialSmoothingOptimized": sf.SimpleExponentialSmoothingOptimized(),
        "Holt": sf.Holt(),
    }

    def per_series(model: Any) -> Callable[[FloatArray], FloatArray]:
        def forecast(train: FloatArray) -> FloatArray:
            return np.array(
                [float(np.mean(model.forecast(y=row, h=HOLDOUT)["mean"])) for row in train]
            )

        return forecast

    return {name: per_series(model) for name, model in models.items()}


def _timed(fn: Callable[[FloatArray], FloatArray], train: FloatArray) -> tuple[float, FloatArray]:
    start = time.perf_counter()
    forecast = fn(train)
    return time.perf_counter() - start, forecast


def _no_worse(a: float, b: float) -> bool:
    return a <= b * (1.0 + EQUAL)


def _entry(
    ours_s: list[float],
    sf_s: list[float],
    scores: tuple[dict[str, float], dict[str, float]],
    forecasts: tuple[FloatArray, FloatArray],
) -> dict[str, object]:
    ours_med, sf_med = statistics.median(ours_s), statistics.median(sf_s)
    mine, other = scores
    ratio = sf_med / max(ours_med, 1e-9)
    diff = np.abs(forecasts[0] - forecasts[1]) / np.maximum(np.abs(forecasts[1]), 1e-9)
    holds = (
        ratio >= 1.0
        and _no_worse(mine["mase"], other["mase"])
        and _no_worse(mine["rmsse"], other["rmsse"])
    )
    return {
        "ours_seconds": round(ours_med, 4),
        "statsforecast_seconds": round(sf_med, 4),
        "ours_repeats": len(ours_s),
        "statsforecast_repeats": len(sf_s),
        "speed_ratio": round(ratio, 1),
        "ours": {k: round(v, 4) for k, v in mine.items()},
        "statsforecast": {k: round(v, 4) for k, v in other.items()},
        "max_rel_diff": float(np.max(diff)),
        "holds": holds,
    }


def run(n_series: int = 10_000, periods: int = 104, repeats: int = 3) -> dict[str, object]:
    """Time (interleaved, median) and score each method pair on the same series."""
    y = _series(n_series, periods)
    train, test = y[:, :-HOLDOUT], y[:, -HOLDOUT:]
    mine, other = ours(), theirs()
    seconds: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in mine}
    forecasts: dict[str, tuple[FloatArray, FloatArray]] = {}
    for _ in range(repeats):
        for name in mine:
            ours_s, sf_s = seconds[name]
            took, ours_fc = _timed(mine[name], train)
            ours_s.append(took)
            if sf_s and max(sf_s) > SLOW_SECONDS:
                continue
            took, sf_fc = _timed(other[name], train)
            sf_s.append(took)
            forecasts[name] = (ours_fc, sf_fc)
    models = {}
    for name, (ours_fc, sf_fc) in forecasts.items():
        scores = (_scores(train, test, ours_fc), _scores(train, test, sf_fc))
        models[name] = _entry(*seconds[name], scores, (ours_fc, sf_fc))
    return {
        "series": n_series,
        "periods": periods,
        "holdout": HOLDOUT,
        "repeats": repeats,
        "machine": machine(),
        "models": models,
    }


def machine() -> dict[str, object]:
    """The machine the numbers were measured on."""
    import statsforecast

    cpu, ram_gb = platform.processor() or "unknown", 0.0
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
        mem = Path("/proc/meminfo").read_text().splitlines()
        ram_gb = int(next(line.split()[1] for line in mem if line.startswith("MemTotal"))) / 2**20
    except (OSError, StopIteration):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(ram_gb, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "statsforecast": statsforecast.__version__,
    }


def markdown(report: dict[str, Any]) -> str:
    """The report as the Markdown section merged into docs/benchmarks.md."""
    m = report["machine"]
    lines = [
        "# Forecasting: ours vs statsforecast",
        "",
        f"`python -m benchmarks.bench_forecasting` — {report['series']:,} synthetic weekly "
        f"series × {report['periods']} periods (seed 0, occurrence 10–100 %), last "
        f"{report['holdout']} periods held out. Machine: {m['nproc']} vCPU {m['cpu']}, "
        f"{m['ram_gb']} GB RAM, Python {m['python']}, NumPy {m['numpy']}, statsforecast "
        f"{m['statsforecast']}; shared (load average {m['load_average_at_start']} at start).",
        "",
        f"Seconds are medians of {report['repeats']} interleaved runs (ours, statsforecast, ours, "
        f"…); statsforecast runs longer than {SLOW_SECONDS:.0f} s are timed once. statsforecast "
        "fits one series per call; ours takes the whole matrix. MASE / RMSSE: mean over series "
        "on the held-out periods (lower is better). *Holds*: ≥ 1× speed and MASE and RMSSE no "
        "worse (within 1e-6 relative).",
        "",
        "| method | ours s | statsforecast s | ours faster by | MASE ours / sf "
        "| RMSSE ours / sf | max rel. diff of forecasts | holds |",
        "|---|---:|---:|---:|---|---|---:|---|",
    ]
    for name, e in report["models"].items():
        sf_runs = "" if e["statsforecast_repeats"] > 1 else " (1 run)"
        lines.append(
            f"| {name} | {e['ours_seconds']:.3f} | {e['statsforecast_seconds']:.3f}{sf_runs} "
            f"| {e['speed_ratio']:,}× | {e['ours']['mase']:.4f} / {e['statsforecast']['mase']:.4f} "
            f"| {e['ours']['rmsse']:.4f} / {e['statsforecast']['rmsse']:.4f} "
            f"| {e['max_rel_diff']:.1e} | {'yes' if e['holds'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def _real_demand(path: Path) -> tuple[list[str], FloatArray]:
    """``item\tsite`` keys and the ``(series, months)`` matrix of a real-demand ``demand.csv``."""
    import polars as pl

    frame = pl.read_csv(path / "demand.csv").with_columns(
        pl.concat_str("item", "site", separator="\t").alias("key"),
        pl.col("date").str.slice(0, 7).alias("month"),
    )
    wide = (
        frame.group_by("key", "month")
        .agg(pl.col("quantity").sum())
        .pivot(on="month", index="key", values="quantity")
        .sort("key")
    )
    months = sorted(c for c in wide.columns if c != "key")
    return wide["key"].to_list(), wide.select(months).fill_null(0.0).to_numpy().astype(float)


def _engine_protection_forecast(keys: list[str], y: FloatArray, horizon: int) -> FloatArray:
    """The engine's demand over the protection interval (``L + R = horizon`` months), as
    ``stockpilot plan`` states it, from the whole history ``y``."""
    import polars as pl

    from stockpilot.planning.engine import PlanConfig, plan

    n, t_len = y.shape
    start = np.datetime64("2000-01", "M")
    dates = (start + np.arange(t_len)).astype("datetime64[D]")
    items = [k.split("\t")[0] for k in keys]
    sites = [k.split("\t")[1] for k in keys]
    lines = pl.DataFrame(
        {
            "item": np.repeat(items, t_len),
            "site": np.repeat(sites, t_len),
            "date": np.tile(dates, n),
            "quantity": y.ravel(),
        }
    )
    master = pl.DataFrame(
        {
            "item": items,
            "site": sites,
            "lead_time_days": [30.0 * (horizon - 1)] * n,
            "lead_time_std_days": [0.0] * n,
            "review_period_days": [30.0] * n,
        }
    )
    config = PlanConfig(period="month", service_level=0.95, service_type="fill_rate")
    policies = plan(lines, None, master, config).policies
    order = {
        f"{i}\t{s}": r
        for r, (i, s) in enumerate(zip(policies["item"], policies["site"], strict=True))
    }
    values = policies["demand_over_protection"].to_numpy()
    return np.array([values[order[k]] if k in order else 0.0 for k in keys])


def _autoets_protection_forecast(y: FloatArray, horizon: int) -> FloatArray:
    from statsforecast.models import AutoETS

    model = AutoETS(season_length=12)
    return np.array([float(np.sum(model.forecast(y=row, h=horizon)["mean"])) for row in y])


def real_demand(
    folder: Path, horizon: int = 2, hold: int = 24, every: int = 3
) -> dict[str, object]:
    """MASE of the ``horizon``-month cumulative forecast at every ``every``-th origin of the last
    ``hold`` months: the engine's protection forecast against statsforecast's AutoETS (seasonal,
    m = 12) on the same series, each timed over all origins. Scale per series: ``horizon`` × the
    in-sample MAE of the one-step naive forecast before the origin."""
    keys, y = _real_demand(folder)
    t_len = y.shape[1]
    errors: dict[str, list[FloatArray]] = {"ours": [], "autoets": []}
    seconds = {"ours": 0.0, "autoets": 0.0}
    origins = list(range(t_len - hold, t_len - horizon + 1, every))
    for origin in origins:
        train = y[:, :origin]
        actual = y[:, origin : origin + horizon].sum(axis=1)
        scale = horizon * np.abs(np.diff(train, axis=1)).mean(axis=1)
        for name in ("ours", "autoets"):
            started = time.perf_counter()
            if name == "ours":
                forecast = _engine_protection_forecast(keys, train, horizon)
            else:
                forecast = _autoets_protection_forecast(train, horizon)
            seconds[name] += time.perf_counter() - started
            ok = scale > 0
            errors[name].append(np.abs(actual - forecast)[ok] / scale[ok])
    mase = {k: float(np.mean(np.concatenate(v))) for k, v in errors.items()}
    ratio = seconds["autoets"] / max(seconds["ours"], 1e-9)
    return {
        "data_set": folder.name,
        "series": len(keys),
        "origins": len(origins),
        "horizon_months": horizon,
        "mase_ours": round(mase["ours"], 4),
        "mase_autoets": round(mase["autoets"], 4),
        "ours_seconds": round(seconds["ours"], 2),
        "autoets_seconds": round(seconds["autoets"], 2),
        "speed_ratio": round(ratio, 1),
        "holds": mase["ours"] <= mase["autoets"] * (1.0 + EQUAL) and ratio >= 10.0,
    }


def real_demand_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "",
        "## Real demand: the protection-horizon forecast against AutoETS",
        "",
        "`python -m benchmarks.bench_forecasting --only-real` — each real monthly data set, the "
        "forecast of the next 2 months' total (the protection interval of a one-month lead time "
        "and review) made at every 3rd origin of the last 24 months. Ours is the whole planning "
        "run (`demand_over_protection`: seasonal path over the interval plus the measured bias); "
        "AutoETS is statsforecast's seasonal (m = 12) automatic ETS, one series per call. "
        "*Holds*: MASE no worse at ≥ 10× speed.",
        "",
        "| data set | series | origins | MASE ours / AutoETS | ours s | AutoETS s | faster by "
        "| holds |",
        "|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data_set']} | {r['series']} | {r['origins']} | {r['mase_ours']:.4f} / "
            f"{r['mase_autoets']:.4f} | {r['ours_seconds']:.2f} | {r['autoets_seconds']:.2f} "
            f"| {r['speed_ratio']:,}× | {'yes' if r['holds'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


REAL_DEMAND = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-demand"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=104)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", type=Path, default=MARKDOWN, help="'-' to skip")
    parser.add_argument("--real-demand", type=Path, default=REAL_DEMAND)
    parser.add_argument("--only-real", action="store_true", help="skip the synthetic series")
    args = parser.parse_args()
    folders = (
        sorted(p for p in args.real_demand.iterdir() if (p / "demand.csv").exists())
        if args.real_demand.exists()
        else []
    )
    real = [real_demand(f) for f in folders]
    report: dict[str, Any] = {"real_demand": real}
    text = ""
    if not args.only_real:
        report = {**run(args.series, args.periods, args.repeats), "real_demand": real}
        text = markdown(report)
    elif args.markdown.exists():
        text = args.markdown.read_text().split("\n## Real demand")[0].rstrip("\n") + "\n"
    print(json.dumps(report, indent=2))
    if str(args.markdown) != "-" and real:
        text += real_demand_markdown(real)
    if str(args.markdown) != "-" and text:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
