"""The write-transaction discipline of ``Database`` (persistence/db.py), on both backends:
all of a unit of work lands or none of it does, whatever mix of SQLAlchemy and driver-level
statements it ran, and the connection it ran on is clean for the next one."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.ledger import operations, positions
from stockpilot.persistence import journal
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import audit_log, reason_code
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import InsufficientStock
from tests.support.world import build_world, receive


class Boom(Exception):
    pass


def _audit_rows(db: Database, action: str) -> int:
    with db.read() as conn:
        count = sa.select(sa.func.count()).select_from(audit_log)
        return int(conn.execute(count.where(audit_log.c.action == action)).scalar_one())


def _mixed_write(action: str, *, fail: bool) -> Callable[[Connection], None]:
    """Driver-level statements (journal) and SQLAlchemy ones in one unit of work."""

    def work(conn: Connection) -> None:
        journal.record(conn, SYSTEM, action=action, entity_type="test", entity_id=1)
        conn.execute(reason_code.insert().values(code=action.upper(), description=action))
        if fail:
            raise Boom

    return work


def test_a_failed_unit_of_work_leaves_nothing_and_the_next_one_lands(db: Database) -> None:
    for _ in range(3):  # the same kept connection, again and again
        with pytest.raises(Boom):
            db.run(_mixed_write("t.fail", fail=True))
    assert _audit_rows(db, "t.fail") == 0
    db.run(_mixed_write("t.ok", fail=False))
    assert _audit_rows(db, "t.ok") == 1
    with db.read() as conn:
        codes = set(conn.execute(sa.select(reason_code.c.code)).scalars())
    assert "T.OK" in codes and "T.FAIL" not in codes


def test_the_transaction_context_commits_or_rolls_back_everything(db: Database) -> None:
    with pytest.raises(Boom), db.transaction() as conn:
        _mixed_write("t.ctx.fail", fail=True)(conn)
    with db.transaction() as conn:
        _mixed_write("t.ctx.ok", fail=False)(conn)
    assert (_audit_rows(db, "t.ctx.fail"), _audit_rows(db, "t.ctx.ok")) == (0, 1)


def test_a_refused_posting_rolls_back_and_the_connection_posts_again(db: Database) -> None:
    build_world(db)
    receive(db, "SKU-1", 5, "A-01")
    too_many = [operations.StockLine("SKU-1", 6, "A-01", to_location="A-02")]
    with pytest.raises(InsufficientStock, match="requested 6, available 5"):
        db.run(lambda conn: operations.relocate(conn, SYSTEM, "WH1", too_many))
    receive(db, "SKU-1", 2, "A-01")
    with db.read() as conn:
        assert positions.stock_position(conn, SYSTEM, "SKU-1", "WH1")["quantity_on_hand"] == 7


def test_concurrent_writers_land_exactly_their_successful_units(db_url: str) -> None:
    """16 threads, each alternating units that commit with units that fail half-way: every
    committed unit is there, no trace of a failed one, whatever connection served it next."""
    database = Database(db_url, pool_size=4, max_overflow=4)
    try:
        errors: list[BaseException] = []

        def client(n: int) -> None:
            try:
                for i in range(6):
                    work = _mixed_write(f"t.conc.{n}.{i}", fail=i % 2 == 1)
                    with contextlib.suppress(Boom):
                        database.run(work)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with database.read() as conn:
            actions = set(
                conn.execute(
                    sa.select(audit_log.c.action).where(audit_log.c.action.like("t.conc.%"))
                ).scalars()
            )
            codes = set(
                conn.execute(
                    sa.select(reason_code.c.code).where(reason_code.c.code.like("T.CONC.%"))
                ).scalars()
            )
        expected = {f"t.conc.{n}.{i}" for n in range(16) for i in (0, 2, 4)}
        assert actions == expected
        assert codes == {a.upper() for a in expected}
    finally:
        database.dispose()


def test_sqlite_a_writer_that_finds_the_database_locked_waits_and_lands(
    db_url: str, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the database-wide write lock is SQLite's")
    path = sa.make_url(db_url).database
    assert path is not None and Path(path).exists()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    database = Database(db_url, busy_timeout_ms=20, retry_attempts=30)
    try:
        released = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
        released.start()
        started = time.monotonic()
        database.run(_mixed_write("t.locked", fail=False))
        assert time.monotonic() - started >= 0.25  # it did wait for the lock
        released.join()
        assert _audit_rows(database, "t.locked") == 1
    finally:
        database.dispose()
        holder.close()


def test_sqlite_a_writer_gives_up_after_its_retry_budget(db_url: str, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the database-wide write lock is SQLite's")
    path = sa.make_url(db_url).database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    database = Database(db_url, busy_timeout_ms=10, retry_attempts=3)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            database.run(_mixed_write("t.gave_up", fail=False))
        holder.execute("COMMIT")
        database.run(_mixed_write("t.after", fail=False))  # the connection is still good
        assert (_audit_rows(database, "t.gave_up"), _audit_rows(database, "t.after")) == (0, 1)
    finally:
        database.dispose()
        holder.close()
