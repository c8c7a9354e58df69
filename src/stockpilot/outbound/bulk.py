"""Set-wise statements of the outbound hot paths (a wave or a pick list touches thousands of
rows): one statement for many ids or many rows, on the driver, in each backend's best form.

- ``update_ids``: ``… WHERE … id IN ({ids})`` — SQLite binds each id; PostgreSQL binds one
  array (``= ANY(%s)``), so the statement does not grow with the list.
- ``update_rows``: per-row values — SQLite runs an ``executemany`` (cheap in-process);
  PostgreSQL joins one ``unnest`` of arrays, one round trip instead of one per row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from stockpilot.persistence import raw


def _postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def update_ids(conn: Connection, sql: str, head: Sequence[object], ids: Sequence[int]) -> int:
    """Run ``sql`` (``?`` placeholders, its id list written ``IN ({ids})``) for ``ids``;
    returns the row count."""
    if _postgresql(conn):
        return raw.execute(conn, raw.Sql(sql.replace("IN ({ids})", "= ANY(?)")), (*head, list(ids)))
    marks = ", ".join("?" * len(ids))
    return raw.execute(conn, raw.Sql(sql.format(ids=marks)), (*head, *ids))


def update_rows(
    conn: Connection, sqlite: raw.Sql, postgresql: str, rows: Sequence[Sequence[object]]
) -> int:
    """Apply one update per row: ``sqlite`` is run once per row; ``postgresql`` receives one
    array per column (``%s`` each, in row order) to ``unnest``."""
    if not rows:
        return 0
    if _postgresql(conn):
        columns = [list(col) for col in zip(*rows, strict=True)]
        return raw.execute(conn, raw.Sql(postgresql, postgresql), columns)
    return raw.execute_many(conn, sqlite, rows)
