"""The acceptance contract of counts, adjustments held for approval and returns, over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import assert_problem, auth, make_user
from tests.support.shipped import ship

API = "/api/v1"


def _bin(client: TestClient, h: dict[str, str], code: str = "A-01-01") -> None:
    body = {"site": "WH1", "code": code, "type": "storage"}
    assert client.post(f"{API}/locations", json=body, headers=h).status_code == 201
    receipt = {"site": "WH1", "lines": [{"sku": "SKU-1", "quantity": 10, "location": code}]}
    assert client.post(f"{API}/receipts", json=receipt, headers=h).status_code == 201


def _on_hand(client: TestClient, h: dict[str, str], location: str) -> int:
    body = client.get(f"{API}/stock?sku=SKU-1&site=WH1&location={location}", headers=h).json()
    return int(body["quantity_on_hand"])


def test_a_count_is_created_confirmed_blind_and_approved_by_another_user(
    stocked: Database, client: TestClient
) -> None:
    requester = auth(make_user(stocked, "warehouse_supervisor"))
    approver = auth(make_user(stocked, "warehouse_supervisor"))
    operator = auth(make_user(stocked, "warehouse_operator"))
    _bin(client, requester)
    created = client.post(
        f"{API}/counts", json={"site": "WH1", "locations": ["A-01-01"]}, headers=requester
    )
    assert created.status_code == 201, created.text
    count = created.json()
    assert count["status"] == "open" and len(count["tasks"]) == 1
    (task_id,) = count["tasks"]
    seen = client.get(f"{API}/tasks/{task_id}", headers=operator).json()
    assert seen["type"] == "count" and seen["quantity"] is None  # blind
    confirmed = client.post(
        f"{API}/tasks/{task_id}/confirm", json={"quantity": 7}, headers=operator
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["count"] == count["id"]
    line = client.get(f"{API}/counts/{count['id']}", headers=requester).json()["lines"][0]
    assert (line["quantity_expected"], line["quantity_counted"]) == (10, 7)
    assert line["state"] == "review" and _on_hand(client, requester, "A-01-01") == 10
    refused = client.post(f"{API}/counts/{count['id']}/approve", headers=requester)
    assert_problem(refused, 403, "approved_by")
    approved = client.post(f"{API}/counts/{count['id']}/approve", headers=approver)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "closed"
    assert approved.json()["lines"][0]["state"] == "posted"
    assert _on_hand(client, requester, "A-01-01") == 7
    again = client.post(f"{API}/counts/{count['id']}/approve", headers=approver)
    assert again.status_code in (200, 409)
    assert _on_hand(client, requester, "A-01-01") == 7
    check = client.get(f"{API}/ledger/verify", headers=auth(make_user(stocked, "admin"))).json()
    assert check["ok"]


def test_an_operator_may_not_create_or_approve_counts(
    stocked: Database, client: TestClient
) -> None:
    operator = auth(make_user(stocked, "warehouse_operator"))
    body = {"site": "WH1", "locations": ["A-01"]}
    assert_problem(client.post(f"{API}/counts", json=body, headers=operator), 403)
    assert_problem(client.post(f"{API}/counts/1/approve", headers=operator), 403)


def test_a_return_is_authorised_within_what_was_shipped(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    ship(stocked, "SKU-1", 2)
    body: dict[str, Any] = {
        "site": "WH1",
        "customer": "C1",
        "lines": [{"sku": "SKU-1", "quantity": 1, "disposition": "scrap"}],
    }
    created = client.post(f"{API}/returns", json=body, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "authorised"
    too_many = {**body, "lines": [{"sku": "SKU-1", "quantity": 2}]}
    assert_problem(
        client.post(f"{API}/returns", json=too_many, headers=h), 422, "lines[0].quantity"
    )


def test_a_user_bound_to_a_site_sees_only_its_returns_and_counts(
    stocked: Database, client: TestClient
) -> None:
    admin = auth(make_user(stocked, "admin"))
    ship(stocked, "SKU-1", 2)
    ship(stocked, "SKU-1", 2, site="WH2")
    ids = {}
    for site in ("WH1", "WH2"):
        body = {"site": site, "customer": "C1", "lines": [{"sku": "SKU-1", "quantity": 1}]}
        created = client.post(f"{API}/returns", json=body, headers=admin)
        assert created.status_code == 201, created.text
        ids[site] = created.json()["id"]
    local = auth(make_user(stocked, "warehouse_supervisor", ["WH1"]))
    listed = client.get(f"{API}/returns", headers=local).json()["items"]
    assert [r["site"] for r in listed] == ["WH1"]
    assert_problem(client.get(f"{API}/returns/{ids['WH2']}", headers=local), 404)
    assert_problem(client.post(f"{API}/returns/{ids['WH2']}/receive", headers=local), 404)
    everything = client.get(f"{API}/returns", headers=admin).json()["items"]
    assert {r["site"] for r in everything} == {"WH1", "WH2"}
    other_site = {"site": "WH2", "locations": ["A-01"]}
    assert_problem(client.post(f"{API}/counts", json=other_site, headers=local), 422, "site")


def test_a_replayed_count_or_return_writes_nothing_twice(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    ship(stocked, "SKU-1", 2)
    once = auth(make_user(stocked, "admin"), **{"Idempotency-Key": "count-1"})
    body = {"site": "WH1", "locations": ["A-02"]}
    first = client.post(f"{API}/counts", json=body, headers=once)
    second = client.post(f"{API}/counts", json=body, headers=once)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    rma = {"site": "WH1", "customer": "C1", "lines": [{"sku": "SKU-1", "quantity": 2}]}
    key = auth(make_user(stocked, "admin"), **{"Idempotency-Key": "rma-1"})
    assert client.post(f"{API}/returns", json=rma, headers=key).status_code == 201
    assert client.post(f"{API}/returns", json=rma, headers=key).status_code == 201
    listed = client.get(f"{API}/returns", headers=h).json()["items"]
    counts = client.get(f"{API}/counts", headers=h).json()["items"]
    assert (len(listed), len(counts)) == (1, 1)
