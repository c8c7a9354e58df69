"""Idempotency-Key: a replay returns the original response and writes nothing, even when the
duplicates arrive at the same moment."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.persistence.db import Database
from tests.api.conftest import api_settings, assert_problem, auth, make_user, order_body, row_counts

API = "/api/v1"


def test_a_sequential_replay_returns_the_same_response_and_writes_nothing(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "integration"), **{"Idempotency-Key": "order-1"})
    first = client.post(f"{API}/sales-orders", json=order_body(quantity=2), headers=h)
    assert first.status_code == 201
    before = row_counts(stocked)
    again = client.post(f"{API}/sales-orders", json=order_body(quantity=2), headers=h)
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert row_counts(stocked) == before


def test_a_replayed_allocation_allocates_once(stocked: Database, client: TestClient) -> None:
    token = make_user(stocked, "integration")
    order = client.post(f"{API}/sales-orders", json=order_body(quantity=3), headers=auth(token))
    url = f"{API}/sales-orders/{order.json()['id']}/allocate"
    h = auth(token, **{"Idempotency-Key": "alloc-1"})
    first = client.post(url, headers=h)
    before = row_counts(stocked)
    again = client.post(url, headers=h)
    assert (again.status_code, again.content) == (200, first.content)
    assert row_counts(stocked) == before


def test_the_same_key_with_another_body_is_refused(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "integration"), **{"Idempotency-Key": "k-1"})
    client.post(f"{API}/sales-orders", json=order_body(quantity=1), headers=h)
    before = row_counts(stocked)
    other = client.post(f"{API}/sales-orders", json=order_body(quantity=2), headers=h)
    assert_problem(other, 422, "Idempotency-Key")
    elsewhere = client.post(f"{API}/customers", json={"code": "C7", "name": "Seven"}, headers=h)
    assert_problem(elsewhere, 422, "Idempotency-Key")
    assert row_counts(stocked) == before


def test_keys_belong_to_their_user(stocked: Database, client: TestClient) -> None:
    key = {"Idempotency-Key": "shared"}
    a = client.post(
        f"{API}/sales-orders",
        json=order_body(),
        headers=auth(make_user(stocked, "admin"), **key),
    )
    b = client.post(
        f"{API}/sales-orders",
        json=order_body(),
        headers=auth(make_user(stocked, "admin"), **key),
    )
    assert a.json()["id"] != b.json()["id"]


def test_a_refused_write_can_be_retried_with_the_same_key(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"), **{"Idempotency-Key": "retry"})
    body = {"code": "S5", "name": "Five", "lead_time_days": -1}
    assert_problem(client.post(f"{API}/suppliers", json=body, headers=h), 422)
    # The refused request left no record, so the same key still means "do this once".
    body["lead_time_days"] = 3
    ok = client.post(f"{API}/suppliers", json=body, headers=h)
    assert ok.status_code == 201, ok.text


def test_json_key_order_does_not_change_the_request(stocked: Database, client: TestClient) -> None:
    h = auth(
        make_user(stocked, "admin"),
        **{"Idempotency-Key": "order", "Content-Type": "application/json"},
    )
    first = client.post(f"{API}/customers", content=b'{"code":"C8","name":"Eight"}', headers=h)
    again = client.post(f"{API}/customers", content=b'{ "name": "Eight", "code": "C8" }', headers=h)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content


def test_a_replayed_user_creation_does_not_show_the_token_again(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"), **{"Idempotency-Key": "new-user"})
    body = {"name": "pat", "role": "auditor"}
    first = client.post(f"{API}/users", json=body, headers=h)
    assert first.json()["token"].startswith("sp_")
    again = client.post(f"{API}/users", json=body, headers=h)
    assert again.status_code == 201
    assert "token" not in again.json()
    assert again.json()["id"] == first.json()["id"]


def test_an_oversize_key_is_refused(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"), **{"Idempotency-Key": "k" * 201})
    before = row_counts(stocked)
    assert_problem(
        client.post(f"{API}/sales-orders", json=order_body(), headers=h), 422, "Idempotency-Key"
    )
    assert row_counts(stocked) == before


def _concurrently(db: Database, requests: int, send: Any) -> list[Any]:
    app = create_app(db, api_settings())
    barrier = threading.Barrier(requests)
    results: list[Any] = [None] * requests

    def worker(i: int) -> None:
        with TestClient(app) as c:
            barrier.wait()
            results[i] = send(c)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_eight_concurrent_duplicates_create_one_order(stocked: Database) -> None:
    token = make_user(stocked, "integration")
    h = auth(token, **{"Idempotency-Key": "race-order"})
    before = row_counts(stocked)
    responses = _concurrently(
        stocked, 8, lambda c: c.post(f"{API}/sales-orders", json=order_body(quantity=4), headers=h)
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    after = row_counts(stocked)
    assert after["sales_order"] == before["sales_order"] + 1
    assert after["sales_order_line"] == before["sales_order_line"] + 1
    assert after["idempotency_record"] == before["idempotency_record"] + 1
    assert after["audit_log"] == before["audit_log"] + 1


def test_eight_concurrent_duplicate_receipts_post_one_set_of_moves(stocked: Database) -> None:
    h = auth(make_user(stocked, "admin"), **{"Idempotency-Key": "race-receipt"})
    body = {
        "site": "WH1",
        "lines": [
            {"sku": "SKU-1", "quantity": 5, "location": "B-01"},
            {"sku": "SKU-2", "quantity": 7, "location": "B-01"},
        ],
    }
    before = row_counts(stocked)
    responses = _concurrently(stocked, 8, lambda c: c.post(f"{API}/receipts", json=body, headers=h))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    after = row_counts(stocked)
    assert after["move"] == before["move"] + 2
    assert after["audit_log"] == before["audit_log"] + 1
    with TestClient(create_app(stocked, api_settings())) as c:
        stock = c.get(f"{API}/stock", params={"sku": "SKU-1", "site": "WH1"}, headers=h).json()
    assert stock["quantity_on_hand"] == 145
