"""The outbound API: routes, orders with route/channel/priority, waves, pick confirmation,
ship and the packing list; bad input answered 4xx naming the field with nothing written."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import customer
from tests.api.conftest import assert_problem, auth, make_user, order_body, row_counts

API = "/api/v1"


def _released_wave(client: TestClient, h: dict[str, str], quantity: int = 5) -> tuple[int, int]:
    body = {**order_body(quantity=quantity), "route": "NORTH", "channel": "edi", "priority": 2}
    created = client.post(f"{API}/sales-orders", json=body, headers=h)
    assert created.status_code == 201, created.text
    assert (created.json()["route"], created.json()["channel"]) == ("NORTH", "edi")
    order_id = created.json()["id"]
    wave = client.post(f"{API}/waves", json={"site": "WH1", "sales_orders": [order_id]}, headers=h)
    assert wave.status_code == 201, wave.text
    released = client.post(f"{API}/waves/{wave.json()['id']}/release", headers=h)
    assert released.status_code == 200, released.text
    assert released.json()["pick_tasks"] >= 1
    return order_id, wave.json()["id"]


def _route(client: TestClient, h: dict[str, str]) -> None:
    route = client.post(
        f"{API}/routes", json={"site": "WH1", "code": "NORTH", "cutoff_time": "16:00"}, headers=h
    )
    assert route.status_code == 201, route.text
    listed = client.get(f"{API}/routes", params={"site": "WH1"}, headers=h).json()["items"]
    assert [r["code"] for r in listed] == ["NORTH"]


def test_an_order_is_waved_picked_and_shipped_through_the_api(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    _route(client, h)
    order_id, wave_id = _released_wave(client, h)
    picks = client.get(
        f"{API}/tasks", params={"site": "WH1", "type": "pick", "status": "open"}, headers=h
    ).json()["items"]
    assert [(t["sku"], t["quantity"], t["to_location"]) for t in picks] == [
        ("SKU-1", 5, "STAGE-OUT")
    ]
    confirmed = client.post(f"{API}/tasks/{picks[0]['id']}/confirm", json={}, headers=h)
    assert confirmed.status_code == 200, confirmed.text
    again = client.post(f"{API}/tasks/{picks[0]['id']}/confirm", json={}, headers=h)
    assert_problem(again, 409)
    shipped = client.post(f"{API}/sales-orders/{order_id}/ship", json={"cartons": 1}, headers=h)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"
    shipment_id = shipped.json()["shipment"]["id"]
    stock = client.get(f"{API}/stock", params={"sku": "SKU-1", "site": "WH1"}, headers=h).json()
    assert (stock["quantity_on_hand"], stock["quantity_allocated"]) == (135, 0)
    csv = client.get(f"{API}/shipments/{shipment_id}/packing-list.csv", headers=h)
    assert csv.status_code == 200 and csv.text.splitlines()[1].startswith("1,SKU-1,")
    page = client.get(f"{API}/shipments/{shipment_id}/packing-list", headers=h)
    assert page.headers["content-type"].startswith("text/html") and "SKU-1" in page.text
    assert client.get(f"{API}/waves/{wave_id}", headers=h).json()["tasks"]["done"] == 1


def test_a_pick_list_is_confirmed_in_one_request(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    _route(client, h)
    _, wave_id = _released_wave(client, h, quantity=3)
    picks = client.get(f"{API}/tasks", params={"wave": wave_id}, headers=h).json()["items"]
    body = {"picks": [{"task_id": t["id"], "quantity": 2} for t in picks]}
    done = client.post(f"{API}/tasks/confirm-batch", json=body, headers=h)
    assert done.status_code == 200, done.text
    assert (done.json()["quantity_picked"], done.json()["quantity_short"]) == (2, 1)
    assert_problem(client.post(f"{API}/tasks/confirm-batch", json=body, headers=h), 409)


def test_ship_complete_orders_with_unpicked_lines_are_refused(
    stocked: Database, client: TestClient
) -> None:
    stocked.run(
        lambda c: c.execute(
            sa.update(customer).where(customer.c.code == "C1").values(ship_complete=True)
        )
    )
    h = auth(make_user(stocked, "admin"))
    _route(client, h)
    order_id, _ = _released_wave(client, h)
    before = row_counts(stocked)
    refused = client.post(f"{API}/sales-orders/{order_id}/ship", headers=h)
    assert_problem(refused, 409, "lines")
    assert row_counts(stocked) == before


def test_bad_outbound_input_names_the_field_and_writes_nothing(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    before = row_counts(stocked)
    cases = [
        ("/waves", {"site": "WH1", "sales_orders": [999]}, "sales_orders[0]"),
        ("/waves", {"site": "WH1", "sales_orders": [1], "method": "fast"}, "method"),
        ("/waves", {"site": "NOPE", "sales_orders": [1]}, "site"),
        ("/waves", {"site": "WH1", "sales_orders": ["1"]}, "sales_orders[0]"),
        ("/routes", {"site": "WH1", "code": "R", "cutoff_time": "25:00"}, "cutoff_time"),
        ("/sales-orders", {**order_body(), "route": "NOWHERE"}, "route"),
        ("/sales-orders", {**order_body(), "channel": "fax"}, "channel"),
        ("/sales-orders", {**order_body(), "priority": 0}, "priority"),
        ("/tasks/top-off", {"site": "WH2X"}, "site"),
        ("/tasks/confirm-batch", {"picks": [{"task_id": 1, "quantity": -1}]}, "picks[0].quantity"),
    ]
    for path, body, field in cases:
        assert_problem(client.post(API + path, json=body, headers=h), 422, field)
    assert row_counts(stocked) == before


def test_a_site_out_of_scope_is_answered_as_unknown_and_roles_are_enforced(
    stocked: Database, client: TestClient
) -> None:
    local = auth(make_user(stocked, "warehouse_supervisor", ["WH2"]))
    assert_problem(
        client.post(f"{API}/waves", json={"site": "WH1", "sales_orders": [1]}, headers=local),
        422,
        "site",
    )
    operator = auth(make_user(stocked, "warehouse_operator"))
    assert_problem(
        client.post(f"{API}/waves", json={"site": "WH1", "sales_orders": [1]}, headers=operator),
        403,
    )
    assert_problem(client.post(f"{API}/tasks/top-off", json={"site": "WH1"}, headers=operator), 403)


def test_a_wave_is_released_once_and_a_direct_pick_of_its_orders_is_refused(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    _route(client, h)
    order_id, wave_id = _released_wave(client, h)
    before = row_counts(stocked)
    assert_problem(client.post(f"{API}/waves/{wave_id}/release", headers=h), 409)
    assert_problem(client.post(f"{API}/sales-orders/{order_id}/pick", headers=h), 409)
    assert_problem(client.post(f"{API}/sales-orders/{order_id}/ship", headers=h), 409)
    assert row_counts(stocked) == before


def test_waves_are_planned_by_route_through_the_api(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    _route(client, h)
    ids = [
        client.post(
            f"{API}/sales-orders", json={**order_body(), "route": "NORTH"}, headers=h
        ).json()["id"]
        for _ in range(2)
    ]
    planned = client.post(f"{API}/waves/plan", json={"site": "WH1", "by": ["route"]}, headers=h)
    assert planned.status_code == 201, planned.text
    assert [w["sales_orders"] for w in planned.json()["items"]] == [ids]
    assert_problem(
        client.post(f"{API}/waves/plan", json={"site": "WH1", "by": ["zone"]}, headers=h),
        422,
        "by[0]",
    )
