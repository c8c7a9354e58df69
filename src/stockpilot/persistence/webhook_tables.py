"""Tables of webhook delivery: subscriptions, one delivery per (subscription, outbox event) and
the log of every attempt.

A delivery is claimed by a worker with a lease written in the database (``lease_owner``,
``lease_until``), never only in memory: a worker killed mid-batch leaves leases that expire,
and the deliveries are claimed again (at-least-once).
"""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.tables import Id, metadata

DELIVERY_STATES = ("pending", "delivered", "failed")

webhook_subscription = sa.Table(
    "webhook_subscription",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("topics", sa.JSON, nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=True),
    sa.Column("description", sa.String(200), nullable=True),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # Events after this outbox id reach the subscription (those written before it existed do not).
    sa.Column("from_outbox_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("deleted_at", sa.DateTime, nullable=True),
)

webhook_delivery = sa.Table(
    "webhook_delivery",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", Id, sa.ForeignKey("webhook_subscription.id"), nullable=False),
    sa.Column("outbox_id", Id, sa.ForeignKey("outbox.id"), nullable=False),
    sa.Column("topic", sa.String(80), nullable=False),
    # aggregate_type:aggregate_id of the event: deliveries of one aggregate go out in order.
    sa.Column("aggregate", sa.String(130), nullable=False),
    sa.Column("state", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("lease_owner", sa.String(80), nullable=True),
    sa.Column("lease_until", sa.DateTime, nullable=True),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("delivered_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("subscription_id", "outbox_id", name="uq_webhook_delivery_event"),
    sa.CheckConstraint("state IN ('pending','delivered','failed')", name="state"),
    sa.Index("ix_webhook_delivery_state_outbox", "state", "outbox_id"),
    sa.Index("ix_webhook_delivery_aggregate", "subscription_id", "aggregate", "outbox_id"),
)

webhook_attempt = sa.Table(
    "webhook_attempt",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", Id, sa.ForeignKey("webhook_delivery.id"), nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(80), nullable=True),
)
