"""Wiring: the one place that turns settings into a database and a ready schema."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from stockpilot.catalog.service import seed_reference_data
from stockpilot.network.service import ensure_company
from stockpilot.persistence.db import Database
from stockpilot.persistence.migrate import upgrade
from stockpilot.settings import Settings, get_settings


def open_database(settings: Settings | None = None, url: str | None = None) -> Database:
    settings = settings or get_settings()
    return Database(
        url or settings.resolved_database_url(),
        retry_attempts=settings.db_retry_attempts,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )


def initialise(db: Database) -> None:
    """Apply migrations and seed reference data (statuses, reason codes, default owner)."""
    upgrade(db)

    def seed(conn: Connection) -> None:
        seed_reference_data(conn)
        ensure_company(conn)

    db.run(seed)
