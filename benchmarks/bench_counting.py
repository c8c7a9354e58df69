"""A count program for a whole site: 45,000 SKUs, one stocked bin each, every one due, through
``counting.programs.create_program`` on a real database (lines, their rules and their blind
count tasks; rolled back after each round so every round counts the whole site).

Baseline, interleaved round by round in the same run: a bare INSERT … SELECT of the same
site's balance rows into count lines (no rules, no tasks) — the least writing the lines costs.
Statements are counted for the full site and for a tenth of it: they must be the same number.
Target (issue): ≤ 2 s for the whole site, constant statements.

    python -m benchmarks.bench_counting [--backend sqlite|postgresql] [--skus 45000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection

from benchmarks.common import backends, fresh_database
from stockpilot.counting import policy, programs
from stockpilot.network import service as network
from stockpilot.persistence.control_tables import count_line, stock_count
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import balance, item, location
from stockpilot.shared.actor import SYSTEM, Actor
from stockpilot.shared.clock import utcnow

TARGET_SECONDS = 2.0
SUPERVISOR = Actor(user_id=1, name="bench", role="warehouse_supervisor")


def load(db: Database, skus: int, site_code: str) -> int:
    """A site with ``skus`` items, each stocked in a bin of its own."""

    def work(conn: Connection) -> int:
        site_id = network.create_site(conn, SYSTEM, site_code, kind="hub")
        owner = conn.execute(
            sa.text("SELECT company_id FROM site WHERE id = :i"), {"i": site_id}
        ).scalar_one()
        first_item = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(item.c.id), 0))
        ).scalar_one()
        conn.execute(
            item.insert(),
            [{"sku": f"{site_code}-{i:06d}", "base_uom": "EA"} for i in range(skus)],
        )
        conn.execute(
            location.insert(),
            [
                {
                    "site_id": site_id,
                    "code": f"B-{i:06d}",
                    "kind": "storage",
                    "is_virtual": False,
                    "walk_sequence": i,
                }
                for i in range(skus)
            ],
        )
        bins = conn.execute(
            sa.select(location.c.id)
            .where(location.c.site_id == site_id, location.c.is_virtual.is_(False))
            .order_by(location.c.walk_sequence)
        ).scalars()
        rows = [
            {
                "item_id": int(first_item) + 1 + n,
                "location_id": bin_id,
                "lot_id": 0,
                "status": "available",
                "owner_id": owner,
                "is_virtual": False,
                "quantity_on_hand": 10 + n % 7,
                "quantity_allocated": 0,
            }
            for n, bin_id in enumerate(bins)
        ]
        for start in range(0, len(rows), 10_000):
            conn.execute(balance.insert(), rows[start : start + 10_000])
        every_day = policy.ControlPolicyUpdate(count_days_a=1, count_days_b=1, count_days_c=1)
        policy.set_policy(conn, SYSTEM, site_code, every_day)
        return int(site_id)

    site_id = db.run(work)
    if db.is_sqlite:
        db.run(lambda conn: conn.exec_driver_sql("ANALYZE"))
    else:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return site_id


def _rolled_back(db: Database, fn: Callable[[Connection], Any]) -> tuple[float, Any]:
    with db.engine.connect() as conn:
        trans = conn.begin()
        start = time.perf_counter()
        out = fn(conn)
        seconds = time.perf_counter() - start
        trans.rollback()
    return seconds, out


def _bare_copy(site_id: int) -> Callable[[Connection], Any]:
    def copy(conn: Connection) -> Any:
        count_id = conn.execute(
            stock_count.insert()
            .values(site_id=site_id, created_at=utcnow())
            .returning(stock_count.c.id)
        ).scalar_one()
        keys = (
            sa.select(
                sa.literal(count_id),
                balance.c.id,
                balance.c.item_id,
                balance.c.location_id,
                balance.c.lot_id,
                balance.c.status,
                balance.c.owner_id,
            )
            .join(location, location.c.id == balance.c.location_id)
            .where(location.c.site_id == site_id, location.c.is_virtual.is_(False))
        )
        cols = ["count_id", "line_no", "item_id", "location_id", "lot_id", "stock_status"]
        conn.execute(count_line.insert().from_select([*cols, "owner_id"], keys))

    return copy


def _statements(db: Database, fn: Callable[[Connection], Any]) -> int:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    from stockpilot.persistence import raw

    def count_raw(statement: str, _params: Any, _many: bool) -> None:
        seen.append(statement)

    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", count)
    raw.observers.append(count_raw)
    try:
        _rolled_back(db, fn)
    finally:
        raw.observers.remove(count_raw)
        for engine in db.engines:
            event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def measure(backend: str, skus: int, rounds: int) -> dict[str, Any]:
    with fresh_database(backend, "counting") as db:
        site_id = load(db, skus, "HUB")
        load(db, max(1, skus // 10), "BR1")

        def program(code: str) -> Callable[[Connection], Any]:
            return lambda conn: programs.create_program(conn, SUPERVISOR, code)

        subject: list[float] = []
        base: list[float] = []
        lines = 0
        for _ in range(rounds):
            seconds, made = _rolled_back(db, program("HUB"))
            subject.append(seconds)
            lines = int(made["lines"])
            base.append(_rolled_back(db, _bare_copy(site_id))[0])
        full = _statements(db, program("HUB"))
        tenth = _statements(db, program("BR1"))
    best, floor = min(subject), min(base)
    return {
        "skus": skus,
        "rounds": rounds,
        "lines_created": lines,
        "program_seconds_best": round(best, 3),
        "program_seconds_median": round(sorted(subject)[len(subject) // 2], 3),
        "bare_copy_seconds_best": round(floor, 3),
        "ratio_to_bare_copy": round(best / floor, 2),
        "statements_full_site": full,
        "statements_tenth_site": tenth,
        "constant_statements": full == tenth,
        "meets_target": best <= TARGET_SECONDS and full == tenth,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--skus", type=int, default=45_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 2 if args.quick else 5
    chosen = [args.backend] if args.backend else backends()
    results = {b: measure(b, args.skus, rounds) for b in chosen}
    json.dump({"benchmark": "counting", "results": results}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
