"""Time the pure planning engine on 180,000 synthetic item-locations × 104 weeks.

Run: ``python -m benchmarks.bench_planning_engine`` (prints JSON).
"""

from __future__ import annotations

import json
import time

import numpy as np
import polars as pl

from stockpilot.planning.engine import PlanConfig, plan


def synthetic_lines(n_series: int, periods: int = 104, seed: int = 0) -> pl.DataFrame:
    """Order lines for a mix of smooth and intermittent series (one line per demand week)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(1.0, 3.0, n_series)
    occurrence = rng.uniform(0.1, 1.0, n_series)
    y = (rng.random((n_series, periods)) < occurrence[:, None]) * rng.poisson(
        rate[:, None] + 1, (n_series, periods)
    )
    rows, cols = np.nonzero(y)
    return pl.DataFrame(
        {
            "item": np.char.add("I", (rows // 3).astype(str)),
            "site": np.char.add("S", (rows % 3).astype(str)),
            "date": (np.datetime64("2023-01-02") + cols * 7).astype("datetime64[D]"),
            "quantity": y[rows, cols].astype(float),
        }
    )


def run(report: dict[str, object], n_series: int = 180_000) -> None:
    """Fill ``report`` with timings of one full engine run."""
    lines = synthetic_lines(n_series)
    start = time.perf_counter()
    result = plan(lines, None, None, PlanConfig())
    report["series"] = result.policies.height
    report["order_lines"] = lines.height
    report["seconds_total"] = round(time.perf_counter() - start, 3)
    report["seconds_by_stage"] = {k: round(v, 3) for k, v in result.timings.items()}


if __name__ == "__main__":
    results: dict[str, object] = {}
    run(results)
    print(json.dumps(results, indent=2))
