"""Latency of the pure warehouse rules (tasks/, outbound rules) on site-sized inputs.

Each figure is timed call by call, interleaved with a baseline measured in the same run, so
the ratio says how many baselines one call is worth, whatever the machine's speed that minute:

- putaway: one decision for one pallet among 10,000 bins of a site (a ``BinTable`` built
  once, as the service caches it), target p99 ≤ 5 ms; baseline ``numpy.argsort`` of 10,000
  floats, the least a ranking over the site's bins costs;
- pick path: a 60-line pick list by serpentine and by nearest neighbour + 2-opt; baseline
  Python's ``sorted`` of the same stops by (x, y);
- next task: ranking 200 candidate tasks for one operator (the short-list rule); baseline
  ``sorted`` of 200 tuples; and over a site's 50,000 open tasks as a ``TaskTable``, target
  p99 ≤ 20 ms, baseline ``numpy.argsort`` of 50,000 floats;
- allocation and waves: 5,000 order lines allocated (FEFO, 500 items × 3 lots) and split into
  batch pick lists; baseline ``sorted`` of the 5,000 lines by their rank key.

    python -m benchmarks.bench_tasks_rules [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from benchmarks.common import percentile
from stockpilot.outbound.allocation_rules import DemandLine, StockSlot, allocate
from stockpilot.outbound.waves_rules import WaveLine, build_pick_lists
from stockpilot.tasks.pickpath import PickStop, order_picks
from stockpilot.tasks.priority import Operator, TaskFacts, next_tasks
from stockpilot.tasks.putaway import BinRow, BinTable, Holdings, PutawayItem, choose_bin
from stockpilot.tasks.ranking import TaskTable, next_tasks_from_table

BINS = 10_000
PUTAWAY_TARGET_P99_MS = 5.0
NEXT_TASK_TARGET_P99_MS = 20.0


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


def _latency(ms: dict[str, list[float]], target_p99_ms: float | None = None) -> dict[str, Any]:
    p99 = percentile(ms["subject"], 0.99)
    base99 = percentile(ms["baseline"], 0.99)
    out: dict[str, Any] = {
        "calls": len(ms["subject"]),
        "p50_ms": round(percentile(ms["subject"], 0.50), 3),
        "p99_ms": round(p99, 3),
        "baseline_p50_ms": round(percentile(ms["baseline"], 0.50), 3),
        "baseline_p99_ms": round(base99, 3),
        "p50_ratio_to_baseline": round(
            statistics.median(ms["subject"]) / statistics.median(ms["baseline"]), 2
        ),
        "p99_ratio_to_baseline": round(p99 / base99, 2),
    }
    if target_p99_ms is not None:
        out["target_p99_ms"] = target_p99_ms
        out["meets_target"] = p99 <= target_p99_ms
    return out


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


def bench_pickpath(calls: int) -> dict[str, Any]:
    rng = np.random.default_rng(2)
    stops = [
        PickStop(i, i, x=float(rng.integers(0, 30) * 3), y=float(rng.integers(0, 100)))
        for i in range(60)
    ]
    points = [(s.x, s.y, s.key) for s in stops]
    out: dict[str, Any] = {"lines": len(stops)}
    for method in ("serpentine", "nearest"):

        def walk(m: str = method) -> object:
            return order_picks(stops, method=m, start=(0.0, 0.0))  # type: ignore[arg-type]

        out[method] = _latency(_samples(walk, lambda: sorted(points), calls))
        out[method]["distance"] = walk().distance  # type: ignore[attr-defined]
    return out


def _open_tasks(n: int, now: datetime) -> list[TaskFacts]:
    rng = np.random.default_rng(3)
    return [
        TaskFacts(
            i,
            "pick" if i % 5 else "replenish",
            now - timedelta(minutes=int(rng.integers(0, 300))),
            ship_by=now + timedelta(minutes=int(rng.integers(-30, 600))),
            customer_priority=int(rng.integers(1, 6)),
            feeds=(i + 1,) if i % 5 == 0 else (),
            zone="A" if i % 3 else "B",
            x=float(rng.integers(0, 90)),
            y=float(rng.integers(0, 100)),
        )
        for i in range(n)
    ]


def bench_next_task(calls: int) -> dict[str, Any]:
    now = datetime(2026, 12, 1, 10, 0)
    tasks = _open_tasks(200, now)
    keys = [(t.x, t.y, t.task_id) for t in tasks]
    me = Operator("ana", zones=frozenset({"A", "B"}), x=0.0, y=0.0)
    result = _latency(
        _samples(lambda: next_tasks(tasks, me, now, limit=5), lambda: sorted(keys), calls)
    )
    return {"candidates": len(tasks), **result}


def bench_next_task_table(calls: int, n: int = 50_000) -> dict[str, Any]:
    now = datetime(2026, 12, 1, 10, 0)
    tasks = _open_tasks(n, now)
    started = time.perf_counter()
    table = TaskTable.from_facts(tasks)
    build_ms = (time.perf_counter() - started) * 1000
    floats = np.random.default_rng(5).random(n)
    me = Operator("ana", zones=frozenset({"A"}), x=10.0, y=10.0)
    result = _latency(
        _samples(
            lambda: next_tasks_from_table(table, me, now, limit=5),
            lambda: np.argsort(floats),
            calls,
        ),
        NEXT_TASK_TARGET_P99_MS,
    )
    return {"open_tasks": n, "table_build_ms": round(build_ms, 1), **result}


def bench_allocation_and_waves(calls: int) -> dict[str, Any]:
    rng = np.random.default_rng(4)
    t0 = datetime(2026, 11, 30, 8, 0)
    today = date(2026, 12, 1)
    stock = [
        StockSlot(
            i * 3 + lot,
            i,
            int(rng.integers(0, 40)),
            lot_id=lot,
            expiry_date=today + timedelta(days=int(rng.integers(5, 400))),
        )
        for i in range(500)
        for lot in range(3)
    ]
    lines = [
        DemandLine(
            n,
            n // 4,
            int(rng.integers(0, 500)),
            int(rng.integers(1, 6)),
            t0 + timedelta(minutes=n % 600),
            customer_id=None,
            priority=int(rng.integers(1, 6)),
            promised_date=today,
        )
        for n in range(5_000)
    ]
    wave = [
        WaveLine(
            ln.line_id,
            ln.order_id,
            ln.item_id,
            ln.quantity,
            1 + ln.item_id,
            zone="A",
            walk_sequence=ln.item_id,
        )
        for ln in lines
    ]
    keys = [(ln.priority, ln.promised_date, ln.order_created_at, ln.line_id) for ln in lines]
    out: dict[str, Any] = {"order_lines": len(lines), "stock_keys": len(stock)}
    out["allocate"] = _latency(
        _samples(lambda: allocate(lines, stock, today=today), lambda: sorted(keys), calls)
    )
    out["batch_pick_lists"] = _latency(
        _samples(
            lambda: build_pick_lists(wave, "batch", cart_orders=12), lambda: sorted(keys), calls
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    args = parser.parse_args(argv)
    calls = 300 if args.quick else 3_000
    results = {
        "putaway": bench_putaway(calls),
        "pick_path": bench_pickpath(calls // 3),
        "next_task": bench_next_task(calls // 3),
        "next_task_50k": bench_next_task_table(calls // 3),
        "allocation_and_waves": bench_allocation_and_waves(max(10, calls // 100)),
    }
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
