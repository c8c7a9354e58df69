"""Valuation: posting with valuation against posting without it, and value at a date.

- posting with valuation vs the same documents posted with valuation switched off (same run,
  interleaved): one FIFO issue per transaction, one receipt at cost per transaction, and
  1,000-line documents of each (target ratio ≥ 0.80);
- 1,000 bin-to-bin moves (no value changes: what valuation costs a document it does not
  touch);
- a backdated receipt (30 days ago) vs a current one: the same cost (target ≥ 0.80), since
  nothing later is re-posted;
- inventory value at a past date over 180,000 item-locations (60,000 items × 3 sites, one
  entry after that date each), with its per-item breakdown (target ≤ 2 s).

    python -m benchmarks.bench_valuation [--backend sqlite|postgresql] [--quick]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import stockpilot.ledger.posting as posting
from benchmarks.common import fresh_database, interleave, per_backend_main
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network import service as network
from stockpilot.persistence import journal
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item, location
from stockpilot.persistence.valuation_tables import valuation_balance, valuation_entry
from stockpilot.shared.actor import SYSTEM
from stockpilot.valuation import reports

ITEMS = 1000
OPENING = 10**9  # one layer per item that no run drains


@dataclass(frozen=True)
class Bench:
    db: Database
    site_id: int
    owner_id: int
    supplier: int
    customer: int
    bin_id: int
    item_ids: list[int]


def setup(db: Database) -> Bench:
    def work(conn: Connection) -> Bench:
        site_id = network.create_site(conn, SYSTEM, "WH1", kind="hub")
        bin_id = network.create_location(conn, SYSTEM, "WH1", "A-01", "storage")
        network.create_location(conn, SYSTEM, "WH1", "A-02", "storage")
        conn.execute(item.insert(), [{"sku": f"V-{i:05d}", "base_uom": "EA"} for i in range(ITEMS)])
        ids = list(conn.execute(sa.select(item.c.id).order_by(item.c.id)).scalars())
        site = network.site_by_code(conn, "WH1")
        return Bench(
            db, site_id, site.company_id, network.virtual_location(conn, site_id, "supplier"),
            network.virtual_location(conn, site_id, "customer"), bin_id, ids,
        )  # fmt: skip

    bench = db.run(work)
    opening = [_line(bench, i, receipt=True, quantity=OPENING) for i in range(ITEMS)]
    db.run(lambda c: post_moves(c, opening, PostingContext("receipt")))
    return bench


def _line(bench: Bench, index: int, *, receipt: bool, quantity: int = 1) -> MoveLine:
    source, target = (bench.supplier, bench.bin_id) if receipt else (bench.bin_id, bench.customer)
    return MoveLine(
        item_id=bench.item_ids[index],
        from_location_id=source,
        to_location_id=target,
        quantity=quantity,
        owner_id=bench.owner_id,
        line_no=index,
        unit_cost=Decimal("1.25") if receipt else None,
    )


def _bin_moves(db: Database, bench: Bench) -> list[MoveLine]:
    """A-01 to A-02 and back, one line per item: moves inside one valuation area."""
    other = db.run(
        lambda c: c.execute(
            sa.select(location.c.id).where(
                location.c.site_id == bench.site_id, location.c.code == "A-02"
            )
        ).scalar_one()
    )
    return [
        MoveLine(
            item_id=bench.item_ids[i], from_location_id=bench.bin_id, to_location_id=int(other),
            quantity=1, owner_id=bench.owner_id, line_no=i,
        )
        for i in range(ITEMS)
    ]  # fmt: skip


def _document(
    bench: Bench, lines: Sequence[MoveLine], effective_at: datetime | None = None
) -> Callable[[Connection], None]:
    """A posting with its audit row and event, as every service writes one."""

    def work(conn: Connection) -> None:
        post_moves(conn, lines, PostingContext("bench", reason_code="BENCH",
                                               effective_at=effective_at))  # fmt: skip
        journal.record(
            conn, SYSTEM, action="stock.bench", entity_type="move", entity_id=None,
            site_id=bench.site_id, detail={"lines": len(lines)}, topic="stock.bench",
        )  # fmt: skip

    return work


@contextmanager
def _valuation_off() -> Iterator[None]:
    kept = posting.value_moves
    posting.value_moves = lambda *_args, **_kw: None
    try:
        yield
    finally:
        posting.value_moves = kept


def _repeat(db: Database, work: Callable[[Connection], None], docs: int, lines: int) -> int:
    for _ in range(docs):
        db.run(work)
    return docs * lines


def _with_vs_without(
    bench: Bench, lines: list[MoveLine], *, docs: int, rounds: int
) -> dict[str, Any]:
    work = _document(bench, lines)

    def without() -> int:
        with _valuation_off():
            return _repeat(bench.db, work, docs, len(lines))

    comparison = interleave(
        lambda: _repeat(bench.db, work, docs, len(lines)), without, rounds=rounds, unit="moves/s"
    )
    return comparison.summary(target=0.80)


def _backdated_vs_current(bench: Bench, *, docs: int, rounds: int) -> dict[str, Any]:
    lines = [_line(bench, 7, receipt=True)]
    past = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)
    backdated, current = _document(bench, lines, past), _document(bench, lines)
    comparison = interleave(
        lambda: _repeat(bench.db, backdated, docs, 1),
        lambda: _repeat(bench.db, current, docs, 1),
        rounds=rounds,
        unit="moves/s",
    )
    return comparison.summary(target=0.80)


def _insert(db: Database, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    db.run(lambda conn: conn.execute(table.insert(), rows))


def value_at_date(backend: str, *, items: int = 60_000, sites: int = 3) -> dict[str, Any]:
    """Value at yesterday's end over ``items × sites`` item-locations, each with one entry
    today (the report subtracts every one of them)."""
    with fresh_database(backend, "valuation_report") as db:

        def load(conn: Connection) -> list[int]:
            site_ids = [network.create_site(conn, SYSTEM, f"S{s}") for s in range(sites)]
            rows = [{"sku": f"R-{i:06d}", "base_uom": "EA"} for i in range(items)]
            for start in range(0, items, 10_000):
                conn.execute(item.insert(), rows[start : start + 10_000])
            return site_ids

        site_ids = db.run(load)
        company_id = db.run(lambda c: network.site_by_code(c, "S0").company_id)
        item_ids = db.run(lambda c: list(c.execute(sa.select(item.c.id)).scalars()))
        now = datetime.now(UTC).replace(tzinfo=None)
        for s in site_ids:
            balances = [{"item_id": i, "site_id": s, "cost_method": "fifo", "quantity": 10,
                         "value": 12_500_000} for i in item_ids]  # fmt: skip
            entries = [{"item_id": i, "site_id": s, "company_id": company_id, "kind": "receipt",
                        "document_type": "bench", "quantity": 4, "value": 5_000_000,
                        "effective_at": now, "recorded_at": now} for i in item_ids]  # fmt: skip
            _insert(db, valuation_balance, balances)
            _insert(db, valuation_entry, entries)
        yesterday = date.today() - timedelta(days=1)
        timings: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(3):
            for by_item in (False, True):
                started = time.perf_counter()
                with db.read() as conn:
                    body = reports.inventory_value(
                        conn, reports.Filters(None), yesterday, by_item=by_item
                    )
                timings[by_item].append(time.perf_counter() - started)
                assert body["quantity_on_hand"] == items * sites * 6, body["quantity_on_hand"]
        best = min(timings[True])
        return {
            "item_locations": items * sites,
            "entries_after_the_date": items * sites,
            "totals_seconds": [round(t, 3) for t in timings[False]],
            "by_item_seconds": [round(t, 3) for t in timings[True]],
            "best_seconds": round(best, 3),
            "target_seconds": 2.0,
            "meets_target": best <= 2.0,
        }


def run(backend: str, *, quick: bool = False) -> dict[str, Any]:
    sqlite = backend == "sqlite"
    rounds = 4 if quick else 8
    with fresh_database(backend, "valuation") as db:
        bench = setup(db)
        singles = (200 if sqlite else 100) // (4 if quick else 1)
        batches = (6 if sqlite else 3) // (2 if quick else 1) or 1
        issue_one = [_line(bench, 0, receipt=False)]
        receipt_one = [_line(bench, 1, receipt=True)]
        issue_batch = [_line(bench, i, receipt=False) for i in range(ITEMS)]
        receipt_batch = [_line(bench, i, receipt=True) for i in range(ITEMS)]
        bins = _bin_moves(db, bench)
        out: dict[str, Any] = {
            "backend": backend,
            "fifo_issue_one_move": _with_vs_without(bench, issue_one, docs=singles,
                                                    rounds=rounds * 2),
            "receipt_at_cost_one_move": _with_vs_without(bench, receipt_one, docs=singles,
                                                         rounds=rounds * 2),
            "fifo_issue_1000_lines": _with_vs_without(bench, issue_batch, docs=batches,
                                                      rounds=rounds),
            "receipt_at_cost_1000_lines": _with_vs_without(bench, receipt_batch, docs=batches,
                                                           rounds=rounds),
            "bin_to_bin_1000_lines": _with_vs_without(bench, bins, docs=batches,
                                                      rounds=rounds),
            "backdated_vs_current_receipt": _backdated_vs_current(bench, docs=singles,
                                                                  rounds=rounds * 2),
        }  # fmt: skip
    out["value_at_date"] = value_at_date(backend, items=20_000 if quick else 60_000)
    return out


def main(argv: list[str] | None = None) -> int:
    return per_backend_main(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
