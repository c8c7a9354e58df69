"""Webhook commands as they arrive from outside."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockpilot.webhooks.rules import TOPIC_PATTERN

MAX_TOPICS = 50


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(min_length=8, max_length=2000, description="http(s) URL the events go to")
    topics: list[str] = Field(
        min_length=1,
        max_length=MAX_TOPICS,
        description="event topics: exact (`stock.moved`), a prefix (`stock.*`) or `*`",
    )
    site: str | None = Field(
        default=None, min_length=1, max_length=40, description="only this site's events"
    )
    description: str | None = Field(default=None, max_length=200)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises on a port out of range)
            httpx.URL(value)
        except (ValueError, httpx.InvalidURL):
            raise ValueError("is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http:// or https:// URL")
        if any(ch.isspace() or ord(ch) < 32 for ch in value):
            raise ValueError("may not contain spaces or control characters")
        return value

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        for topic in value:
            if len(topic) > 80 or not TOPIC_PATTERN.match(topic):
                raise ValueError(
                    f"{topic!r} is not a topic (lower-case words joined by dots, "
                    "optionally ending in .*)"
                )
        return sorted(set(value))
