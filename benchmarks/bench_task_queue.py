"""The task queue at the reference size: "next task for me" with 50,000 open tasks at a site,
and a directed putaway decision among 10,000 bins, both through the services on a real
database.

Subjects:
- ``tasks.service.next_task`` in a write transaction (it assigns the task it hands out);
- ``inbound.putaway.site_bins`` + ``tasks.putaway.choose_bin`` for one pallet (the decision a
  receipt line takes), the bin table built once per site as a receipt does.
Baseline, interleaved call by call in the same run: a primary-key select of one task row in a
read transaction (the least any read costs through the same pool), and for putaway an argsort
of 10,000 floats. Targets: next task p99 ≤ 20 ms; putaway decision p99 ≤ 5 ms.

    python -m benchmarks.bench_task_queue [--backend sqlite|postgresql] [--tasks 50000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from benchmarks.common import backends, fresh_database, percentile
from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import ItemCreate
from stockpilot.inbound.putaway import site_bins
from stockpilot.network import service as network
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import location
from stockpilot.persistence.warehouse_tables import task
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.shared.clock import utcnow
from stockpilot.tasks import service as tasks
from stockpilot.tasks.putaway import PutawayItem, choose_bin

BINS = 10_000
TARGET_NEXT_P99_MS = 20.0
TARGET_PUTAWAY_P99_MS = 5.0


def load(db: Database, open_tasks: int) -> dict[str, int]:
    def work(conn: Connection) -> dict[str, int]:
        site_id = network.create_site(conn, SYSTEM, "HUB", kind="hub")
        owner = conn.execute(
            sa.text("SELECT company_id FROM site WHERE id = :i"), {"i": site_id}
        ).scalar_one()
        dock = network.create_location(conn, SYSTEM, "HUB", "DOCK", "dock")
        conn.execute(
            location.insert(),
            [
                {
                    "site_id": site_id,
                    "code": f"R-{i:05d}",
                    "kind": "storage" if i % 10 else "pick",
                    "is_virtual": False,
                    "capacity": 500,
                    "walk_sequence": i,
                    "x": i % 100,
                    "y": i // 100,
                }
                for i in range(BINS)
            ],
        )
        item_id = catalog.create_item(conn, SYSTEM, ItemCreate(sku="P-1"))
        now = utcnow()
        rows = [
            {
                "type": ("putaway", "pick", "replenish", "move")[i % 4],
                "site_id": site_id,
                "status": "open",
                "priority": float(i % 997),
                "priority_reasons": [],
                "item_id": item_id,
                "lot_id": 0,
                "stock_status": "available",
                "owner_id": owner,
                "quantity": 1,
                "from_location_id": dock,
                "created_at": now,
            }
            for i in range(open_tasks)
        ]
        for start in range(0, len(rows), 10_000):
            conn.execute(task.insert(), rows[start : start + 10_000])
        return {"site": site_id, "item": item_id}

    ids = db.run(work)
    if db.is_sqlite:
        db.run(lambda conn: conn.exec_driver_sql("ANALYZE"))
    else:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE task")
    return ids


def _ms(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure(backend: str, open_tasks: int, rounds: int) -> dict[str, Any]:
    with fresh_database(backend, "task_queue") as db:
        ids = load(db, open_tasks)
        site_id = ids["site"]
        first_task = db.run(lambda c: c.execute(sa.select(sa.func.min(task.c.id))).scalar_one())

        def baseline() -> None:
            with db.read() as conn:
                conn.execute(sa.select(task.c.id).where(task.c.id == first_task)).first()

        subject_ms: list[float] = []
        base_ms: list[float] = []
        for n in range(rounds):
            operator = Actor(user_id=10_000 + n, name=f"op{n}", role="warehouse_operator")
            subject_ms.append(
                _ms(lambda op=operator: db.run(lambda c: tasks.next_task(c, op, site_id)))
            )
            base_ms.append(_ms(baseline))
        with db.read() as conn:
            table, holdings = site_bins(conn, site_id, [ids["item"]])
        item = PutawayItem(item_id=ids["item"], sku="P-1", velocity_class="A")
        sort_input = np.random.default_rng(1).random(BINS)
        put_ms: list[float] = []
        sort_ms: list[float] = []
        for _ in range(rounds):
            put_ms.append(_ms(lambda: choose_bin(item, 40, table, holdings=holdings[ids["item"]])))
            sort_ms.append(_ms(lambda: np.argsort(sort_input)))
    next_p99, base_p99 = percentile(subject_ms, 0.99), percentile(base_ms, 0.99)
    put_p99, sort_p99 = percentile(put_ms, 0.99), percentile(sort_ms, 0.99)
    return {
        "open_tasks": open_tasks,
        "bins": BINS,
        "rounds": rounds,
        "next_task_p50_ms": round(percentile(subject_ms, 0.5), 3),
        "next_task_p99_ms": round(next_p99, 3),
        "baseline_pk_read_p99_ms": round(base_p99, 3),
        "next_task_ratio_p99": round(next_p99 / base_p99, 2),
        "next_task_meets_target": next_p99 <= TARGET_NEXT_P99_MS,
        "putaway_p50_ms": round(percentile(put_ms, 0.5), 3),
        "putaway_p99_ms": round(put_p99, 3),
        "baseline_argsort_p99_ms": round(sort_p99, 3),
        "putaway_ratio_p99": round(put_p99 / sort_p99, 2),
        "putaway_meets_target": put_p99 <= TARGET_PUTAWAY_P99_MS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 100 if args.quick else 400
    chosen = [args.backend] if args.backend else backends()
    results = {b: measure(b, args.tasks, rounds) for b in chosen}
    json.dump({"benchmark": "task_queue", "results": results}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
