"""Valuation through HTTP: receipts at a cost, value at a date, cost of goods sold after a
shipment through waves and picks, a purchase order's price as the receipt's cost, cost
visibility by role, and bad input answered 422 naming the field."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.persistence.db import Database
from tests.api.conftest import (
    CheckedClient,
    api_settings,
    assert_problem,
    auth,
    make_user,
    order_body,
)
from tests.support.world import build_world

API = "/api/v1"


def _receive(client: TestClient, h: dict[str, str], quantity: int, cost: str) -> None:
    line = {"sku": "SKU-1", "quantity": quantity, "location": "A-01", "unit_cost": cost}
    done = client.post(f"{API}/receipts", json={"site": "WH1", "lines": [line]}, headers=h)
    assert done.status_code == 201, done.text


def _ship(client: TestClient, h: dict[str, str], quantity: int) -> None:
    created = client.post(f"{API}/sales-orders", json=order_body(quantity=quantity), headers=h)
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    wave = client.post(f"{API}/waves", json={"site": "WH1", "sales_orders": [order_id]}, headers=h)
    assert wave.status_code == 201, wave.text
    released = client.post(f"{API}/waves/{wave.json()['id']}/release", headers=h)
    assert released.status_code == 200, released.text
    picks = client.get(
        f"{API}/tasks", params={"site": "WH1", "type": "pick", "status": "open"}, headers=h
    ).json()["items"]
    for task in picks:
        confirmed = client.post(f"{API}/tasks/{task['id']}/confirm", json={}, headers=h)
        assert confirmed.status_code == 200, confirmed.text
    shipped = client.post(f"{API}/sales-orders/{order_id}/ship", json={"cartons": 1}, headers=h)
    assert shipped.status_code == 200, shipped.text


def _get(client: TestClient, h: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}{path}", params={"site": "WH1", **params}, headers=h)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_value_and_cogs_follow_receipts_at_cost_and_a_shipment(
    db: Database, client: TestClient
) -> None:
    build_world(db)
    h = auth(make_user(db, "admin"))
    _receive(client, h, 10, "5.00")
    _receive(client, h, 10, "7.00")
    before = _get(client, h, "/valuation", sku="SKU-1")
    assert (before["quantity_on_hand"], before["value"], before["currency"]) == (
        20,
        "120.00",
        "EUR",
    )
    _ship(client, h, 15)
    assert _get(client, h, "/valuation/cogs", sku="SKU-1")["cogs"] == "85.00"
    after = _get(client, h, "/valuation", sku="SKU-1")
    assert (after["quantity_on_hand"], after["value"]) == (5, "35.00")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert _get(client, h, "/valuation", sku="SKU-1", at=yesterday)["value"] == "0.00"
    today = _get(client, h, "/valuation/cogs", sku="SKU-1", **{"from": date.today().isoformat()})
    assert today["cogs"] == "85.00" and today["quantity"] == 15
    listed = _get(client, h, "/valuation", by_item="true")
    assert listed["items"] == [{"sku": "SKU-1", "quantity_on_hand": 5, "value": "35.00"}]
    aged = _get(client, h, "/valuation/aging")
    assert aged["buckets"][0] == {"age_days": "0-30", "quantity": 5, "value": "35.00"}
    assert _get(client, h, "/valuation/dead-stock", days=30)["items"] == []
    verified = client.get(f"{API}/ledger/verify", headers=h).json()
    assert verified["ok"] and verified["value_areas_checked"] >= 1


def test_a_receipt_against_a_purchase_order_costs_its_unit_price(
    db: Database, client: TestClient
) -> None:
    build_world(db)
    h = auth(make_user(db, "admin"))
    assert client.post(f"{API}/suppliers", json={"code": "S1", "name": "S"}, headers=h).is_success
    line = {"sku": "SKU-1", "quantity": 8, "expected_date": "2026-12-01", "unit_price": "4.25"}
    po = client.post(
        f"{API}/purchase-orders",
        json={"site": "WH1", "supplier": "S1", "lines": [line]},
        headers=h,
    )
    assert po.status_code == 201, po.text
    received = client.post(
        f"{API}/receipts",
        json={
            "site": "WH1",
            "purchase_order": po.json()["id"],
            "lines": [{"sku": "SKU-1", "quantity": 8, "location": "A-01"}],
        },
        headers=h,
    )
    assert received.status_code == 201, received.text
    assert _get(client, h, "/valuation", sku="SKU-1")["value"] == "34.00"


def test_values_are_hidden_from_roles_without_cost_access(db: Database, client: TestClient) -> None:
    build_world(db)
    _receive(client, auth(make_user(db, "admin")), 4, "2.50")
    operator = auth(make_user(db, "warehouse_operator", ["WH1"]))
    body = _get(client, operator, "/valuation", sku="SKU-1")
    assert body["quantity_on_hand"] == 4
    assert "value" not in body and "in_transit_value" not in body
    assert "cogs" not in _get(client, operator, "/valuation/cogs", sku="SKU-1")
    refused = client.get(f"{API}/valuation/journal", headers=operator)
    assert_problem(refused, 403)


def test_the_journal_balances_per_company_and_account(db: Database, client: TestClient) -> None:
    build_world(db)
    h = auth(make_user(db, "admin"))
    _receive(client, h, 4, "2.50")
    body = _get(client, h, "/valuation/journal")
    assert body["accounts"] == [
        {"company": "OWN", "account": "1300", "debit": "10.00", "credit": "0.00"},
        {"company": "OWN", "account": "2100", "debit": "0.00", "credit": "10.00"},
    ]


def test_bad_valuation_queries_name_the_field(db: Database, client: TestClient) -> None:
    build_world(db)
    h = auth(make_user(db, "admin"))
    bound = auth(make_user(db, "admin", ["WH1"]))
    assert_problem(client.get(f"{API}/valuation", params={"site": "WH1", "at": "2026-13-01"},
                              headers=h), 422, "at")  # fmt: skip
    assert_problem(client.get(f"{API}/valuation", params={"site": "WH1", "sku": "NOPE"},
                              headers=h), 422, "sku")  # fmt: skip
    assert_problem(client.get(f"{API}/valuation", params={"site": "WH2"}, headers=bound), 422,
                   "site")  # fmt: skip
    assert_problem(
        client.get(
            f"{API}/valuation/cogs",
            params={"site": "WH1", "from": "2026-12-02", "to": "2026-12-01"},
            headers=h,
        ),
        422,
        "from",
    )


def test_a_write_down_above_the_threshold_waits_for_a_second_person(db: Database) -> None:
    settings = api_settings(revaluation_approval_threshold=Decimal("50"))
    with CheckedClient(create_app(db, settings)) as client:
        _write_down_story(db, client)


def _write_down_story(db: Database, client: TestClient) -> None:
    build_world(db)
    admin = auth(make_user(db, "admin"))
    _receive(client, admin, 10, "5.00")
    _receive(client, admin, 10, "7.00")
    controller = auth(make_user(db, "inventory_controller"))
    other = auth(make_user(db, "inventory_controller"))
    small = {"site": "WH1", "sku": "SKU-1", "unit_cost": "5.50", "reason": "DAMAGE"}
    posted = client.post(f"{API}/valuation/revaluations", json=small, headers=admin)
    assert posted.status_code == 201, posted.text
    assert (posted.json()["status"], posted.json()["value_change"]) == ("posted", "-10.00")
    assert _get(client, admin, "/valuation", sku="SKU-1")["value"] == "110.00"
    big = {**small, "unit_cost": "0.10"}
    with_key = {**controller, "Idempotency-Key": "write-down-1"}
    asked = client.post(f"{API}/valuation/revaluations", json=big, headers=with_key)
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert (body["status"], body["value_change"]) == ("pending", "-108.00")
    again = client.post(f"{API}/valuation/revaluations", json=big, headers=with_key)
    assert again.json() == body  # a replay records nothing twice
    assert _get(client, admin, "/valuation", sku="SKU-1")["value"] == "110.00"
    approve = f"{API}/valuation/revaluations/{body['id']}/approve"
    assert_problem(client.post(approve, headers=controller), 403)
    done = client.post(approve, headers=other)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "posted"
    assert_problem(client.post(approve, headers=other), 409)
    assert _get(client, admin, "/valuation", sku="SKU-1")["value"] == "2.00"
    _ship(client, admin, 20)
    assert _get(client, admin, "/valuation/cogs", sku="SKU-1")["cogs"] == "2.00"
    verified = client.get(f"{API}/ledger/verify", headers=admin).json()
    assert verified["ok"], verified
    bad = {**small, "reason": "NOPE"}
    assert_problem(client.post(f"{API}/valuation/revaluations", json=bad, headers=admin), 422,
                   "reason")  # fmt: skip
    negative = {**small, "unit_cost": "-1"}
    assert_problem(client.post(f"{API}/valuation/revaluations", json=negative, headers=admin), 422)


def test_a_landed_cost_raises_the_stock_left_and_the_rest_is_variance(
    db: Database, client: TestClient
) -> None:
    build_world(db)
    h = auth(make_user(db, "admin"))
    lines = [
        {"sku": "SKU-1", "quantity": 10, "location": "A-01", "unit_cost": "5.00"},
        {"sku": "SKU-2", "quantity": 30, "location": "B-01", "unit_cost": "1.00"},
    ]
    done = client.post(f"{API}/receipts", json={"site": "WH1", "lines": lines}, headers=h)
    assert done.status_code == 201, done.text
    _ship(client, h, 4)  # 4 of the 10 SKU-1 already gone at 5.00
    body = {"receipt": done.json()["id"], "amount": "40.00", "basis": "quantity"}
    landed = client.post(f"{API}/valuation/landed-costs", json=body, headers=h)
    assert landed.status_code == 201, landed.text
    assert [(ln["sku"], ln["allocated"], ln["on_hand_value"], ln["price_variance"])
            for ln in landed.json()["lines"]] == [
        ("SKU-1", "10.00", "6.00", "4.00"),
        ("SKU-2", "30.00", "30.00", "0.00"),
    ]  # fmt: skip
    assert _get(client, h, "/valuation", sku="SKU-1")["value"] == "36.00"
    _ship(client, h, 6)
    assert _get(client, h, "/valuation/cogs", sku="SKU-1")["cogs"] == "56.00"  # 20 + 36
    assert client.get(f"{API}/ledger/verify", headers=h).json()["ok"]
    by_weight = {**body, "basis": "weight"}
    assert_problem(client.post(f"{API}/valuation/landed-costs", json=by_weight, headers=h), 422,
                   "basis")  # fmt: skip
    unknown = {**body, "receipt": 999}
    assert_problem(client.post(f"{API}/valuation/landed-costs", json=unknown, headers=h), 404)
