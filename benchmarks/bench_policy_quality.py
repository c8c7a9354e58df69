"""Policy quality on the demo distributor: the engine against a static min/max rule.

Run: ``python -m benchmarks.bench_policy_quality [skus sites]`` (prints JSON; Markdown tables for
docs/planning.md on stderr). Builds the demo (2,000 SKUs × 4 sites, seed 42) into a temporary SQLite
file, reads demand, receipts and item master as the database run does, holds out the last 26
weeks and replays them with a weekly re-plan (:mod:`stockpilot.planning.backtest`) at targets
0.90, 0.95 and 0.98 for both service types.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from stockpilot.bootstrap import initialise
from stockpilot.demo import build_demo
from stockpilot.persistence.db import Database
from stockpilot.planning.backtest import backtest_policies
from stockpilot.planning.engine import PlanConfig
from tests.integration.test_policy_quality import demand_lines, planning_inputs

TARGETS = (0.90, 0.95, 0.98)


def markdown(frame: pl.DataFrame) -> str:
    head = (
        "| class | series | target | fill rate | cycle service | avg on hand | turns | "
        "stockout periods | static fill / on hand | static on hand at equal fill |"
    )
    rows = [head, "|" + "---|" * 10]
    for r in frame.iter_rows(named=True):
        equal = r["static_average_on_hand_at_equal_fill"]
        rows.append(
            f"| {r['demand_class']} | {r['series']} | {r['target']:.1%} | {r['fill_rate']:.1%} "
            f"| {r['cycle_service']:.1%} | {r['average_on_hand']:,.0f} | {r['turns']:.1f} "
            f"| {r['stockout_periods']} | {r['static_fill_rate']:.1%} / "
            f"{r['static_average_on_hand']:,.0f} | {equal:,.0f} |"
        )
    return "\n".join(rows)


def run(skus: int = 2000, sites: int = 4) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        initialise(db)
        build_demo(db, skus=skus, sites=sites, seed=42, today=date(2025, 6, 2))
        lines = demand_lines(db)
        receipts, items = planning_inputs(db)
        db.dispose()
    report: dict[str, object] = {"skus": skus, "sites": sites, "order_lines": lines.height}
    for service_type in ("fill_rate", "cycle"):
        for target in TARGETS:
            start = time.perf_counter()
            config = PlanConfig(service_level=target, service_type=service_type)
            by_class = backtest_policies(lines, receipts, items, config, holdout=26).by_class
            report[f"{service_type}@{target}"] = {
                "seconds": round(time.perf_counter() - start, 2),
                "by_class": by_class.to_dicts(),
                "markdown": markdown(by_class),
            }
    return report


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    result = run(*args)
    print(json.dumps({k: v for k, v in result.items()}, indent=2, default=str))
    for kind in ("fill_rate", "cycle"):
        for target in TARGETS:
            # The tables go to stderr so stdout stays one JSON document (make bench parses it).
            print(f"\n### service_type={kind}, target {target:.0%}\n", file=sys.stderr)
            print(result[f"{kind}@{target}"]["markdown"], file=sys.stderr)  # type: ignore[index]
