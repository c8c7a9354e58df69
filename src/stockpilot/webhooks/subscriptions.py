"""Webhook subscriptions and their delivery log: create, read, delete, redeliver.

A subscription belongs to the whole company or to one site (it then hears only that site's
events); a user bound to sites may only create and see subscriptions of their sites.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.network.service import site_in_scope
from stockpilot.persistence import journal
from stockpilot.persistence.tables import outbox, site
from stockpilot.persistence.webhook_tables import (
    DELIVERY_STATES,
    webhook_attempt,
    webhook_delivery,
    webhook_subscription,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.fields import iso_utc
from stockpilot.webhooks import rules
from stockpilot.webhooks.schemas import WebhookCreate

_S = webhook_subscription
_D = webhook_delivery


def create_subscription(conn: Connection, actor: Actor, cmd: WebhookCreate) -> dict[str, Any]:
    """A new subscription with its signing secret (the only answer that shows the secret)."""
    site_id = None
    if cmd.site is not None:
        site_id = site_in_scope(conn, actor, cmd.site).id
    elif not actor.all_sites:
        raise ValidationFailed("a user bound to sites subscribes to one of them", field="site")
    now = utcnow()
    last_event = conn.execute(sa.select(sa.func.max(outbox.c.id))).scalar()
    secret = rules.new_secret()
    new_id = conn.execute(
        _S.insert()
        .values(
            url=cmd.url,
            topics=cmd.topics,
            site_id=site_id,
            description=cmd.description,
            secret=secret,
            active=True,
            from_outbox_id=int(last_event or 0),
            created_at=now,
            created_by=actor.user_id,
        )
        .returning(_S.c.id)
    ).scalar_one()
    journal.record(
        conn,
        actor,
        action="webhook.created",
        entity_type="webhook",
        entity_id=new_id,
        site_id=site_id,
        detail={"url": cmd.url, "topics": cmd.topics},
    )
    return {**get_subscription(conn, actor, int(new_id)), "secret": secret}


def _visible(actor: Actor) -> Any:
    if actor.all_sites:
        return sa.true()
    return _S.c.site_id.in_(sorted(actor.site_ids))


def _subscription_select() -> sa.Select[Any]:
    return sa.select(
        _S.c.id,
        _S.c.url,
        _S.c.topics,
        site.c.code.label("site"),
        _S.c.description,
        _S.c.active,
        _S.c.created_at,
    ).select_from(_S.outerjoin(site, site.c.id == _S.c.site_id))


def _render(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "url": row.url,
        "topics": list(row.topics),
        "site": row.site,
        "description": row.description,
        "active": bool(row.active),
        "created_at": iso_utc(row.created_at),
    }


def get_subscription(conn: Connection, actor: Actor, subscription_id: int) -> dict[str, Any]:
    row = conn.execute(
        _subscription_select().where(
            _S.c.id == subscription_id, _S.c.deleted_at.is_(None), _visible(actor)
        )
    ).first()
    if row is None:
        raise NotFound(f"webhook {subscription_id} not found")
    return _render(row)


def list_subscriptions(
    conn: Connection, actor: Actor, after_id: int | None, fetch: int
) -> list[dict[str, Any]]:
    query = _subscription_select().where(_S.c.deleted_at.is_(None), _visible(actor))
    if after_id is not None:
        query = query.where(_S.c.id > after_id)
    return [_render(r) for r in conn.execute(query.order_by(_S.c.id).limit(fetch))]


def delete_subscription(conn: Connection, actor: Actor, subscription_id: int) -> None:
    """Stop a subscription: nothing more is sent to it (its pending deliveries fail); its
    delivery log is kept."""
    get_subscription(conn, actor, subscription_id)
    now = utcnow()
    done = conn.execute(
        sa.update(_S)
        .where(_S.c.id == subscription_id, _S.c.deleted_at.is_(None))
        .values(active=False, deleted_at=now)
    ).rowcount
    if done != 1:
        raise NotFound(f"webhook {subscription_id} not found")
    conn.execute(
        sa.update(_D)
        .where(_D.c.subscription_id == subscription_id, _D.c.state == "pending")
        .values(state="failed", last_error="subscription deleted", lease_until=None)
    )
    journal.record(
        conn, actor, action="webhook.deleted", entity_type="webhook", entity_id=subscription_id
    )


def _delivery_select() -> sa.Select[Any]:
    return sa.select(
        _D.c.id,
        _D.c.subscription_id,
        _D.c.outbox_id,
        _D.c.topic,
        _D.c.aggregate,
        _D.c.state,
        _D.c.attempts,
        _D.c.next_attempt_at,
        _D.c.last_status_code,
        _D.c.last_error,
        _D.c.created_at,
        _D.c.delivered_at,
    )


def _render_delivery(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "webhook": int(row.subscription_id),
        "event_id": rules.message_id(int(row.outbox_id)),
        "topic": row.topic,
        "aggregate": row.aggregate,
        "state": row.state,
        "attempts": int(row.attempts),
        "next_attempt_at": iso_utc(row.next_attempt_at) if row.state == "pending" else None,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": iso_utc(row.created_at),
        "delivered_at": iso_utc(row.delivered_at),
    }


def list_deliveries(
    conn: Connection,
    actor: Actor,
    subscription_id: int,
    after_id: int | None,
    fetch: int,
    state: str | None = None,
) -> list[dict[str, Any]]:
    get_subscription(conn, actor, subscription_id)
    if state is not None and state not in DELIVERY_STATES:
        raise ValidationFailed(f"state must be one of {', '.join(DELIVERY_STATES)}", field="state")
    query = _delivery_select().where(_D.c.subscription_id == subscription_id)
    if state is not None:
        query = query.where(_D.c.state == state)
    if after_id is not None:
        query = query.where(_D.c.id > after_id)
    return [_render_delivery(r) for r in conn.execute(query.order_by(_D.c.id).limit(fetch))]


def get_delivery(
    conn: Connection, actor: Actor, subscription_id: int, delivery_id: int
) -> dict[str, Any]:
    """One delivery with every attempt made of it."""
    get_subscription(conn, actor, subscription_id)
    row = conn.execute(
        _delivery_select().where(_D.c.id == delivery_id, _D.c.subscription_id == subscription_id)
    ).first()
    if row is None:
        raise NotFound(f"delivery {delivery_id} of webhook {subscription_id} not found")
    attempts = conn.execute(
        sa.select(
            webhook_attempt.c.attempt,
            webhook_attempt.c.at,
            webhook_attempt.c.status_code,
            webhook_attempt.c.error,
            webhook_attempt.c.duration_ms,
        )
        .where(webhook_attempt.c.delivery_id == delivery_id)
        .order_by(webhook_attempt.c.id)
    ).all()
    return {
        **_render_delivery(row),
        "attempt_log": [
            {
                "attempt": int(a.attempt),
                "at": iso_utc(a.at),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": int(a.duration_ms),
            }
            for a in attempts
        ],
    }


def redeliver(
    conn: Connection, actor: Actor, subscription_id: int, delivery_id: int
) -> dict[str, Any]:
    """Queue a delivery again (delivered or failed), with a fresh retry budget; the worker
    sends it on its next cycle, after any earlier pending event of its aggregate."""
    get_delivery(conn, actor, subscription_id, delivery_id)
    now = utcnow()
    done = conn.execute(
        sa.update(_D)
        .where(
            _D.c.id == delivery_id,
            _D.c.subscription_id == subscription_id,
            _D.c.state != "pending",
        )
        .values(state="pending", retries=0, next_attempt_at=now, lease_owner=None, lease_until=None)
    ).rowcount
    if done != 1:
        raise Conflict(f"delivery {delivery_id} is already pending")
    active = conn.execute(sa.select(_S.c.active).where(_S.c.id == subscription_id)).scalar()
    if not active:
        raise Conflict(f"webhook {subscription_id} is not active")
    journal.record(
        conn,
        actor,
        action="webhook.redelivered",
        entity_type="webhook_delivery",
        entity_id=delivery_id,
    )
    return get_delivery(conn, actor, subscription_id, delivery_id)
