"""The hot path's own SQL, run on the driver cursor of the caller's connection.

Posting is the one place where SQLAlchemy's per-statement work (compiling, dict parameters,
type processors — about 20 µs a statement) shows against the commit itself, so its few fixed
statements are written here once, in SQLite's ``?`` style, and translated for psycopg's
``%s``. They run inside the same transaction as everything else on the connection: the
driver connection is the one SQLAlchemy began the transaction on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection


class Sql:
    """One statement in both dialects."""

    __slots__ = ("postgresql", "sqlite")

    def __init__(self, sqlite: str, postgresql: str | None = None) -> None:
        self.sqlite = sqlite
        self.postgresql = postgresql if postgresql is not None else sqlite.replace("?", "%s")

    def text(self, conn: Connection) -> str:
        return self.postgresql if conn.dialect.name == "postgresql" else self.sqlite


# Callbacks ``(sql, parameters, many)`` told of every statement run here — what SQLAlchemy's
# ``before_cursor_execute`` event is for the rest (statement-count tests use both).
observers: list[Callable[[str, Any, bool], None]] = []


def _notify(sql: str, params: Any, many: bool) -> None:
    for observer in observers:
        observer(sql, params, many)


def _cursor(conn: Connection) -> Any:
    """The driver cursor kept for this driver connection (one per connection, made once)."""
    fairy = conn.connection
    driver = fairy.dbapi_connection
    kept = fairy.info.get("stockpilot.cursor")
    if kept is None or kept[0] is not driver:
        kept = (driver, driver.cursor())  # type: ignore[union-attr]
        fairy.info["stockpilot.cursor"] = kept
    return kept[1]


def execute(conn: Connection, sql: Sql, params: Sequence[Any] = ()) -> int:
    """Run one statement; returns the driver's row count."""
    text = sql.text(conn)
    if observers:
        _notify(text, params, False)
    cur = _cursor(conn)
    cur.execute(text, params)
    return int(cur.rowcount)


def execute_many(conn: Connection, sql: Sql, rows: Iterable[Sequence[Any]]) -> int:
    """Run one statement for every row (one ``executemany``); returns the summed row count."""
    text = sql.text(conn)
    if observers:
        rows = list(rows)
        _notify(text, rows, True)
    cur = _cursor(conn)
    cur.executemany(text, rows)
    return int(cur.rowcount)


def fetch_all(conn: Connection, sql: Sql, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    text = sql.text(conn)
    if observers:
        _notify(text, params, False)
    cur = _cursor(conn)
    cur.execute(text, params)
    return list(cur.fetchall())


# Values as each driver stores them in the columns SQLAlchemy reads back (SQLite keeps
# timestamps as ISO text and has no exact decimal type).


def timestamp(conn: Connection, value: datetime) -> Any:
    if conn.dialect.name == "postgresql":
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # SQLAlchemy's SQLite storage format, "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC).
    return value.isoformat(" ", "microseconds")


def money_converter(conn: Connection) -> Callable[[Decimal | None], Any]:
    """``money`` for many values of one connection (the dialect test done once)."""
    if conn.dialect.name == "postgresql":
        return _same
    return _text_or_none


def _same(value: Decimal | None) -> Any:
    return value


def _text_or_none(value: Decimal | None) -> Any:
    return None if value is None else str(value)


_JSON = json.JSONEncoder(separators=(",", ":"), default=str)


def json_value(value: Any) -> str | None:
    return None if value is None else _JSON.encode(value)


# --- many rows into one table --------------------------------------------------------------


def _insert_sql(table: str, columns: tuple[tuple[str, str], ...]) -> Sql:
    names = ", ".join(name for name, _ in columns)
    marks = ", ".join("?" for _ in columns)
    arrays = ", ".join(f"%s::{pg_type}[]" for _, pg_type in columns)
    return Sql(
        f"INSERT INTO {table} ({names}) VALUES ({marks})",
        f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",
    )


_INSERTS: dict[tuple[str, tuple[tuple[str, str], ...]], Sql] = {}


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order; each column named with its PostgreSQL
    type) in one statement: SQLite runs one ``executemany`` (in-process, cheap); PostgreSQL
    one ``INSERT … SELECT * FROM unnest(…)`` of one array per column — an ``executemany``
    there is still a statement per row on the server."""
    if not rows:
        return
    key = (table, tuple(columns))
    sql = _INSERTS.get(key)
    if sql is None:
        sql = _INSERTS[key] = _insert_sql(*key)
    if conn.dialect.name == "postgresql":
        execute(conn, sql, [list(column) for column in zip(*rows, strict=True)])
    else:
        execute_many(conn, sql, rows)


def reserve_ids(conn: Connection, table: str, count: int) -> list[int]:
    """``count`` new ids of ``table``'s ``id`` column, ascending, for rows the caller inserts
    with their ids given (one statement, where a ``RETURNING`` would come back row by row).

    PostgreSQL draws them from the column's sequence. SQLite continues from the largest id:
    its write transactions begin IMMEDIATE, so no other writer can take the same ids before
    this transaction commits (the table's ids are rowids without AUTOINCREMENT, which is what
    SQLite itself would hand out)."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = fetch_all(
            conn,
            Sql("", "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"),
            (table, count),
        )
        return sorted(int(r[0]) for r in rows)
    top = fetch_all(conn, Sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))[0][0]
    return list(range(int(top) + 1, int(top) + 1 + count))
