"""Audit rows and outbox events, written in the caller's transaction (DESIGN §4 rule 1 and 4).

Every accepted write calls ``record`` once, so it runs on the driver cursor (persistence.raw)
like the rest of the posting hot path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from stockpilot.persistence import raw
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow

_AUDIT = raw.Sql(
    "INSERT INTO audit_log (at, user_id, action, entity_type, entity_id, site_id, reason, "
    "origin, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO audit_log (at, user_id, action, entity_type, entity_id, site_id, reason, "
    "origin, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, CAST(%s AS json))",
)
_OUTBOX = raw.Sql(
    "INSERT INTO outbox (created_at, topic, aggregate_type, aggregate_id, site_id, payload) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "INSERT INTO outbox (created_at, topic, aggregate_type, aggregate_id, site_id, payload) "
    "VALUES (%s, %s, %s, %s, %s, CAST(%s AS json))",
)


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
    now = raw.timestamp(conn, utcnow())
    entity = None if entity_id is None else str(entity_id)
    detail_json = raw.json_value(detail)
    raw.execute(
        conn,
        _AUDIT,
        (
            now,
            actor.user_id,
            action,
            entity_type,
            entity,
            site_id,
            reason,
            actor.origin,
            detail_json,
        ),
    )
    if topic is not None:
        if payload is not None:
            body = raw.json_value(payload)
        else:  # the event carries the audit detail: encoded once
            body = detail_json if detail is not None else "{}"
        raw.execute(conn, _OUTBOX, (now, topic, entity_type, entity, site_id, body))


def publish(
    conn: Connection,
    *,
    topic: str,
    aggregate_type: str,
    aggregate_id: object,
    site_id: int | None,
    payload: dict[str, Any],
) -> None:
    """Write one outbox event without an audit row (the operation that causes it is audited
    by its own service), in the caller's transaction."""
    now = raw.timestamp(conn, utcnow())
    entity = None if aggregate_id is None else str(aggregate_id)
    raw.execute(
        conn, _OUTBOX, (now, topic, aggregate_type, entity, site_id, raw.json_value(payload))
    )
