"""Engines and transactions for SQLite and PostgreSQL, with the integrity rules of DESIGN §4.

- SQLite: WAL, synchronous=FULL, busy_timeout, foreign keys on, and every write transaction
  opened with ``BEGIN IMMEDIATE`` (a deferred transaction that reads then writes fails with
  "database is locked" under contention, whatever the busy timeout). Write transactions run on
  connections kept open for writing (``_Writers``): BEGIN IMMEDIATE and COMMIT go straight to
  the driver, so a one-move posting pays for little more than its statements and its fsync.
- PostgreSQL (psycopg 3): READ COMMITTED; callers lock rows in sorted key order; a write is
  retried on serialization failure (40001) and deadlock (40P01) within a bounded budget.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

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
        self._writers: _Writers | None = None
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url, busy_timeout_ms, pool_size, max_overflow)
            self._writers = _Writers(_sqlite_engine(url, busy_timeout_ms), keep=pool_size)
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
    def engines(self) -> list[Engine]:
        """Every engine statements may run on (for event hooks): on SQLite, the writers' too."""
        if self._writers is None:
            return [self.engine]
        return [self.engine, self._writers.engine]

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls back on any exception."""
        if self._writers is not None:
            writers = self._writers
            conn = self._begin_sqlite(writers)
            try:
                yield conn
            except BaseException:
                writers.abort(conn)
                raise
            writers.commit(conn)
            return
        with self.engine.connect() as conn, conn.begin():
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
        if self._writers is not None:
            return self._run_sqlite(work, self._writers)
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
                _backoff(attempt)

    def _run_sqlite(self, work: Callable[[Connection], T], writers: _Writers) -> T:
        conn = self._begin_sqlite(writers)
        try:
            result = work(conn)
        except BaseException:
            writers.abort(conn)
            raise
        writers.commit(conn)
        return result

    def _begin_sqlite(self, writers: _Writers) -> Connection:
        """SQLite: only BEGIN IMMEDIATE can meet another writer (after the busy timeout), so
        only it is retried; once it succeeds this connection holds the database's write lock
        until COMMIT."""
        attempt = 0
        while True:
            try:
                return writers.begin()
            except sqlite3.OperationalError as exc:
                attempt += 1
                if not is_retryable(exc) or attempt >= self.retry_attempts:
                    raise
                _backoff(attempt)

    def dispose(self) -> None:
        if self._writers is not None:
            self._writers.dispose()
        self.engine.dispose()


class _Writers:
    """SQLite connections kept open for write transactions, most recently used first.

    A write transaction costs the driver's BEGIN IMMEDIATE, the work and the driver's COMMIT:
    no pool checkout, no reset on return, no transaction bookkeeping per call. SQLAlchemy still
    serves any statement the work runs through it; its own (autobegun) transaction is closed
    after the driver's COMMIT or ROLLBACK, when there is nothing left for it to do. Connections
    come from an engine of their own (no pool: this list is the pool), so they never take a
    slot that readers wait for; a burst of concurrent writers opens more, and those beyond
    ``keep`` are closed when they finish.
    """

    def __init__(self, engine: Engine, *, keep: int) -> None:
        self.engine = engine
        self.keep = max(1, keep)
        self._idle: list[Connection] = []
        self._disposed = False

    def begin(self) -> Connection:
        try:
            conn = self._idle.pop()  # atomic under the GIL: no lock needed
        except IndexError:
            conn = self.engine.connect()
        try:
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        except BaseException:
            self._release(conn)
            raise
        return conn

    def commit(self, conn: Connection) -> None:
        """COMMIT; on failure the transaction is rolled back and the error raised (never
        retried: whether a failed COMMIT reached the disk is not known)."""
        driver = conn.connection.dbapi_connection
        try:
            driver.execute("COMMIT")  # type: ignore[union-attr]
        except BaseException:
            self.abort(conn)
            raise
        if conn.in_transaction():
            conn.commit()  # SQLAlchemy's bookkeeping only: the driver has nothing open
        self._release(conn)

    def abort(self, conn: Connection) -> None:
        """Roll back whatever is open; a connection that cannot be cleaned is closed."""
        try:
            driver = conn.connection.dbapi_connection
            if driver is not None and driver.in_transaction:
                driver.execute("ROLLBACK")
            if conn.in_transaction():
                conn.rollback()
        except Exception:  # the connection is unusable: drop it rather than keep it
            conn.invalidate()
            conn.close()
            return
        self._release(conn)

    def _release(self, conn: Connection) -> None:
        if len(self._idle) < self.keep and not conn.invalidated and not self._disposed:
            self._idle.append(conn)
        else:
            conn.close()

    def dispose(self) -> None:
        """Close the idle connections; one still at work is closed when its work ends."""
        self._disposed = True
        while self._idle:
            self._idle.pop().close()
        self.engine.dispose()


def _backoff(attempt: int) -> None:
    """Jittered exponential backoff: colliding writers do not collide again."""
    time.sleep(min(0.2, 0.002 * (2**attempt)) * random.random())


def is_retryable(exc: DBAPIError | sqlite3.Error) -> bool:
    if isinstance(exc, sqlite3.Error):
        orig: Any = exc
    elif exc.connection_invalidated:
        return True
    else:
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


def _sqlite_engine(
    url: str, busy_timeout_ms: int, pool_size: int | None = None, max_overflow: int = 0
) -> Engine:
    """The reading engine (pooled), or with no ``pool_size`` the writers' engine (unpooled,
    and no BEGIN of its own: ``_Writers`` issues it)."""
    connect_args = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    if pool_size is None:
        engine = sa.create_engine(url, connect_args=connect_args, poolclass=NullPool)
    else:
        engine = sa.create_engine(
            url,
            connect_args=connect_args,
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

    if pool_size is None:
        return engine

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # Straight to the driver: this runs at the start of every transaction.
        conn.connection.dbapi_connection.execute(_BEGIN[mode])  # type: ignore[union-attr]

    return engine
