"""Posting through the service layer vs the raw driver running the same SQL, same run.

- one move per transaction: ``post_moves`` + audit/outbox rows inside ``db.run`` vs sqlite3 /
  psycopg replaying the statements that transaction emitted (target ratio ≥ 0.80);
- a 1,000-line document: the service vs the raw driver's ``executemany`` of the same rows
  (target ≥ 0.90, and ≥ 20,000 moves/s on SQLite);
- SQL statements per document for 10 and 1,000 lines (must be equal).

    python -m benchmarks.bench_ledger [--backend sqlite|postgresql] [--quick]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from benchmarks.common import (
    RawReplay,
    captured,
    fresh_database,
    interleave,
    per_backend_main,
)
from stockpilot.ledger import operations
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network import service as network
from stockpilot.persistence import journal
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item, item_uom
from stockpilot.shared.actor import SYSTEM

ITEMS = 1000
OPENING = 10**12  # enough stock that no benchmark run ever drains a bin


@dataclass(frozen=True)
class Bench:
    db: Database
    site_id: int
    owner_id: int
    supplier: int
    source: int
    target: int
    item_ids: list[int]
    skus: list[str]


def setup(db: Database) -> Bench:
    def work(conn: Connection) -> Bench:
        site_id = network.create_site(conn, SYSTEM, "WH1", kind="hub")
        source = network.create_location(conn, SYSTEM, "WH1", "A-01", "storage")
        target = network.create_location(conn, SYSTEM, "WH1", "A-02", "storage")
        skus = [f"B-{i:05d}" for i in range(ITEMS)]
        conn.execute(item.insert(), [{"sku": s, "base_uom": "EA"} for s in skus])
        ids: dict[str, int] = dict(conn.execute(sa.select(item.c.sku, item.c.id)).all())
        conn.execute(
            item_uom.insert(),
            [{"item_id": ids[s], "uom": "CS", "factor_numerator": 12} for s in skus],
        )
        site = network.site_by_code(conn, "WH1")
        supplier = network.virtual_location(conn, site_id, "supplier")
        return Bench(
            db, site_id, site.company_id, supplier, source, target, [ids[s] for s in skus], skus
        )

    bench = db.run(work)
    opening = [_line(bench, i, bench.supplier, bench.source, OPENING) for i in range(ITEMS)]
    db.run(lambda c: post_moves(c, opening, PostingContext("receipt")))
    return bench


def _line(bench: Bench, index: int, source: int, target: int, quantity: int = 1) -> MoveLine:
    return MoveLine(
        item_id=bench.item_ids[index],
        from_location_id=source,
        to_location_id=target,
        quantity=quantity,
        owner_id=bench.owner_id,
        line_no=index,
    )


def _document(bench: Bench, lines: Sequence[MoveLine]) -> Callable[[Connection], None]:
    """What a bin-to-bin service call emits: the posting plus its audit row and event."""

    def work(conn: Connection) -> None:
        post_moves(conn, lines, PostingContext("move", user_id=None, reason_code="MOVE"))
        journal.record(
            conn,
            SYSTEM,
            action="stock.move",
            entity_type="move",
            entity_id=None,
            site_id=bench.site_id,
            reason="MOVE",
            detail={"site": "WH1", "lines": len(lines), "quantity": len(lines)},
            topic="stock.move.posted",
        )

    return work


def _service_vs_raw(
    bench: Bench, lines: list[MoveLine], *, docs: int, rounds: int, target: float
) -> dict[str, Any]:
    work = _document(bench, lines)
    bench.db.run(work)  # warm caches (location flags, prepared statements)
    with captured(bench.db) as statements:
        bench.db.run(work)
    raw = RawReplay(bench.db)
    try:
        raw.run(statements)

        def service() -> int:
            for _ in range(docs):
                bench.db.run(work)
            return docs * len(lines)

        def baseline() -> int:
            for _ in range(docs):
                raw.run(statements)
            return docs * len(lines)

        result = interleave(service, baseline, rounds=rounds, unit="moves/s").summary(target)
    finally:
        raw.close()
    result["statements_per_transaction"] = len(statements)
    return result


def _receive(conn: Connection, lines: list[operations.StockLine]) -> object:
    return operations.receive(conn, SYSTEM, "WH1", lines)


def statement_counts(bench: Bench) -> dict[str, Any]:
    """Statements per document, by length: the posting core and the service entry points."""
    out: dict[str, Any] = {}

    def count(work: Callable[[Connection], object]) -> int:
        with captured(bench.db) as statements:
            bench.db.run(work)
        return len(statements)

    for n in (10, ITEMS):
        lines = [_line(bench, i, bench.source, bench.target) for i in range(n)]
        out[f"post_moves_{n}_lines"] = count(_document(bench, lines))
        each = [operations.StockLine(s, 1, "A-01") for s in bench.skus[:n]]
        out[f"receive_{n}_lines"] = count(partial(_receive, lines=each))
        cases = [operations.StockLine(s, 1, "A-01", uom="CS") for s in bench.skus[:n]]
        out[f"receive_in_cases_{n}_lines"] = count(partial(_receive, lines=cases))
    out["constant_post_moves"] = out["post_moves_10_lines"] == out[f"post_moves_{ITEMS}_lines"]
    out["constant_receive"] = out["receive_10_lines"] == out[f"receive_{ITEMS}_lines"]
    out["constant_receive_in_cases"] = (
        out["receive_in_cases_10_lines"] == out[f"receive_in_cases_{ITEMS}_lines"]
    )
    return out


def run(backend: str, *, quick: bool = False) -> dict[str, Any]:
    with fresh_database(backend, "ledger") as db:
        bench = setup(db)
        single = [_line(bench, 0, bench.source, bench.target)]
        batch = [_line(bench, i, bench.source, bench.target) for i in range(ITEMS)]
        rounds = 2 if quick else 8
        sqlite = backend == "sqlite"
        one = _service_vs_raw(
            bench,
            single,
            docs=(200 if sqlite else 100) // (4 if quick else 1),
            rounds=rounds * 2,  # short rounds, and a disk whose sync time wanders: more of them
            target=0.80,
        )
        many = _service_vs_raw(
            bench,
            batch,
            docs=(10 if sqlite else 4) // (4 if quick else 1) or 1,
            rounds=rounds,
            target=0.90,
        )
        if sqlite:
            many["target_moves_per_s"] = 20_000
            many["meets_rate_target"] = many["subject_median"] >= 20_000
        return {
            "backend": backend,
            "one_move_per_transaction": one,
            "batch_1000_lines": many,
            "statement_counts": statement_counts(bench),
        }


def main(argv: list[str] | None = None) -> int:
    return per_backend_main(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
