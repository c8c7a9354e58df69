"""A connection the server dropped is replaced and the write is retried, never lost."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stockpilot.ledger import positions
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM
from tests.support.world import build_world, receive


def test_a_write_on_a_connection_the_server_killed_is_retried_on_a_new_one(
    db: Database, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("only a server can drop a connection")
    build_world(db)
    first, second = db.engine.connect(), db.engine.connect()
    victim = first.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    first.close()  # back in the pool, looking healthy
    second.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
    second.close()
    for _ in range(3):  # whichever pooled connection comes first, the receipts land
        receive(db, "SKU-1", 1, "A-01")
    with db.read() as conn:
        assert positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")["quantity_on_hand"] == 3
