"""Engines and transactions for SQLite and PostgreSQL, with the integrity rules of DESIGN §4.

- SQLite: WAL, synchronous=FULL, busy_timeout, foreign keys on, and every write transaction
  opened with ``BEGIN IMMEDIATE`` (a deferred transaction that reads then writes fails with
  "database is locked" under contention, whatever the busy timeout).
- PostgreSQL (psycopg 3): READ COMMITTED; callers lock rows in sorted key order; a write is
  retried on serialization failure (40001) and deadlock (40P01) within a bounded budget.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
_BEGIN = {"IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED"}


class Database:
    """One database: an engine plus the transaction discipline every service uses."""

    def __init__(
        self,
        url: str,
        *,
        retry_attempts: int = 8,
        busy_timeout_ms: int = 30000,
        pool_size: int = 10,
        max_overflow: int = 30,
    ) -> None:
        self.url = sa.make_url(url)
        self.retry_attempts = retry_attempts
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url, busy_timeout_ms, pool_size, max_overflow)
        elif self.dialect == "postgresql":
            self.engine = sa.create_engine(
                url,
                isolation_level="READ COMMITTED",
                pool_size=pool_size,
                max_overflow=max_overflow,
                # No ping per checkout (a round trip on every transaction): a connection the
                # server dropped is invalidated on first use and ``run`` retries the work.
                pool_recycle=1800,
            )
        else:
            raise ValueError(f"unsupported database backend: {self.dialect}")

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls back on any exception."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (deferred on SQLite, so readers never block writers)."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction, retrying serialization failures, deadlocks and
        connections found dead — but never a transaction whose COMMIT was already sent, since
        its outcome is unknown."""
        attempt = 0
        while True:
            committing = False
            try:
                with self.transaction() as conn:
                    result = work(conn)
                    committing = True
                return result
            except DBAPIError as exc:
                attempt += 1
                if committing and exc.connection_invalidated:
                    raise
                if not is_retryable(exc) or attempt >= self.retry_attempts:
                    raise
                # Jittered exponential backoff keeps colliding writers from colliding again.
                time.sleep(min(0.2, 0.002 * (2**attempt)) * random.random())

    def dispose(self) -> None:
        self.engine.dispose()


def is_retryable(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database is busy" in message


def is_unique_violation(exc: DBAPIError) -> bool:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "23505":
        return True
    return "unique constraint failed" in str(orig).lower()


def is_check_violation(exc: DBAPIError) -> bool:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "23514":
        return True
    return "check constraint failed" in str(orig).lower()


def _sqlite_engine(url: str, busy_timeout_ms: int, pool_size: int, max_overflow: int) -> Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        pool_size=pool_size,
        max_overflow=max_overflow,
        # Reuse the most recent connection: SQLite's page cache is per connection and is
        # dropped whenever another connection has written since, so rotating costs re-reads.
        pool_use_lifo=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that BEGIN is ours to issue.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # Straight to the driver: this runs at the start of every transaction.
        conn.connection.dbapi_connection.execute(_BEGIN[mode])  # type: ignore[union-attr]

    return engine
