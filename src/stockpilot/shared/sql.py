"""Small SQL helpers shared by the services."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import NotFound, PreconditionFailed, ValidationFailed


def insert_ignore(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, on either backend."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(table).on_conflict_do_nothing(), rows)


def edit_versioned(
    conn: Connection,
    table: sa.Table,
    row_id: object,
    expected_version: int | None,
    values: dict[str, Any],
    *,
    what: str,
    key: str = "id",
) -> None:
    """Optimistic edit of an ETag'd record (the row whose ``key`` column is ``row_id``): it
    applies only if the row is still at ``expected_version`` (None: whatever is current, as
    for ``If-Match: *``), and bumps the version. Refusals name what went wrong: nothing to
    change (422), no such record (404), changed by someone else since (412)."""
    if not values:
        raise ValidationFailed("nothing to change", field="body")
    column = table.c[key]
    if expected_version is None:
        expected_version = conn.execute(sa.select(table.c.version).where(column == row_id)).scalar()
        if expected_version is None:
            raise NotFound(f"{what} {row_id!r} not found")
    result = conn.execute(
        sa.update(table)
        .where(column == row_id, table.c.version == expected_version)
        .values(**values, version=table.c.version + 1)
    )
    if result.rowcount != 1:
        if conn.execute(sa.select(column).where(column == row_id)).scalar() is None:
            raise NotFound(f"{what} {row_id!r} not found")
        raise PreconditionFailed(f"the {what} was changed by someone else", field="If-Match")


def insert_id(conn: Connection, stmt: sa.Insert) -> int:
    """Execute a single-row INSERT and return the new row's id."""
    return int(conn.execute(stmt.returning(sa.literal_column("id"))).scalar_one())


def scoped_page(
    stmt: sa.Select[Any],
    table: sa.Table,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    **equal: Any,
) -> sa.Select[Any]:
    """One keyset page of a site-scoped document table (``id > :after ORDER BY id LIMIT :n``):
    only rows of the caller's sites, and of each ``column=value`` given (None: no filter)."""
    stmt = stmt.order_by(table.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(table.c.id > after_id)
    if not actor.all_sites:
        stmt = stmt.where(table.c.site_id.in_(sorted(actor.site_ids)))
    for name, value in equal.items():
        if value is not None:
            stmt = stmt.where(table.c[name] == value)
    return stmt
