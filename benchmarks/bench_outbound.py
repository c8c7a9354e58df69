"""Outbound through the service layer against the ledger's own posting, in the same run.

- **wave release**: a wave of 1,000 orders × 5 lines (5,000 order lines over 500 items in
  1,000 bins) released — allocation by the rules, 5,000 allocations, pick lists (batch, 8
  orders a cart), 5,000 pick tasks — against posting 5,000 moves as one bare ledger document
  (``post_moves`` in one transaction). Targets: ≤ 3× the baseline's time and under 5 s.
  The same release for orders allocated beforehand (only the tasks are made) is reported
  beside it, against the same baseline.
- **pick confirmation**: the wave's 5,000 pick tasks confirmed as one pick list
  (``outbound.picking.confirm_picks``: guarded transitions, allocations posted to staging,
  line counters, order statuses, audit) against the same bare document. Targets: ≥ 0.5× the
  baseline's rate and ≥ 1,000 lines/s.

Rounds alternate which side runs first (see benchmarks/common.py); each round builds its
wave untimed, then times the release and the confirmation beside a baseline each.

    python -m benchmarks.bench_outbound [--backend sqlite|postgresql] [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from benchmarks.common import fresh_database, per_backend_main
from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import CustomerCreate
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network import service as network
from stockpilot.outbound import picking, waves
from stockpilot.outbound.allocation import allocate_orders
from stockpilot.outbound.schemas import WaveCreate
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item, location, sales_order, sales_order_line
from stockpilot.persistence.warehouse_tables import task
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.clock import utcnow

ITEMS = 500
BINS_PER_ITEM = 2
ORDERS = 1_000
LINES_PER_ORDER = 5
LINES = ORDERS * LINES_PER_ORDER
STOCK = 10**9
RELEASE_MAX_RATIO = 3.0
RELEASE_MAX_SECONDS = 5.0
CONFIRM_MIN_RATIO = 0.5
CONFIRM_MIN_RATE = 1_000.0


@dataclass(frozen=True)
class Bench:
    db: Database
    site_id: int
    owner_id: int
    customer_id: int
    items: list[int]
    bins: list[int]
    spare: int


def setup(db: Database) -> Bench:
    def work(conn: Connection) -> Bench:
        site_id = network.create_site(conn, SYSTEM, "WH1", kind="hub")
        owner = network.site_by_code(conn, "WH1").company_id
        customer_id = catalog.create_customer(conn, SYSTEM, CustomerCreate(code="C1", name="C"))
        conn.execute(item.insert(), [{"sku": f"O-{i:04d}", "base_uom": "EA"} for i in range(ITEMS)])
        items = list(conn.execute(sa.select(item.c.id).order_by(item.c.id)).scalars())
        conn.execute(
            location.insert(),
            [
                {"site_id": site_id, "code": f"R-{i:04d}", "kind": "storage", "walk_sequence": i}
                for i in range(ITEMS * BINS_PER_ITEM)
            ]
            + [{"site_id": site_id, "code": "SPARE", "kind": "storage", "walk_sequence": None}],
        )
        codes = dict(
            conn.execute(
                sa.select(location.c.code, location.c.id).where(location.c.site_id == site_id)
            ).all()
        )
        bins = [codes[f"R-{i:04d}"] for i in range(ITEMS * BINS_PER_ITEM)]
        supplier = network.virtual_location(conn, site_id, "supplier")
        post_moves(
            conn,
            [MoveLine(items[i % ITEMS], supplier, b, STOCK, owner) for i, b in enumerate(bins)],
            PostingContext("receipt"),
        )
        return Bench(db, site_id, owner, customer_id, items, bins, codes["SPARE"])

    return db.run(work)


def _orders(bench: Bench, round_no: int) -> list[int]:
    """1,000 orders of 5 lines (untimed), inserted in bulk."""

    def work(conn: Connection) -> list[int]:
        now = utcnow()
        conn.execute(
            sales_order.insert(),
            [
                {
                    "number": f"R{round_no}-{o}",
                    "site_id": bench.site_id,
                    "customer_id": bench.customer_id,
                    "created_at": now,
                }
                for o in range(ORDERS)
            ],
        )
        ids = list(
            conn.execute(
                sa.select(sales_order.c.id)
                .where(sales_order.c.number.like(f"R{round_no}-%"))
                .order_by(sales_order.c.id)
            ).scalars()
        )
        conn.execute(
            sales_order_line.insert(),
            [
                {
                    "order_id": order_id,
                    "line_no": n + 1,
                    "item_id": bench.items[(o * LINES_PER_ORDER + n) % ITEMS],
                    "quantity": 1 + (o + n) % 3,
                    "uom": "EA",
                    "quantity_entered": "1",
                }
                for o, order_id in enumerate(ids)
                for n in range(LINES_PER_ORDER)
            ],
        )
        return ids

    return bench.db.run(work)


def _bare_document(bench: Bench) -> float:
    """Seconds to post 5,000 moves as one ledger document (the baseline)."""
    lines = [
        MoveLine(
            bench.items[i % ITEMS], bench.bins[i % len(bench.bins)], bench.spare, 1, bench.owner_id
        )
        for i in range(LINES)
    ]
    started = time.perf_counter()
    bench.db.run(lambda c: post_moves(c, lines, PostingContext("move")))
    return time.perf_counter() - started


def _timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _round(bench: Bench, round_no: int) -> dict[str, float]:
    order_ids = _orders(bench, round_no)
    cmd = WaveCreate(site="WH1", sales_orders=order_ids, method="batch")
    wave_id = bench.db.run(lambda c: waves.create_wave(c, SYSTEM, cmd))
    first_baseline = round_no % 2 == 0
    out: dict[str, float] = {}
    if first_baseline:
        out["release_baseline"] = _bare_document(bench)
    out["release"] = _timed(lambda: bench.db.run(lambda c: waves.release_wave(c, SYSTEM, wave_id)))
    if not first_baseline:
        out["release_baseline"] = _bare_document(bench)
    with bench.db.read() as conn:
        picks = [
            (int(i), None)
            for i in conn.execute(
                sa.select(task.c.id)
                .where(task.c.wave_id == wave_id)
                .order_by(task.c.pick_list, task.c.sequence)
            ).scalars()
        ]
    assert len(picks) == LINES, len(picks)
    if first_baseline:
        out["confirm_baseline"] = _bare_document(bench)
    out["confirm"] = _timed(lambda: bench.db.run(lambda c: picking.confirm_picks(c, SYSTEM, picks)))
    if not first_baseline:
        out["confirm_baseline"] = _bare_document(bench)
    # The same release for orders allocated beforehand (at order entry): the tasks alone.
    allocated = _orders(bench, -round_no - 1)
    bench.db.run(lambda c: allocate_orders(c, bench.site_id, allocated))
    cmd = WaveCreate(site="WH1", sales_orders=allocated, method="batch")
    second = bench.db.run(lambda c: waves.create_wave(c, SYSTEM, cmd))
    out["release_allocated"] = _timed(
        lambda: bench.db.run(lambda c: waves.release_wave(c, SYSTEM, second))
    )
    return out


def run(backend: str, *, quick: bool = False) -> dict[str, Any]:
    with fresh_database(backend, "outbound") as db:
        bench = setup(db)
        _round(bench, 0)  # warm-up, unrecorded
        rounds = [_round(bench, r) for r in range(1, (3 if quick else 7))]
    release_ratio = statistics.median(r["release"] / r["release_baseline"] for r in rounds)
    release_s = statistics.median(r["release"] for r in rounds)
    confirm_rate = statistics.median(LINES / r["confirm"] for r in rounds)
    confirm_ratio = statistics.median(r["confirm_baseline"] / r["confirm"] for r in rounds)
    return {
        "backend": backend,
        "lines": LINES,
        "rounds": len(rounds),
        "wave_release": {
            "seconds_median": round(release_s, 3),
            "baseline_seconds_median": round(
                statistics.median(r["release_baseline"] for r in rounds), 3
            ),
            "time_ratio_median": round(release_ratio, 3),
            "time_ratios": [round(r["release"] / r["release_baseline"], 3) for r in rounds],
            "target_max_ratio": RELEASE_MAX_RATIO,
            "target_max_seconds": RELEASE_MAX_SECONDS,
            "meets_target": release_ratio <= RELEASE_MAX_RATIO and release_s < RELEASE_MAX_SECONDS,
        },
        "wave_release_of_allocated_orders": {
            "seconds_median": round(statistics.median(r["release_allocated"] for r in rounds), 3),
            "time_ratio_median": round(
                statistics.median(r["release_allocated"] / r["release_baseline"] for r in rounds),
                3,
            ),
        },
        "pick_confirmation": {
            "lines_per_s_median": round(confirm_rate, 1),
            "baseline_moves_per_s_median": round(
                statistics.median(LINES / r["confirm_baseline"] for r in rounds), 1
            ),
            "rate_ratio_median": round(confirm_ratio, 3),
            "rate_ratios": [round(r["confirm_baseline"] / r["confirm"], 3) for r in rounds],
            "target_min_ratio": CONFIRM_MIN_RATIO,
            "target_min_lines_per_s": CONFIRM_MIN_RATE,
            "meets_target": confirm_ratio >= CONFIRM_MIN_RATIO and confirm_rate >= CONFIRM_MIN_RATE,
        },
    }


def main(argv: list[str] | None = None) -> int:
    return per_backend_main(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
