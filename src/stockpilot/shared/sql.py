"""Small SQL helpers shared by the services."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignore(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, on either backend."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(table).on_conflict_do_nothing(), rows)


def bump_version(
    conn: Connection,
    table: sa.Table,
    row_id: object,
    expected_version: int,
    values: dict[str, Any],
    *,
    key: str = "id",
) -> bool:
    """Optimistic update for edited records: succeeds only if nobody changed the row since
    (the row whose ``key`` column is ``row_id``)."""
    result = conn.execute(
        sa.update(table)
        .where(table.c[key] == row_id, table.c.version == expected_version)
        .values(**values, version=table.c.version + 1)
    )
    return bool(result.rowcount == 1)


def insert_id(conn: Connection, stmt: sa.Insert) -> int:
    """Execute a single-row INSERT and return the new row's id."""
    return int(conn.execute(stmt.returning(sa.literal_column("id"))).scalar_one())
