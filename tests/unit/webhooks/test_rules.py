"""Webhook rules, pure: topics, recipients, the retry schedule and the signature."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from stockpilot.webhooks import rules


def test_a_topic_matches_itself_its_prefix_pattern_and_the_wildcard() -> None:
    assert rules.topic_matches("stock.moved", ["stock.moved"])
    assert rules.topic_matches("stock.moved", ["stock.*"])
    assert rules.topic_matches("stock.moved", ["*"])
    assert not rules.topic_matches("stock.moved", ["stock.move"])
    assert not rules.topic_matches("stocktake.done", ["stock.*"])
    assert not rules.topic_matches("stock.moved", [])


def test_an_event_reaches_subscribers_of_its_topic_its_site_and_created_before_it() -> None:
    subscribers = [
        rules.Subscriber(1, ("stock.moved",), None, 0),
        rules.Subscriber(2, ("stock.moved",), 7, 0),  # another site
        rules.Subscriber(3, ("stock.moved",), 5, 0),  # this site
        rules.Subscriber(4, ("item.*",), None, 0),  # another topic
        rules.Subscriber(5, ("*",), None, 10),  # created after the event
    ]
    event = rules.Event(10, "stock.moved", "site:5", 5)
    assert rules.recipients(event, subscribers) == [1, 3]


def test_a_failed_attempt_is_retried_on_the_schedule_then_fails() -> None:
    now = datetime(2026, 12, 1, 12, 0)
    assert rules.after_attempt(True, 3, now) == rules.Outcome("delivered", None)
    retry = rules.after_attempt(False, 0, now)
    assert retry == rules.Outcome("pending", now + timedelta(seconds=5))
    assert rules.after_attempt(False, 1, now).next_attempt_at == now + timedelta(minutes=5)
    last = len(rules.RETRY_DELAYS)
    assert rules.after_attempt(False, last - 1, now).state == "pending"
    assert rules.after_attempt(False, last, now) == rules.Outcome("failed", None)
    assert rules.MAX_ATTEMPTS == 8


def test_the_signed_headers_verify_with_the_standard_webhooks_library() -> None:
    secret = rules.new_secret()
    assert secret.startswith("whsec_")
    body = rules.message_body(
        42, "stock.moved", datetime(2026, 12, 1, 12, 0), "site:1", 1, {"moves": []}
    )
    headers = rules.signed_headers(secret, rules.message_id(42), body, datetime.now(UTC))
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    assert json.loads(body)["type"] == "stock.moved"
    assert json.loads(body)["timestamp"] == "2026-12-01T12:00:00Z"
    assert headers["webhook-id"] == "evt_42"
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("moves", "mOves"), headers)
