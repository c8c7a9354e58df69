"""Latency of the pure warehouse rules (tasks/, outbound rules) on site-sized inputs.

Putaway: one decision for one pallet among 10,000 bins of a site (a ``BinTable`` built once,
as the service caches it), target p99 ≤ 5 ms. Baseline, same run and interleaved call by call:
``numpy.argsort`` of 10,000 floats — the least a ranking over the site's bins costs — so the
ratio says how many sorts one decision is worth, whatever the machine's speed that minute.

    python -m benchmarks.bench_tasks_rules [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import percentile
from stockpilot.tasks.putaway import BinRow, BinTable, Holdings, PutawayItem, choose_bin

BINS = 10_000
PUTAWAY_TARGET_P99_MS = 5.0


def site_bins(n: int = BINS, seed: int = 0) -> list[BinRow]:
    """A site of ``n`` bins: mostly reserve, a pick-face row, a chilled and a hazmat zone."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        aisle, slot = divmod(i, 100)
        kind = "pick" if slot < 10 else ("bulk" if slot > 95 else "storage")
        zone = "CHILL" if aisle % 10 == 9 else ("HAZ" if aisle % 25 == 24 else "MAIN")
        capacity = int(rng.integers(200, 2_000))
        units = int(rng.integers(0, capacity))
        rows.append(
            BinRow(
                location_id=i + 1,
                code=f"{zone[0]}-{aisle:03d}-{slot:02d}",
                kind=kind,
                zone=zone,
                hazard_class="3" if zone == "HAZ" else None,
                temperature_class="chilled" if zone == "CHILL" else None,
                capacity_units=capacity,
                max_volume_mm3=int(rng.integers(5, 20)) * 10**8,
                max_weight_g=1_000_000,
                units=units,
                volume_mm3=units * 100_000,
                weight_g=units * 200,
                items_held=int(rng.integers(0, 3)) if units else 0,
                distance=float(aisle * 3 + slot),
                x=float(aisle * 3),
                y=float(slot),
            )
        )
    return rows


def _samples(subject: Callable[[], object], baseline: Callable[[], object], calls: int) -> Any:
    """Milliseconds per call of each, interleaved call by call after a warm-up."""
    for _ in range(20):
        subject(), baseline()
    ms: dict[str, list[float]] = {"subject": [], "baseline": []}
    for i in range(calls):
        pair = [("subject", subject), ("baseline", baseline)]
        if i % 2:
            pair.reverse()
        for label, fn in pair:
            started = time.perf_counter()
            fn()
            ms[label].append((time.perf_counter() - started) * 1000)
    return ms


def _latency(ms: dict[str, list[float]], target_p99_ms: float) -> dict[str, Any]:
    p99 = percentile(ms["subject"], 0.99)
    base99 = percentile(ms["baseline"], 0.99)
    return {
        "calls": len(ms["subject"]),
        "p50_ms": round(percentile(ms["subject"], 0.50), 3),
        "p99_ms": round(p99, 3),
        "baseline_p50_ms": round(percentile(ms["baseline"], 0.50), 3),
        "baseline_p99_ms": round(base99, 3),
        "p50_ratio_to_baseline": round(
            statistics.median(ms["subject"]) / statistics.median(ms["baseline"]), 2
        ),
        "p99_ratio_to_baseline": round(p99 / base99, 2),
        "target_p99_ms": target_p99_ms,
        "meets_target": p99 <= target_p99_ms,
    }


def bench_putaway(calls: int) -> dict[str, Any]:
    rows = site_bins()
    started = time.perf_counter()
    table = BinTable.from_rows(rows)
    build_ms = (time.perf_counter() - started) * 1000
    rng = np.random.default_rng(1)
    items = [
        PutawayItem(
            item_id=i,
            sku=f"SKU-{i}",
            velocity_class=str(rng.choice(["A", "B", "C"])),  # type: ignore[arg-type]
            temperature_class="chilled" if i % 7 == 0 else None,
            length_mm=400,
            width_mm=300,
            height_mm=250,
            weight_g=8_000,
            lot_id=i,
        )
        for i in range(64)
    ]
    holdings = [
        Holdings(
            same_item=frozenset(int(x) for x in rng.integers(1, BINS, 5)),
            same_lot=frozenset(int(x) for x in rng.integers(1, BINS, 1)),
        )
        for _ in items
    ]
    floats = rng.random(BINS)
    state = {"i": 0}

    def decide() -> object:
        i = state["i"] = (state["i"] + 1) % len(items)
        return choose_bin(items[i], 40, table, holdings=holdings[i], alternatives=5)

    result = _latency(_samples(decide, lambda: np.argsort(floats), calls), PUTAWAY_TARGET_P99_MS)
    return {"bins": BINS, "table_build_ms": round(build_ms, 1), **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    args = parser.parse_args(argv)
    calls = 300 if args.quick else 3_000
    results = {"putaway": bench_putaway(calls)}
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
