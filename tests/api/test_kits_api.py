"""The kit routes through the app: a bill of material, availability, orders opened, completed
and cancelled, bad input refused naming the field with nothing written."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import assert_problem, auth, make_user, row_counts

API = "/api/v1"
BOM = {
    "sku": "KIT-1",
    "components": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 5}],
}


def _kit(client: TestClient, h: dict[str, str]) -> None:
    assert client.post(f"{API}/items", json={"sku": "KIT-1"}, headers=h).status_code == 201
    created = client.post(f"{API}/kits", json=BOM, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["components"] == BOM["components"]


def test_a_kit_is_declared_its_availability_read_and_an_order_assembled(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    _kit(client, h)
    assert [k["sku"] for k in client.get(f"{API}/kits", headers=h).json()["items"]] == ["KIT-1"]
    assert client.get(f"{API}/kits/KIT-1", headers=h).json()["sku"] == "KIT-1"
    got = client.get(f"{API}/kits/KIT-1/availability?site=WH1", headers=h).json()
    # WH1 holds 140 SKU-1 (70 kits) and 500 SKU-2 (100 kits).
    assert (got["quantity_available"], got["quantity_buildable"]) == (0, 70)
    body = {"kit": "KIT-1", "site": "WH1", "location": "B-01", "quantity": 10}
    opened = client.post(f"{API}/kits/orders", json=body, headers=h)
    assert opened.status_code == 201, opened.text
    assert opened.json()["state"] == "open"
    assert opened.json()["components"][0] == {
        "sku": "SKU-1",
        "quantity": 20,
        "quantity_reserved": 20,
    }
    order_id = opened.json()["id"]
    done = client.post(f"{API}/kits/orders/{order_id}/complete", headers=h)
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert_problem(client.post(f"{API}/kits/orders/{order_id}/complete", headers=h), 409)
    assert_problem(client.post(f"{API}/kits/orders/{order_id}/cancel", headers=h), 409)
    got = client.get(f"{API}/kits/KIT-1/availability?site=WH1", headers=h).json()
    assert (got["quantity_available"], got["quantity_buildable"]) == (10, 60)
    stock = client.get(f"{API}/stock?sku=KIT-1&site=WH1", headers=h).json()
    assert stock["quantity_on_hand"] == 10
    assert client.get(f"{API}/ledger/verify", headers=h).json()["ok"] is True


def test_an_order_beyond_the_components_is_refused_and_writes_nothing(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    _kit(client, h)
    before = row_counts(stocked)
    body = {"kit": "KIT-1", "site": "WH1", "location": "B-01", "quantity": 71}
    problem = assert_problem(client.post(f"{API}/kits/orders", json=body, headers=h), 409)
    assert problem["shortages"][0]["sku"] == "SKU-1"
    assert row_counts(stocked) == before


def test_bad_kit_input_is_refused_naming_the_field(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    _kit(client, h)
    order = {"kit": "KIT-1", "site": "WH1", "location": "B-01", "quantity": 1}
    cases = [
        ("/kits", {**BOM, "components": []}, 422, "components"),
        ("/kits", {**BOM, "components": [{"sku": "SKU-1", "quantity": 0}]}, 422, "components"),
        ("/kits", BOM, 409, "sku"),  # already declared
        ("/kits/orders", {**order, "quantity": "1.5"}, 422, "quantity"),
        ("/kits/orders", {**order, "kind": "melt"}, 422, "kind"),
        ("/kits/orders", {**order, "location": "@KITTING"}, 422, "location"),
        ("/kits/orders", {**order, "site": "NOPE"}, 422, "site"),
        ("/kits/orders", {**order, "kit": "SKU-1"}, 404, "kit"),
        ("/kits/orders", {**order, "sales_order": 999}, 422, "sales_order"),
    ]
    for path, body, status, field in cases:
        problem = assert_problem(client.post(API + path, json=body, headers=h), status)
        assert problem["field"].startswith(field), (path, body, problem)


def test_a_cancelled_order_gives_its_components_back(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "warehouse_supervisor"))
    _kit(client, auth(make_user(stocked, "admin")))
    body = {"kit": "KIT-1", "site": "WH1", "location": "B-01", "quantity": 30}
    order_id = client.post(f"{API}/kits/orders", json=body, headers=h).json()["id"]
    got = client.get(f"{API}/kits/KIT-1/availability?site=WH1", headers=h).json()
    assert got["quantity_buildable"] == 40
    cancelled = client.post(f"{API}/kits/orders/{order_id}/cancel", headers=h)
    assert cancelled.json()["state"] == "cancelled"
    got = client.get(f"{API}/kits/KIT-1/availability?site=WH1", headers=h).json()
    assert got["quantity_buildable"] == 70
    local = auth(make_user(stocked, "warehouse_supervisor", ["WH2"]))
    assert_problem(client.get(f"{API}/kits/orders/{order_id}", headers=local), 404)


def test_kit_orders_are_listed_by_site_and_state_within_the_callers_sites(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    _kit(client, h)
    for site, complete in (("WH1", True), ("WH1", False), ("WH2", True)):
        body = {"kit": "KIT-1", "site": site, "location": "A-01", "quantity": 1,
                "complete": complete}  # fmt: skip
        if site == "WH2":
            client.post(
                f"{API}/receipts",
                json={
                    "site": "WH2",
                    "lines": [{"sku": "SKU-2", "quantity": 5, "location": "A-01"}],
                },
                headers=h,
            )
        assert client.post(f"{API}/kits/orders", json=body, headers=h).status_code == 201
    listed = client.get(f"{API}/kits/orders", headers=h).json()["items"]
    assert [(o["site"], o["state"]) for o in listed] == [
        ("WH1", "done"),
        ("WH1", "open"),
        ("WH2", "done"),
    ]
    done_wh1 = client.get(f"{API}/kits/orders?site=WH1&state=done", headers=h).json()["items"]
    assert [o["id"] for o in done_wh1] == [listed[0]["id"]]
    local = auth(make_user(stocked, "warehouse_operator", ["WH2"]))
    mine = client.get(f"{API}/kits/orders", headers=local).json()["items"]
    assert [o["site"] for o in mine] == ["WH2"]
    assert_problem(client.get(f"{API}/kits/orders?site=WH1", headers=local), 422, "site")
    paged = client.get(f"{API}/kits/orders?limit=2", headers=h).json()
    rest = client.get(f"{API}/kits/orders?cursor={paged['next_cursor']}", headers=h).json()
    assert [o["id"] for o in paged["items"] + rest["items"]] == [o["id"] for o in listed]
