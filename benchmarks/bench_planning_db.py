"""Full planning run on the database: 45,000 SKUs × 4 sites (180,000 item-locations, 104 weeks
of history) read from the database, planned, and written back (policies and proposals).

Target: ≤ 60 s end to end on this machine. The baseline, measured in the same run, is the raw
driver reading the demand-history table once (``SELECT item_id, site_id, requested_date,
quantity``) — the least any planning run must do.

    python -m benchmarks.bench_planning_db [--skus 45000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from stockpilot.bootstrap import initialise
from stockpilot.demo.build import build_demo
from stockpilot.persistence.db import Database
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _database(backend: str, workdir: Path) -> tuple[Database, str]:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'plan.db'}"
        return Database(url), url
    base = os.environ.get("STOCKPILOT_TEST_POSTGRES_URL", PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"stockpilot_bench_plan_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    return Database(url), url


def _drop(backend: str, url: str) -> None:
    if backend != "postgresql":
        return
    base = os.environ.get("STOCKPILOT_TEST_POSTGRES_URL", PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')
    admin.dispose()


def _raw_read_seconds(db: Database) -> tuple[float, int]:
    started = time.perf_counter()
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        cur.execute("SELECT item_id, site_id, requested_date, quantity FROM demand_history")
        rows = 0
        while batch := cur.fetchmany(100_000):
            rows += len(batch)
        cur.close()
    return time.perf_counter() - started, rows


def run(skus: int, backend: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db, url = _database(backend, Path(tmp))
        try:
            initialise(db)
            demo = build_demo(db, skus=skus)
            baseline, rows = _raw_read_seconds(db)
            started = time.perf_counter()
            summary = run_plan(db, actor=SYSTEM)
            total = time.perf_counter() - started
        finally:
            db.dispose()
            _drop(backend, url)
    return {
        "benchmark": "planning_run_on_database",
        "backend": backend,
        "skus": skus,
        "demo_load_seconds": round(getattr(demo, "seconds", 0.0), 2),
        "demand_rows": rows,
        "item_locations": summary.item_locations,
        "proposals": summary.proposals,
        "seconds": round(total, 2),
        "target_seconds": 60,
        "meets_target": total <= 60,
        "baseline_raw_read_seconds": round(baseline, 2),
        "ratio_to_raw_read": round(total / baseline, 1) if baseline else None,
        "stages": summary.timings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skus", type=int, default=45_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args(argv)
    result = run(args.skus, args.backend)
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
