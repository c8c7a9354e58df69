"""Receiving and the opening-balance import through the inbound service, against the ledger.

- a 1,000-line receipt against a purchase order through ``inbound.receiving.receive_goods``,
  into bins and to the dock with its putaway tasks, vs the same moves posted as one bare
  ledger document (``ledger.posting.post_moves``), interleaved (target ≥ 0.5 and ≥ 1,000
  lines/s on SQLite);
- putaway confirmation through ``tasks.service.confirm_task``, one task per transaction, vs
  the same one-line moves posted bare (lines/s, no target);
- ``stockpilot import stock`` (``importing.import_csv``: CSV reading, validation, the receipt
  documents) of opening balances for 45,000 SKUs × 4 sites, one bin each, vs the raw driver
  inserting the same rows as moves plus balance upserts in one transaction (target ≥ 0.3 on
  SQLite);
- SQL statements per receipt of 10 and 1,000 lines.

    python -m benchmarks.bench_receiving [--backend sqlite|postgresql] [--quick]
        [--skus N] [--part receipt,import]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from benchmarks.common import backends, captured, fresh_database, interleave
from stockpilot.importing import import_csv
from stockpilot.inbound.receiving import receive_goods
from stockpilot.inbound.schemas import ReceiptCreate, ReceiptLineCreate
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network import service as network
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item, location, site
from stockpilot.shared.actor import SYSTEM

SITES = ("WH1", "WH2", "WH3", "WH4")
BINS_PER_SITE = 500
RECEIPT_LINES = 1000


# --- receipts and putaway through the service layer -----------------------------------------


@dataclass
class ReceiptBench:
    db: Database
    skus: list[str]
    item_ids: list[int]
    owner_id: int
    supplier: int
    dock: int
    bins: list[int]
    orders: list[int]


def receipt_setup(db: Database, orders: int) -> ReceiptBench:
    """WH1 with a dock and 200 storage bins, 1,000 items, supplier S1 and ``orders``
    confirmed purchase orders of 1,000 lines (10 units each), one per receipt to come."""
    from stockpilot.catalog.schemas import SupplierCreate
    from stockpilot.catalog.service import create_supplier
    from stockpilot.inbound.purchase_orders import (
        DraftLine,
        PurchaseOrderDraft,
        create_purchase_order,
    )

    skus = [f"R-{i:05d}" for i in range(RECEIPT_LINES)]

    def work(conn: Connection) -> ReceiptBench:
        site_id = network.create_site(conn, SYSTEM, "WH1", kind="hub")
        dock = network.create_location(conn, SYSTEM, "WH1", "DOCK", "dock")
        bins = [
            network.create_location(
                conn, SYSTEM, "WH1", f"B-{b:03d}", "storage", walk_sequence=b, capacity=10**9
            )
            for b in range(200)
        ]
        conn.execute(item.insert(), [{"sku": s, "base_uom": "EA"} for s in skus])
        ids = dict(conn.execute(sa.select(item.c.sku, item.c.id)).all())
        supplier_id = create_supplier(conn, SYSTEM, SupplierCreate(code="S1", name="First"))
        lines = [DraftLine(ids[s], 10) for s in skus]
        made = [
            create_purchase_order(conn, SYSTEM, PurchaseOrderDraft(site_id, supplier_id, lines))
            for _ in range(orders)
        ]
        return ReceiptBench(
            db, skus, [ids[s] for s in skus], network.site_by_code(conn, "WH1").company_id,
            network.virtual_location(conn, site_id, "supplier"), dock, bins, made,
        )  # fmt: skip

    bench = db.run(work)
    # Stock at the dock for the bare dock-to-bin postings of the putaway baseline.
    opening = [
        MoveLine(i, bench.supplier, bench.dock, 10**12, bench.owner_id) for i in bench.item_ids
    ]
    db.run(lambda c: post_moves(c, opening, PostingContext("receipt")))
    return bench


def _receipt_command(bench: ReceiptBench, order: int, to_dock: bool) -> ReceiptCreate:
    lines = [
        ReceiptLineCreate(
            sku=s, quantity=Decimal(5), location=None if to_dock else f"B-{i % 200:03d}"
        )
        for i, s in enumerate(bench.skus)
    ]
    return ReceiptCreate(site="WH1", purchase_order=order, lines=lines)


def _bare_receipt(bench: ReceiptBench, to_dock: bool) -> list[MoveLine]:
    return [
        MoveLine(
            item_id, bench.supplier, bench.dock if to_dock else bench.bins[i % 200], 5,
            bench.owner_id, line_no=i, uom="EA", quantity_entered="5",
        )
        for i, item_id in enumerate(bench.item_ids)
    ]  # fmt: skip


def receipt_figures(backend: str, *, rounds: int, docs: int) -> dict[str, Any]:

    receipts = 2 * (rounds + 2) * docs + 4  # each variant with its warm-up; statement counts
    with fresh_database(backend, "receiving") as db:
        bench = receipt_setup(db, receipts)
        orders: Iterator[int] = iter(bench.orders)
        out: dict[str, Any] = {}
        tasks: list[int] = []
        for to_dock, name in (
            (False, "receipt_1000_lines_to_bins"),
            (True, "receipt_1000_lines_to_dock"),
        ):
            bare = _bare_receipt(bench, to_dock)

            # The commands are parsed beforehand: the API's body parsing is not the service's.
            commands = iter(
                [_receipt_command(bench, next(orders), to_dock) for _ in range((rounds + 2) * docs)]
            )

            def service(commands: Iterator[ReceiptCreate] = commands) -> int:
                for _ in range(docs):
                    cmd = next(commands)
                    body = db.run(partial(receive_goods, actor=SYSTEM, cmd=cmd, max_lines=10_000))
                    tasks.extend(body["putaway_tasks"])
                return docs * RECEIPT_LINES

            def baseline(bare: list[MoveLine] = bare) -> int:
                for _ in range(docs):
                    db.run(lambda c: post_moves(c, bare, PostingContext("receipt")))
                return docs * RECEIPT_LINES

            result = interleave(service, baseline, rounds=rounds, unit="lines/s").summary(0.5)
            if backend == "sqlite":
                result["target_lines_per_s"] = 1000
                result["meets_rate_target"] = result["subject_median"] >= 1000
            out[name] = result
        out["statements_per_receipt"] = receipt_statements(bench, orders)
        out["putaway_confirmation"] = _confirmations(bench, tasks, rounds)
        return out


def _confirm(conn: Connection, task_id: int) -> object:
    from stockpilot.tasks.service import Confirmation, confirm_task

    return confirm_task(conn, SYSTEM, task_id, Confirmation())


def _confirmations(bench: ReceiptBench, tasks: list[int], rounds: int) -> dict[str, Any]:
    """One putaway task per transaction through ``confirm_task``, against the same one-line
    dock-to-bin move posted bare."""

    db = bench.db
    per_round = min(200, len(tasks) // (rounds + 2 + rounds % 2) // 1 or 1)
    queue = iter(tasks)
    move = [MoveLine(bench.item_ids[0], bench.dock, bench.bins[0], 1, bench.owner_id)]

    def service() -> int:
        for _ in range(per_round):
            task_id = next(queue)
            db.run(partial(_confirm, task_id=task_id))
        return per_round

    def baseline() -> int:
        for _ in range(per_round):
            db.run(lambda c: post_moves(c, move, PostingContext("putaway")))
        return per_round

    return interleave(service, baseline, rounds=rounds, unit="tasks/s").summary()


def receipt_statements(bench: ReceiptBench, orders: Iterator[int]) -> dict[str, Any]:
    """SQL statements of a receipt against a PO, to bins and to the dock, of 10 and 1,000
    lines (the shorter receipts leave their PO partly open)."""
    out: dict[str, Any] = {}
    for to_dock in (False, True):
        where = "dock" if to_dock else "bins"
        for n in (10, RECEIPT_LINES):
            cmd = _receipt_command(bench, next(orders), to_dock)
            cmd = cmd.model_copy(update={"lines": cmd.lines[:n]})
            with captured(bench.db) as statements:
                bench.db.run(partial(receive_goods, actor=SYSTEM, cmd=cmd, max_lines=10_000))
            out[f"{where}_{n}_lines"] = len(statements)
        out[f"constant_{where}"] = out[f"{where}_10_lines"] == out[f"{where}_{RECEIPT_LINES}_lines"]
    return out


# --- the opening-balance import -------------------------------------------------------------


def _catalogue(db: Database, skus: int) -> list[str]:
    """``skus`` items and four sites of ``BINS_PER_SITE`` storage bins each."""
    codes = [f"SKU-{i:06d}" for i in range(skus)]

    def work(conn: Connection) -> None:
        for code in SITES:
            network.create_site(conn, SYSTEM, code, kind="hub")
        for start in range(0, skus, 5000):
            conn.execute(
                item.insert(),
                [{"sku": s, "base_uom": "EA"} for s in codes[start : start + 5000]],
            )

    db.run(work)
    bins = "site,code,type\n" + "".join(
        f"{s},R-{b:04d},storage\n" for s in SITES for b in range(BINS_PER_SITE)
    )
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
        handle.write(bins)
    import_csv(db, "locations", Path(handle.name), actor=SYSTEM)
    Path(handle.name).unlink()
    return codes


def _stock_file(skus: Sequence[str], path: Path) -> None:
    """One row per item-location: every SKU at every site in one bin, with its unit cost."""
    with path.open("w") as out:
        out.write("site,location,sku,quantity,unit_cost\n")
        for s in SITES:
            for i, sku in enumerate(skus):
                out.write(f"{s},R-{i % BINS_PER_SITE:04d},{sku},{1 + i % 97},{1 + i % 13}.25\n")


@dataclass
class RawImport:
    """The floor: sqlite3 inserting the file's rows as moves and upserting both balances of
    each (supplier side and bin side), in one transaction, rows built beforehand."""

    path: str
    moves: list[tuple[Any, ...]]
    balances: list[tuple[Any, ...]]

    @classmethod
    def build(cls, db: Database, skus: Sequence[str]) -> RawImport:
        with db.read() as conn:
            items = dict(conn.execute(sa.select(item.c.sku, item.c.id)).all())
            sites = {
                r.code: r
                for r in conn.execute(sa.select(site.c.code, site.c.id, site.c.company_id))
            }
            locs = {
                (r.site_id, r.code): r.id
                for r in conn.execute(sa.select(location.c.site_id, location.c.code, location.c.id))
            }
        now = "2026-12-01 00:00:00.000000"
        moves: list[tuple[Any, ...]] = []
        balances: list[tuple[Any, ...]] = []
        for s in SITES:
            st = sites[s]
            supplier = locs[(st.id, "@SUPPLIER")]
            for i, sku in enumerate(skus):
                bin_id = locs[(st.id, f"R-{i % BINS_PER_SITE:04d}")]
                qty = 1 + i % 97
                moves.append(
                    ("receipt", None, i, items[sku], supplier, bin_id, 0, "available",
                     "available", st.company_id, qty, "EA", str(qty), f"{1 + i % 13}.25", None,
                     "OPENING", now, now, None)
                )  # fmt: skip
                balances.append(
                    (items[sku], supplier, 0, "available", st.company_id, True, -qty, 0)
                )
                balances.append((items[sku], bin_id, 0, "available", st.company_id, False, qty, 0))
        assert db.url.database is not None
        return cls(db.url.database, moves, balances)

    def run(self) -> int:
        from stockpilot.ledger.balances import _UPSERT
        from stockpilot.ledger.posting import _INSERT_MOVE

        conn = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT_MOVE.sqlite, self.moves)
            conn.executemany(_UPSERT.sqlite, self.balances)
            conn.execute("COMMIT")
        finally:
            conn.close()
        return len(self.moves)


def import_figures(backend: str, *, skus: int, rounds: int) -> dict[str, Any]:
    with fresh_database(backend, "receiving_import") as db, tempfile.TemporaryDirectory() as tmp:
        codes = _catalogue(db, skus)
        path = Path(tmp) / "stock.csv"
        _stock_file(codes, path)
        rows = skus * len(SITES)

        def service() -> int:
            summary = import_csv(db, "stock", path, actor=SYSTEM)
            assert summary.rows == rows, summary
            return rows

        out: dict[str, Any] = {"item_locations": rows, "skus": skus, "sites": len(SITES)}
        if backend != "sqlite":
            started = time.perf_counter()
            service()
            out["import_seconds"] = round(time.perf_counter() - started, 2)
            out["rows_per_s"] = round(rows / (time.perf_counter() - started))
            return out
        raw = RawImport.build(db, codes)
        result = interleave(service, raw.run, rounds=rounds, unit="item-locations/s")
        out |= result.summary(0.3)
        out["import_seconds"] = round(rows / out["subject_median"], 2)
        out["raw_seconds"] = round(rows / out["baseline_median"], 2)
        return out


def profile_import(backend: str, skus: int) -> None:
    import cProfile
    import pstats

    with fresh_database(backend, "receiving_profile") as db, tempfile.TemporaryDirectory() as tmp:
        codes = _catalogue(db, skus)
        path = Path(tmp) / "stock.csv"
        _stock_file(codes, path)
        import_csv(db, "stock", path, actor=SYSTEM)
        prof = cProfile.Profile()
        prof.enable()
        import_csv(db, "stock", path, actor=SYSTEM)
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(45)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, fewer SKUs")
    parser.add_argument("--skus", type=int, default=None)
    parser.add_argument("--part", default="receipt,import")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    skus = args.skus or (5000 if args.quick else 45_000)
    if args.profile:
        profile_import((args.backend or ["sqlite"])[0], skus)
        return 0
    parts = set(args.part.split(","))
    results = []
    for backend in args.backend or backends():
        entry: dict[str, Any] = {"backend": backend}
        if "receipt" in parts:
            entry |= receipt_figures(
                backend, rounds=2 if args.quick else 6, docs=1 if args.quick else 2
            )
        if "import" in parts:
            entry["import_stock"] = import_figures(
                backend, skus=skus, rounds=2 if args.quick else 4
            )
        results.append(entry)
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
