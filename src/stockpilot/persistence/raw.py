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
