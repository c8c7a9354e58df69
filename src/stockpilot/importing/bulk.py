"""Bulk SQL for imports: a constant number of statements per chunk, whatever the file size.

Rows are written in sorted key order, so two imports touching the same keys on PostgreSQL
take their row locks in the same order and queue behind each other instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from stockpilot.persistence.db import Database, is_unique_violation

CHUNK = 5000
T = TypeVar("T")


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Iterable[str],
    *,
    bump_version: bool = False,
) -> None:
    """INSERT each row, or UPDATE the ``update`` columns of the row with the same ``keys``."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    set_: dict[str, Any] = {c: stmt.excluded[c] for c in update}
    if bump_version:
        set_["version"] = table.c.version + 1
    stmt = (
        stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)
        if set_
        else stmt.on_conflict_do_nothing(index_elements=list(keys))
    )
    ordered = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
    for start in range(0, len(ordered), CHUNK):
        conn.execute(stmt, ordered[start : start + CHUNK])


def ids_by(
    conn: Connection, column: sa.Column[Any], values: Iterable[Any], *extra: sa.Column[Any]
) -> dict[Any, Any]:
    """``value -> id`` (or ``value -> row`` when ``extra`` columns are asked for), in chunks."""
    table = column.table
    wanted = sorted(set(values))
    found: dict[Any, Any] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        stmt = sa.select(column, table.c.id, *extra).where(column.in_(part))
        for row in conn.execute(stmt):
            found[row[0]] = row if extra else int(row[1])
    return found


def run_import(db: Database, work: Callable[[Connection], T], attempts: int = 4) -> T:
    """``db.run`` plus a few retries on unique violations: a concurrent import that created the
    same site or zone first makes our attempt fail; the next attempt simply finds it."""
    for attempt in range(1, attempts + 1):
        try:
            return db.run(work)
        except DBAPIError as exc:
            if not is_unique_violation(exc) or attempt == attempts:
                raise
    raise AssertionError("unreachable")
