"""Concurrent issues of one item from two bins of one site to two destinations (no stock key
in common: only the valuation area orders them) consume every FIFO layer once, oldest first,
and leave no value drift — with threads, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import move
from stockpilot.persistence.valuation_tables import cost_layer
from tests.integration.test_races import race
from tests.support.valuation import move_out, receive_at
from tests.support.world import build_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]

CLIENTS = 24
EACH = 4


@pytest.fixture
def race_db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, pool_size=20, max_overflow=20)
    yield database
    database.dispose()


def test_concurrent_issues_consume_no_layer_twice(race_db: Database) -> None:
    db = race_db
    build_world(db)
    for i in range(10):  # ten layers of 10 units, at 1.00 … 10.00, alternating bins
        receive_at(db, "SKU-1", 10, f"{i + 1}.00", "A-01" if i % 2 == 0 else "A-02")
    # A-01 to the customer, A-02 to scrap: no stock key in common, so only the valuation
    # area's lock orders one group against the other.
    routes = [("A-01", "customer"), ("A-02", "scrap")]

    def issue(bin_code: str, to_kind: str) -> Callable[[], Any]:
        return lambda: move_out(db, "SKU-1", EACH, to_kind, bin_code=bin_code)

    workers = [issue(*routes[n % 2]) for n in range(CLIENTS)]
    result = race(workers)
    assert not result.errors, result.errors[:3]
    issued = CLIENTS * EACH  # 96 of the 100 units received
    with db.read() as conn:
        layers = conn.execute(
            sa.select(
                cost_layer.c.quantity_received,
                cost_layer.c.quantity_remaining,
                cost_layer.c.value_received,
                cost_layer.c.value_remaining,
            ).order_by(cost_layer.c.id)
        ).all()
        per_move = list(
            conn.execute(
                sa.select(move.c.value).where(move.c.document_type == "test").order_by(move.c.id)
            ).scalars()
        )
        values = conn.execute(
            sa.select(sa.func.sum(move.c.value), sa.func.sum(move.c.quantity)).where(
                move.c.document_type == "test"
            )
        ).one()
        report = verify(conn)
    consumed_q = sum(r.quantity_received - r.quantity_remaining for r in layers)
    consumed_v = sum(r.value_received - r.value_remaining for r in layers)
    assert (consumed_q, consumed_v) == (issued, int(values[0])) and values[1] == issued
    # Oldest first: the consumed layers are a prefix, with at most one part-consumed.
    remaining = [r.quantity_remaining for r in layers]
    assert remaining == sorted(remaining)
    assert sum(1 for r in layers if 0 < r.quantity_remaining < r.quantity_received) <= 1
    # Each issue took exactly what FIFO gives in the order the issues were serialised (a
    # move's id is drawn while its area is locked): no issue valued stale layers.
    assert per_move == _fifo_values([(10, (i + 1) * 10**6) for i in range(10)], CLIENTS, EACH)
    assert report.ok, (report.drifts, report.value_drifts)


def _fifo_values(layers: list[tuple[int, int]], issues: int, each: int) -> list[int]:
    """Micro-unit values of ``issues`` FIFO issues of ``each`` units from (units, unit cost)."""
    left = [list(layer) for layer in layers]
    out = []
    for _ in range(issues):
        need, value = each, 0
        for layer in left:
            take = min(need, layer[0])
            layer[0] -= take
            value += take * layer[1]
            need -= take
            if not need:
                break
        out.append(value)
    return out
