"""Cross-dock at the receiving dock, as the operator sees it: goods an order is waiting for go
from the dock straight to staging by a pick task; the rest is put away as always."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from tests.api.conftest import auth, make_user

API = "/api/v1"


def _open_tasks(client: TestClient, h: dict[str, str], kind: str) -> list[dict[str, Any]]:
    response = client.get(
        f"{API}/tasks", params={"site": "WH1", "type": kind, "status": "open"}, headers=h
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _backorder(client: TestClient, h: dict[str, str], customer: str, sku: str, qty: int) -> int:
    body = {"site": "WH1", "customer": customer, "lines": [{"sku": sku, "quantity": qty}]}
    order = client.post(f"{API}/sales-orders", json=body, headers=h).json()
    allocated = client.post(f"{API}/sales-orders/{order['id']}/allocate", headers=h).json()
    assert allocated["lines"][0]["quantity_allocated"] == 0  # nothing at the site: backordered
    return int(order["id"])


def _receive(client: TestClient, h: dict[str, str], sku: str, qty: int) -> dict[str, Any]:
    body = {"site": "WH1", "lines": [{"sku": sku, "quantity": qty}]}
    response = client.post(f"{API}/receipts", json=body, headers=h)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _setup(client: TestClient, h: dict[str, str], *, item_flag: bool = False) -> None:
    for code, flag, priority in (("XD-C", True, 3), ("XD-URGENT", True, 1)):
        body = {"code": code, "name": code, "cross_dock": flag, "priority": priority}
        assert client.post(f"{API}/customers", json=body, headers=h).status_code == 201
    assert (
        client.post(f"{API}/items", json={"sku": "XD-1", "cross_dock": item_flag}, headers=h)
    ).status_code == 201


def test_received_goods_an_order_waits_for_go_from_the_dock_to_staging(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    _setup(client, h)
    order = _backorder(client, h, "XD-C", "XD-1", 4)
    dock = _receive(client, h, "XD-1", 10)["lines"][0]["location"]
    picks = [t for t in _open_tasks(client, h, "pick") if t["sku"] == "XD-1"]
    assert [(t["from_location"], t["quantity"]) for t in picks] == [(dock, 4)]
    putaway = [t for t in _open_tasks(client, h, "putaway") if t["sku"] == "XD-1"]
    assert [t["quantity"] for t in putaway] == [6]  # the rest is put away as always
    assert picks[0]["priority"] > 30  # ranked above the ordinary picks
    done = client.post(f"{API}/tasks/{picks[0]['id']}/confirm", json={}, headers=h)
    assert done.status_code == 200, done.text
    line = client.get(f"{API}/sales-orders/{order}", headers=h).json()["lines"][0]
    assert line["quantity_picked"] == 4
    shipped = client.post(f"{API}/sales-orders/{order}/ship", headers=h)
    assert shipped.status_code == 200, shipped.text
    with stocked.read() as conn:
        assert verify(conn).ok


def test_without_the_rule_everything_is_put_away(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    _setup(client, h)
    _backorder(client, h, "C1", "XD-1", 4)  # C1 does not allow cross-dock, nor does XD-1
    _receive(client, h, "XD-1", 10)
    assert [t for t in _open_tasks(client, h, "pick") if t["sku"] == "XD-1"] == []
    putaway = [t for t in _open_tasks(client, h, "putaway") if t["sku"] == "XD-1"]
    assert [t["quantity"] for t in putaway] == [10]


def test_the_item_rule_cross_docks_for_any_customer(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    _setup(client, h, item_flag=True)
    _backorder(client, h, "C1", "XD-1", 3)
    _receive(client, h, "XD-1", 3)
    picks = [t for t in _open_tasks(client, h, "pick") if t["sku"] == "XD-1"]
    assert [t["quantity"] for t in picks] == [3]
    assert [t for t in _open_tasks(client, h, "putaway") if t["sku"] == "XD-1"] == []


def test_the_most_urgent_order_gets_the_goods_and_earlier_receipts_keep_their_putaway(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    _setup(client, h)
    _receive(client, h, "XD-1", 5)  # waits at the dock for its putaway; no order yet
    normal = _backorder(client, h, "XD-C", "XD-1", 8)
    urgent = _backorder(client, h, "XD-URGENT", "XD-1", 2)
    _receive(client, h, "XD-1", 6)  # only these 6 may be cross-docked
    quantities = sorted(t["quantity"] for t in _open_tasks(client, h, "pick") if t["sku"] == "XD-1")
    assert quantities == [2, 4]  # urgent gets its 2 first, the other order the remaining 4
    lines = {
        o: client.get(f"{API}/sales-orders/{o}", headers=h).json()["lines"][0]
        for o in (normal, urgent)
    }
    assert lines[urgent]["quantity_allocated"] == 2
    assert lines[normal]["quantity_allocated"] == 4
    putaway = sorted(t["quantity"] for t in _open_tasks(client, h, "putaway") if t["sku"] == "XD-1")
    assert putaway == [5]  # the first receipt's goods are still to be put away, in full
