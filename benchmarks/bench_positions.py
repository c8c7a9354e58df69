"""Stock position of one SKU at one site, 45,000 SKUs × 4 sites loaded, while a writer posts.

Subject: ``ledger.positions.stock_position`` in a read transaction. Baseline, same run and
interleaved query by query: a primary-key select of one balance row in a read transaction (the
least any read costs through the same pool). Target: p99 ≤ 10 ms.

    python -m benchmarks.bench_positions [--backend sqlite|postgresql] [--skus 45000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from benchmarks.common import backends, fresh_database, percentile
from stockpilot.ledger import positions
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network import service as network
from stockpilot.persistence import journal
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import balance, item, location
from stockpilot.shared.actor import SYSTEM

SITES = 4
BINS_PER_SITE = 100
# Loading posts documents through ``post_moves``. On PostgreSQL its key lock is a row-value
# IN list, which the planner turns into an OR of one arm per key: with 10,000 keys against
# 435,000 balance rows it ran for over 13 minutes (see docs/benchmarks.md), so PostgreSQL
# loads in 1,000-line documents.
DOCUMENT_LINES = {"sqlite": 5_000, "postgresql": 1_000}
TARGET_P99_MS = 10.0


@dataclass(frozen=True)
class Loaded:
    skus: list[str]
    item_ids: list[int]
    sites: list[str]
    bins: dict[str, list[int]]
    owner_id: int
    balance_ids: list[int]
    load_seconds: float
    moves_loaded: int


def _post_receipt(conn: Connection, lines: list[MoveLine]) -> None:
    post_moves(conn, lines, PostingContext("receipt"))


def load(db: Database, skus: int) -> Loaded:
    """Items, sites and bins by bulk Core inserts; stock by ``post_moves`` in big documents
    (two bins per SKU per site), so balances and moves are the ledger's own."""
    started = time.perf_counter()
    codes = [f"S{n}" for n in range(1, SITES + 1)]
    sku_codes = [f"P-{i:06d}" for i in range(skus)]

    def master(conn: Connection) -> tuple[dict[str, int], int, list[int]]:
        suppliers: dict[str, int] = {}
        for code in codes:
            site_id = network.create_site(
                conn, SYSTEM, code, kind="hub" if code == "S1" else "branch"
            )
            suppliers[code] = network.virtual_location(conn, site_id, "supplier")
            conn.execute(
                location.insert(),
                [
                    {
                        "site_id": site_id,
                        "code": f"B{b:03d}",
                        "kind": "storage",
                        "is_virtual": False,
                        "walk_sequence": b,
                    }
                    for b in range(BINS_PER_SITE)
                ],
            )
        for start in range(0, skus, 5000):
            conn.execute(
                item.insert(),
                [{"sku": s, "base_uom": "EA"} for s in sku_codes[start : start + 5000]],
            )
        ids: dict[str, int] = dict(conn.execute(sa.select(item.c.sku, item.c.id)).all())
        owner = network.site_by_code(conn, "S1").company_id
        return suppliers, owner, [ids[s] for s in sku_codes]

    suppliers, owner, item_ids = db.run(master)
    with db.read() as conn:
        bins: dict[str, list[int]] = {}
        for code in codes:
            site_id = network.site_by_code(conn, code).id
            bins[code] = list(
                conn.execute(
                    sa.select(location.c.id)
                    .where(location.c.site_id == site_id, location.c.is_virtual.is_(False))
                    .order_by(location.c.id)
                ).scalars()
            )
    lines = [
        MoveLine(
            item_id=i,
            from_location_id=suppliers[code],
            to_location_id=bins[code][b],
            quantity=100 + n % 50,
            owner_id=owner,
        )
        for code in codes
        for n, i in enumerate(item_ids)
        for b in (n % BINS_PER_SITE, (n + 37) % BINS_PER_SITE)
    ]
    size = DOCUMENT_LINES[db.dialect]
    for start in range(0, len(lines), size):
        db.run(partial(_post_receipt, lines=lines[start : start + size]))
    with db.read() as conn:
        balance_ids = list(
            conn.execute(sa.select(balance.c.id).where(balance.c.is_virtual.is_(False))).scalars()
        )
    return Loaded(
        sku_codes,
        item_ids,
        codes,
        bins,
        owner,
        balance_ids,
        time.perf_counter() - started,
        len(lines),
    )


class Writer(threading.Thread):
    """Posts one bin-to-bin move per transaction (with its audit row) until stopped."""

    def __init__(self, db: Database, data: Loaded) -> None:
        super().__init__(daemon=True)
        self.db, self.data = db, data
        self.stop = threading.Event()
        self.posted = 0

    def run(self) -> None:
        rng = random.Random(1)
        site_bins = self.data.bins["S1"]
        while not self.stop.is_set():
            n = rng.randrange(len(self.data.item_ids))
            # Back and forth between the SKU's two stocked bins, so it never runs dry.
            a, b = n % BINS_PER_SITE, (n + 37) % BINS_PER_SITE
            if self.posted % 2:
                a, b = b, a
            line = MoveLine(
                item_id=self.data.item_ids[n],
                from_location_id=site_bins[a],
                to_location_id=site_bins[b],
                quantity=1,
                owner_id=self.data.owner_id,
            )

            def work(conn: Connection, ln: MoveLine = line) -> None:
                post_moves(conn, [ln], PostingContext("move", reason_code="MOVE"))
                journal.record(
                    conn,
                    SYSTEM,
                    action="stock.move",
                    entity_type="move",
                    entity_id=None,
                    detail={"lines": 1},
                    topic="stock.move.posted",
                )

            self.db.run(work)
            self.posted += 1


def _measure(
    db: Database, data: Loaded, queries: int, rng: random.Random
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"position": [], "primary_key": []}
    pk = sa.select(balance.c.quantity_on_hand, balance.c.quantity_allocated).where(
        balance.c.id == sa.bindparam("id")
    )
    for q in range(queries):
        sku, site = rng.choice(data.skus), rng.choice(data.sites)
        balance_id = rng.choice(data.balance_ids)

        def position(sku: str = sku, site: str = site) -> None:
            with db.read() as conn:
                positions.stock_position(conn, SYSTEM, sku, site)

        def primary_key(balance_id: int = balance_id) -> None:
            with db.read() as conn:
                conn.execute(pk, {"id": balance_id}).one()

        pair: list[tuple[str, Callable[[], None]]] = [
            ("position", position),
            ("primary_key", primary_key),
        ]
        if q % 2:
            pair.reverse()
        for name, fn in pair:
            started = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - started) * 1000)
    return out


def run(backend: str, *, skus: int = 45_000, quick: bool = False) -> dict[str, Any]:
    with fresh_database(backend, "positions", pool_size=4, max_overflow=2) as db:
        data = load(db, skus)
        rounds, queries = (3, 200) if quick else (5, 400)
        writer = Writer(db, data)
        writer.start()
        rng = random.Random(7)
        per_round: list[dict[str, float]] = []
        started = time.perf_counter()
        try:
            _measure(db, data, 50, rng)  # warm the pool and the statement caches
            for _ in range(rounds):
                ms = _measure(db, data, queries, rng)
                per_round.append(
                    {
                        "position_p50": percentile(ms["position"], 0.50),
                        "position_p99": percentile(ms["position"], 0.99),
                        "primary_key_p50": percentile(ms["primary_key"], 0.50),
                        "primary_key_p99": percentile(ms["primary_key"], 0.99),
                    }
                )
        finally:
            writer.stop.set()
            writer.join(timeout=30)
        elapsed = time.perf_counter() - started

    def med(key: str) -> float:
        return round(statistics.median(r[key] for r in per_round), 3)

    p99 = med("position_p99")
    return {
        "backend": backend,
        "skus": skus,
        "sites": SITES,
        "balances": len(data.balance_ids),
        "moves_loaded": data.moves_loaded,
        "load_seconds": round(data.load_seconds, 1),
        "load_moves_per_s": round(data.moves_loaded / data.load_seconds),
        "rounds": rounds,
        "queries_per_round": queries,
        "position_p50_ms": med("position_p50"),
        "position_p99_ms": p99,
        "primary_key_p50_ms": med("primary_key_p50"),
        "primary_key_p99_ms": med("primary_key_p99"),
        "p50_ratio_to_primary_key": round(med("position_p50") / med("primary_key_p50"), 2),
        "p99_ratio_to_primary_key": round(p99 / med("primary_key_p99"), 2),
        "writer_moves_per_s": round(writer.posted / elapsed, 1),
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": p99 <= TARGET_P99_MS,
        "rounds_detail": per_round,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--skus", type=int, default=45_000)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args(argv)
    results = []
    for backend in args.backend or backends():
        results.append(run(backend, skus=args.skus, quick=args.quick))
        print(
            json.dumps({k: v for k, v in results[-1].items() if k != "rounds_detail"}),
            file=sys.stderr,
            flush=True,
        )
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
