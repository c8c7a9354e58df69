"""Configurable code lists: stock statuses (each allocatable or not) and reason codes.

Both are small tables keyed by their code. A status decides whether stock in it can be
allocated; changing that takes effect for the next allocation (reservations already made stay).
A code, once used by the ledger, is never deleted or renamed, so neither is offered.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence import journal
from stockpilot.persistence.tables import reason_code, stock_status
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.sql import edit_versioned


def list_statuses(conn: Connection) -> list[dict[str, Any]]:
    stmt = sa.select(stock_status).order_by(stock_status.c.code)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def get_status(conn: Connection, code: str) -> dict[str, Any]:
    row = conn.execute(sa.select(stock_status).where(stock_status.c.code == code)).first()
    if row is None:
        raise NotFound(f"status {code!r} not found")
    return dict(row._mapping)


def create_status(
    conn: Connection, actor: Actor, code: str, *, description: str, allocatable: bool
) -> None:
    if conn.execute(sa.select(stock_status.c.code).where(stock_status.c.code == code)).first():
        raise Conflict(f"status {code!r} already exists", field="code")
    conn.execute(
        stock_status.insert().values(code=code, description=description, allocatable=allocatable)
    )
    journal.record(
        conn,
        actor,
        action="status.created",
        entity_type="status",
        entity_id=code,
        detail={"code": code, "allocatable": allocatable},
        topic="status.created",
    )


def update_status(
    conn: Connection,
    actor: Actor,
    code: str,
    expected_version: int | None,
    values: dict[str, Any],
) -> None:
    """Optimistic update: ``expected_version`` None means "whatever is current" (``*``)."""
    for name in ("description", "allocatable"):
        if name in values and values[name] is None:
            raise ValidationFailed(f"{name} cannot be null", field=name)
    edit_versioned(conn, stock_status, code, expected_version, values, what="status", key="code")
    journal.record(
        conn,
        actor,
        action="status.updated",
        entity_type="status",
        entity_id=code,
        detail=dict(values),
        topic="status.updated",
    )


def list_reason_codes(conn: Connection, kind: str | None = None) -> list[dict[str, Any]]:
    stmt = sa.select(reason_code).order_by(reason_code.c.code)
    if kind is not None:
        stmt = stmt.where(reason_code.c.kind == kind)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def create_reason_code(
    conn: Connection, actor: Actor, code: str, *, description: str, kind: str
) -> dict[str, Any]:
    if conn.execute(sa.select(reason_code.c.code).where(reason_code.c.code == code)).first():
        raise Conflict(f"reason code {code!r} already exists", field="code")
    row = {"code": code, "description": description, "kind": kind}
    conn.execute(reason_code.insert().values(**row))
    journal.record(
        conn,
        actor,
        action="reason_code.created",
        entity_type="reason_code",
        entity_id=code,
        detail=row,
        topic="reason_code.created",
    )
    return row
