"""The migrations build exactly the schema the code declares (persistence/tables.py and
planning_tables.py): Alembic's comparison of the migrated database with the metadata finds
nothing to add, drop or alter, on each backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import stockpilot.persistence.planning_tables  # noqa: F401  (registers the planning tables)
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import metadata


def test_the_migrated_schema_matches_the_declared_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []
