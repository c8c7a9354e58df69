"""Bulk loads with deferred checks: keys and indexes come back exactly as the migrations made
them, and a row that breaks a key still sinks the whole load."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import stockpilot.persistence.planning_tables  # noqa: F401  (registers the planning tables)
from stockpilot.persistence.bulk import deferred_checks
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import demand_history, item, metadata, receipt_history, site
from tests.support.world import build_world


def _ids(db: Database) -> tuple[int, int]:
    with db.read() as conn:
        item_id = conn.execute(sa.select(item.c.id).where(item.c.sku == "SKU-1")).scalar_one()
        site_id = conn.execute(sa.select(site.c.id).where(site.c.code == "WH1")).scalar_one()
    return int(item_id), int(site_id)


def _rows(item_id: int, site_id: int, n: int) -> list[dict[str, object]]:
    return [
        {"item_id": item_id, "site_id": site_id, "requested_date": date(2026, 1, 1), "quantity": q}
        for q in range(1, n + 1)
    ]


def test_a_load_with_deferred_checks_leaves_the_schema_as_migrated(db: Database) -> None:
    build_world(db)
    item_id, site_id = _ids(db)

    def load(conn: sa.Connection) -> None:
        with deferred_checks(conn, [demand_history, receipt_history]):
            conn.execute(demand_history.insert(), _rows(item_id, site_id, 50))

    db.run(load)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        count = conn.execute(sa.select(sa.func.count()).select_from(demand_history)).scalar_one()
    assert count == 50


def test_a_row_that_breaks_a_key_sinks_the_whole_load(db: Database) -> None:
    build_world(db)
    item_id, site_id = _ids(db)

    def load(conn: sa.Connection) -> None:
        with deferred_checks(conn, [demand_history]):
            conn.execute(demand_history.insert(), _rows(item_id, site_id, 5))
            conn.execute(demand_history.insert(), _rows(item_id + 10_000, site_id, 1))

    with pytest.raises(sa.exc.IntegrityError):
        db.run(load)
    with db.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(demand_history)).scalar_one()
    assert count == 0
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
