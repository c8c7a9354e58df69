"""Webhook decisions as pure functions: which subscriptions an event reaches, when a failed
delivery is tried again, the message a subscriber receives and its Standard Webhooks headers.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24

# After the first attempt fails: the Standard Webhooks retry schedule (then the delivery fails).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

TOPIC_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?)$", re.ASCII)


def new_secret() -> str:
    """A fresh signing secret, ``whsec_`` and base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def topic_matches(topic: str, patterns: Iterable[str]) -> bool:
    """``stock.moved`` matches ``stock.moved``, ``stock.*`` and ``*``."""
    for pattern in patterns:
        if pattern == "*" or pattern == topic:
            return True
        if pattern.endswith(".*") and topic.startswith(pattern[:-1]):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Subscriber:
    """What fan-out needs of a subscription."""

    id: int
    topics: tuple[str, ...]
    site_id: int | None
    from_outbox_id: int


@dataclass(frozen=True, slots=True)
class Event:
    """One outbox row as fan-out sees it."""

    id: int
    topic: str
    aggregate: str
    site_id: int | None


def recipients(event: Event, subscribers: Sequence[Subscriber]) -> list[int]:
    """The subscriptions ``event`` goes to: topic matched, site matched when the subscription
    is bound to one, and written after the subscription was created."""
    return [
        s.id
        for s in subscribers
        if event.id > s.from_outbox_id
        and (s.site_id is None or s.site_id == event.site_id)
        and topic_matches(event.topic, s.topics)
    ]


def aggregate_key(aggregate_type: str, aggregate_id: str | None) -> str:
    return f"{aggregate_type}:{aggregate_id or ''}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happens to a delivery after one attempt."""

    state: str  # pending (retry later), delivered or failed (no retries left)
    next_attempt_at: datetime | None


def after_attempt(ok: bool, retries: int, now: datetime) -> Outcome:
    """``retries`` counts the failed attempts before this one since the delivery was queued."""
    if ok:
        return Outcome("delivered", None)
    if retries >= len(RETRY_DELAYS):
        return Outcome("failed", None)
    return Outcome("pending", now + RETRY_DELAYS[retries])


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


def message_id(outbox_id: int) -> str:
    """The ``webhook-id`` of an event: the same on every attempt and for every subscriber,
    so a receiver can drop duplicates."""
    return f"evt_{outbox_id}"


def message_body(
    outbox_id: int,
    topic: str,
    created_at: datetime,
    aggregate: str,
    site_id: int | None,
    data: Any,
) -> str:
    """The JSON body: the Standard Webhooks envelope (``type``, ``timestamp``, ``data``)."""
    return json.dumps(
        {
            "id": message_id(outbox_id),
            "type": topic,
            "timestamp": _iso(created_at),
            "aggregate": aggregate,
            "site_id": site_id,
            "data": data,
        },
        separators=(",", ":"),
        default=str,
    )


def signed_headers(secret: str, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt (signed when it is sent)."""
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
