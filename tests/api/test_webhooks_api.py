"""The webhook routes through the app: subscribe, list, read, delete, the delivery log and
redelivery; the acceptance contract (a move reaches the URL signed, within a few seconds)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from stockpilot.webhooks.delivery import DeliveryWorker, WorkerOptions
from tests.api.conftest import assert_problem, auth, make_user
from tests.support.receiver import Receiver

API = "/api/v1"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver.running() as r:
        yield r


@pytest.fixture
def worker(stocked: Database) -> Iterator[None]:
    """A delivery worker running beside the app, as ``make run`` starts one."""
    stop = threading.Event()
    delivery = DeliveryWorker(stocked, WorkerOptions(poll_interval=0.05, timeout_seconds=2))
    thread = threading.Thread(target=delivery.run, args=(stop,))
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)
    delivery.close()


def test_a_move_reaches_a_subscribed_url_signed_within_a_few_seconds(
    stocked: Database, client: TestClient, receiver: Receiver, worker: None
) -> None:
    h = auth(make_user(stocked, "admin"))
    created = client.post(
        f"{API}/webhooks", json={"url": receiver.url, "topics": ["stock.moved"]}, headers=h
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    moved = client.post(
        f"{API}/moves",
        json={"site": "WH1", "lines": [{"sku": "SKU-1", "quantity": 3, "location": "A-01",
                                         "to_location": "A-02"}]},
        headers=h,
    )  # fmt: skip
    assert moved.status_code == 201, moved.text
    deadline = time.monotonic() + 5
    while not receiver.snapshot() and time.monotonic() < deadline:
        time.sleep(0.05)
    (got,) = receiver.snapshot()
    assert got.verifies(secret)
    assert got.message["type"] == "stock.moved"
    assert got.message["data"]["document_type"] == "move"
    assert got.message["data"]["moves"][0]["quantity"] == 3
    hook_id = created.json()["id"]
    log = client.get(f"{API}/webhooks/{hook_id}/deliveries", headers=h).json()["items"]
    assert [(d["state"], d["attempts"]) for d in log] == [("delivered", 1)]
    detail = client.get(f"{API}/webhooks/{hook_id}/deliveries/{log[0]['id']}", headers=h).json()
    assert detail["attempt_log"][0]["status_code"] == 204
    again = client.post(f"{API}/webhooks/{hook_id}/deliveries/{log[0]['id']}/redeliver", headers=h)
    assert again.status_code == 200 and again.json()["state"] == "pending"
    deadline = time.monotonic() + 5
    while len(receiver.snapshot()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.headers["webhook-id"] for r in receiver.snapshot()] == [log[0]["event_id"]] * 2


def test_subscriptions_are_listed_read_and_deleted(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "integration"))
    body = {"url": "https://erp.example.com/hooks", "topics": ["stock.*", "sales_order.shipped"]}
    created = client.post(f"{API}/webhooks", json=body, headers=h).json()
    assert created["topics"] == ["sales_order.shipped", "stock.*"]
    listed = client.get(f"{API}/webhooks", headers=h).json()["items"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0]
    shown = client.get(f"{API}/webhooks/{created['id']}", headers=h).json()
    assert shown["url"] == body["url"] and shown["site"] is None
    deleted = client.delete(f"{API}/webhooks/{created['id']}", headers=h)
    assert deleted.status_code == 200 and deleted.json()["active"] is False
    assert_problem(client.get(f"{API}/webhooks/{created['id']}", headers=h), 404)
    assert client.get(f"{API}/webhooks", headers=h).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x.example.com/h", "topics": ["stock.moved"]}, "url"),
        ({"url": "http://x.example.com:99999/h", "topics": ["stock.moved"]}, "url"),
        ({"url": "http://127.0.0.1:9/h", "topics": []}, "topics"),
        ({"url": "http://127.0.0.1:9/h", "topics": ["Stock Moved"]}, "topics"),
        ({"url": "http://127.0.0.1:9/h", "topics": ["stock.moved"], "site": "NOPE"}, "site"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field(
    stocked: Database, client: TestClient, body: dict, field: str
) -> None:
    h = auth(make_user(stocked, "admin"))
    response = client.post(f"{API}/webhooks", json=body, headers=h)
    problem = assert_problem(response, 422)
    assert problem["field"].startswith(field), problem


def test_only_roles_with_the_webhook_permission_subscribe_and_site_users_stay_in_their_site(
    stocked: Database, client: TestClient
) -> None:
    body = {"url": "http://127.0.0.1:9/h", "topics": ["stock.moved"]}
    planner = auth(make_user(stocked, "planner"))
    assert_problem(client.post(f"{API}/webhooks", json=body, headers=planner), 403)
    assert_problem(client.get(f"{API}/webhooks", headers=planner), 403)
    admin = auth(make_user(stocked, "admin"))
    other = client.post(f"{API}/webhooks", json={**body, "site": "WH2"}, headers=admin).json()
    local = auth(make_user(stocked, "integration", ["WH1"]))
    assert_problem(client.post(f"{API}/webhooks", json=body, headers=local), 422, "site")
    mine = client.post(f"{API}/webhooks", json={**body, "site": "WH1"}, headers=local)
    assert mine.status_code == 201
    listed = client.get(f"{API}/webhooks", headers=local).json()["items"]
    assert [w["site"] for w in listed] == ["WH1"]
    assert_problem(client.get(f"{API}/webhooks/{other['id']}", headers=local), 404)
