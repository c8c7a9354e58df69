"""Bulk loads into PostgreSQL: checks done once per table instead of once per row.

Appending millions of rows (the demo's two years of demand) costs the server a foreign-key
check and an index insertion per row. ``deferred_checks`` drops the foreign keys and secondary
indexes of the tables being loaded, and re-creates them at the end of the same transaction:
each key is then validated by one join over the whole table and each index built in one sort.
Nothing lands unchecked — a row that breaks a key makes the re-created constraint fail and the
whole transaction roll back. DDL takes an exclusive lock on those tables until commit, so this
is for loads that own them (the demo into an empty database), not for everyday imports.
SQLite checks are cheap per row, so there it does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex


@contextmanager
def deferred_checks(conn: Connection, tables: Sequence[sa.Table]) -> Iterator[None]:
    if conn.dialect.name != "postgresql":
        yield
        return
    keys = [fk for table in tables for fk in table.foreign_key_constraints]
    indexes = [index for table in tables for index in table.indexes]
    for fk in keys:
        conn.execute(DropConstraint(fk))
    for index in indexes:
        conn.execute(DropIndex(index))
    yield
    for index in indexes:
        conn.execute(CreateIndex(index))
    for fk in keys:
        conn.execute(AddConstraint(fk))
