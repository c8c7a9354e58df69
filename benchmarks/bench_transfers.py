"""Transfer ship and receive through the service layer against the ledger's own posting.

A transfer order of 1,000 lines (1,000 items, 10 units each) from the hub WH1 to the branch
WH2:

- **ship**: ``transfers.service.ship_transfer`` — lock the order, allocate its lines ranked
  with the hub's demand (1,000 allocations), post them from the bins into in-transit in one
  document, count the lines, audit — against posting the same 1,000 moves (bin → in-transit)
  as one bare ledger document (``post_moves``).
- **receive**: ``transfers.service.receive_transfer`` of everything in transit — the receipt
  through the inbound path at the branch's dock with 1,000 putaway tasks decided at once,
  counters, audit — against posting the same 1,000 moves (in-transit → dock) as one bare
  document.

Target (issue 9): each ≥ 0.5× the bare document's rate. Rounds alternate which side runs
first (benchmarks/common.py).

    python -m benchmarks.bench_transfers [--backend sqlite|postgresql] [--quick]
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from benchmarks.common import fresh_database, interleave, per_backend_main
from stockpilot.ledger.keys import MoveLine, PostingContext
from stockpilot.ledger.posting import post_moves
from stockpilot.network import service as network
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item
from stockpilot.shared.actor import SYSTEM
from stockpilot.transfers import service
from stockpilot.transfers.schemas import TransferOrderCreate, TransferReceive

LINES = 1_000
TARGET = 0.5


@dataclass(frozen=True)
class Bench:
    db: Database
    skus: list[str]
    items: list[int]
    owner: int
    bins: list[int]
    transit: int
    dock: int


def setup(db: Database) -> Bench:
    skus = [f"T-{i:05d}" for i in range(LINES)]

    def work(conn: Connection) -> Bench:
        network.create_site(conn, SYSTEM, "WH1", kind="hub")
        network.create_site(conn, SYSTEM, "WH2", replenished_from="WH1")
        bins = [
            network.create_location(conn, SYSTEM, "WH1", f"R-{b:03d}", "storage", walk_sequence=b)
            for b in range(200)
        ]
        network.create_location(conn, SYSTEM, "WH2", "DOCK", "dock")
        for b in range(200):
            network.create_location(
                conn, SYSTEM, "WH2", f"S-{b:03d}", "storage", walk_sequence=b, capacity=10**9
            )
        conn.execute(item.insert(), [{"sku": s, "base_uom": "EA"} for s in skus])
        ids = dict(conn.execute(sa.select(item.c.sku, item.c.id)).all())
        hub = network.site_by_code(conn, "WH1")
        branch = network.site_by_code(conn, "WH2")
        supplier = network.virtual_location(conn, hub.id, "supplier")
        items = [ids[s] for s in skus]
        post_moves(
            conn,
            [
                MoveLine(i, supplier, bins[n % 200], 10**9, hub.company_id)
                for n, i in enumerate(items)
            ],
            PostingContext("receipt"),
        )
        transit = network.in_transit_location(conn, hub.id, branch.id)
        dock = int(
            conn.execute(
                sa.text("SELECT id FROM location WHERE site_id = :s AND code = 'DOCK'"),
                {"s": branch.id},
            ).scalar_one()
        )
        return Bench(db, skus, items, hub.company_id, bins, transit, dock)

    return db.run(work)


def _order(bench: Bench) -> int:
    cmd = TransferOrderCreate.model_validate(
        {
            "from_site": "WH1",
            "to_site": "WH2",
            "lines": [{"sku": s, "quantity": 10} for s in bench.skus],
        }
    )
    return bench.db.run(lambda c: service.create(c, SYSTEM, cmd))


def run(backend: str, *, quick: bool = False) -> dict[str, Any]:
    rounds = 2 if quick else 6
    with fresh_database(backend, "transfers") as db:
        bench = setup(db)
        # Orders for every ship call of the run (warm-up pair included), made untimed.
        to_ship: Iterator[int] = iter([_order(bench) for _ in range(rounds + 2)])
        shipped: list[int] = []

        def ship() -> int:
            order_id = next(to_ship)
            db.run(lambda c: service.ship_transfer(c, SYSTEM, order_id))
            shipped.append(order_id)
            return LINES

        out_moves = [
            MoveLine(i, bench.bins[n % 200], bench.transit, 10, bench.owner)
            for n, i in enumerate(bench.items)
        ]

        def bare_out() -> int:
            db.run(lambda c: post_moves(c, out_moves, PostingContext("move")))
            return LINES

        ship_result = interleave(ship, bare_out, rounds=rounds, unit="lines/s").summary(TARGET)
        to_receive = iter(list(shipped))

        def receive() -> int:
            order_id = next(to_receive)
            db.run(
                lambda c: service.receive_transfer(
                    c, SYSTEM, order_id, TransferReceive(), max_lines=10_000
                )
            )
            return LINES

        in_moves = [MoveLine(i, bench.transit, bench.dock, 10, bench.owner) for i in bench.items]

        def bare_in() -> int:
            db.run(lambda c: post_moves(c, in_moves, PostingContext("move")))
            return LINES

        rounds_in = min(rounds, len(shipped) - 2)
        receive_result = interleave(receive, bare_in, rounds=rounds_in, unit="lines/s").summary(
            TARGET
        )
    return {
        "backend": backend,
        "lines": LINES,
        "ship": ship_result,
        "receive_to_dock_with_putaway": receive_result,
    }


def main(argv: list[str] | None = None) -> int:
    return per_backend_main(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
