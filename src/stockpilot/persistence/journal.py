"""Audit rows and outbox events, written in the caller's transaction (DESIGN §4 rule 1 and 4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from stockpilot.persistence.tables import audit_log, outbox
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow


def record(
    conn: Connection,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    site_id: int | None = None,
    detail: dict[str, Any] | None = None,
    reason: str | None = None,
    topic: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Write the audit row and (when ``topic`` is given) the outbox event of one operation."""
    now = utcnow()
    conn.execute(
        audit_log.insert(),
        {
            "at": now,
            "user_id": actor.user_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": None if entity_id is None else str(entity_id),
            "site_id": site_id,
            "reason": reason,
            "origin": actor.origin,
            "detail": detail,
        },
    )
    if topic is not None:
        conn.execute(
            outbox.insert(),
            {
                "created_at": now,
                "topic": topic,
                "aggregate_type": entity_type,
                "aggregate_id": None if entity_id is None else str(entity_id),
                "payload": payload if payload is not None else (detail or {}),
            },
        )
