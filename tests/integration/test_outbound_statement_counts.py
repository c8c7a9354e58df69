"""A wave release and a pick-list confirmation cost the same number of SQL statements for 5
orders as for 200: no per-line query on either path."""

from __future__ import annotations

from stockpilot.outbound import picking, waves
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM
from tests.integration.outbound_world import order, tasks_of, wave
from tests.integration.test_statement_counts import counting
from tests.support.world import build_world, receive


def _release_and_confirm(db: Database, orders: int) -> tuple[int, int]:
    ids = [order(db, [("SKU-1", 1), ("SKU-2", 1)]) for _ in range(orders)]
    wave_id = wave(db, ids, "batch")
    with counting(db) as released:
        db.run(lambda c: waves.release_wave(c, SYSTEM, wave_id))
    picks = [
        (t.id, None if i % 7 else 0) for i, t in enumerate(tasks_of(db, "pick", wave_id=wave_id))
    ]
    with counting(db) as confirmed:
        db.run(lambda c: picking.confirm_picks(c, SYSTEM, picks))
    return len(released), len(confirmed)


def test_release_and_confirmation_statements_do_not_grow_with_the_orders(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 1000, "A-02")
    receive(db, "SKU-2", 1000, "B-01")
    _release_and_confirm(db, 1)  # the first release creates the staging bin
    small = _release_and_confirm(db, 5)
    large = _release_and_confirm(db, 200)
    assert small == large, (small, large)
