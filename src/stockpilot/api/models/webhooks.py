"""Response bodies of the webhook routes (api/routers/webhooks.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out


class Webhook(Out):
    """A subscription: the events of its topics (and site) are posted to its URL, signed."""

    id: int
    url: str
    topics: list[str]
    site: str | None = Field(description="only this site's events; null for every site")
    description: str | None
    active: bool
    created_at: datetime


class NewWebhook(Webhook):
    """A subscription just created, with the secret its deliveries are signed with."""

    secret: str = Field(
        description="the Standard Webhooks signing secret (`whsec_` + base64): keep it"
    )


class WebhookDelivery(Out):
    """One event on its way to one subscription."""

    id: int
    webhook: int
    event_id: str = Field(description="the `webhook-id` header: the same on every attempt")
    topic: str
    aggregate: str = Field(description="events of one aggregate are delivered in order")
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookAttempt(Out):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookDeliveryDetail(WebhookDelivery):
    """A delivery with every attempt made of it."""

    attempt_log: list[WebhookAttempt]
