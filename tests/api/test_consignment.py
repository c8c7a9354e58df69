"""Consigned stock, as the supplier's invoice needs it: received under the supplier's company,
used by a shipment, each used unit recorded once per owner."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import assert_problem, auth, make_user

API = "/api/v1"


def _ship_consigned(client: TestClient, h: dict[str, str], quantity: int, via: str) -> int:
    """Ship ``quantity`` of CONS-1: over the counter (pick and hand over in one step) or
    through a wave (pick tasks to staging, then the shipment)."""
    order = {"site": "WH1", "customer": "C1", "lines": [{"sku": "CONS-1", "quantity": quantity}]}
    order_id = int(client.post(f"{API}/sales-orders", json=order, headers=h).json()["id"])
    assert client.post(f"{API}/sales-orders/{order_id}/allocate", headers=h).status_code == 200
    if via == "counter":
        assert client.post(f"{API}/sales-orders/{order_id}/pick", headers=h).status_code == 200
        return order_id
    wave = client.post(f"{API}/waves", json={"site": "WH1", "sales_orders": [order_id]}, headers=h)
    assert client.post(f"{API}/waves/{wave.json()['id']}/release", headers=h).status_code == 200
    picks = client.get(
        f"{API}/tasks", params={"site": "WH1", "type": "pick", "status": "open"}, headers=h
    ).json()["items"]
    for t in picks:
        assert client.post(f"{API}/tasks/{t['id']}/confirm", json={}, headers=h).status_code == 200
    shipped = client.post(f"{API}/sales-orders/{order_id}/ship", headers=h)
    assert shipped.status_code == 200, shipped.text
    return order_id


def test_shipping_supplier_owned_stock_records_what_the_owner_invoices(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    assert (
        client.post(
            f"{API}/companies", json={"code": "VEND", "name": "Vendor"}, headers=h
        ).status_code
        == 201
    )
    assert client.post(f"{API}/items", json={"sku": "CONS-1"}, headers=h).status_code == 201
    receipt = {
        "site": "WH1",
        "lines": [{"sku": "CONS-1", "quantity": 10, "location": "A-02", "owner": "VEND"}],
    }
    assert client.post(f"{API}/receipts", json=receipt, headers=h).status_code == 201
    stock = client.get(f"{API}/stock", params={"sku": "CONS-1", "site": "WH1"}, headers=h).json()
    assert {b["owner"] for b in stock["breakdown"]} == {"VEND"}
    _ship_consigned(client, h, 4, "counter")
    _ship_consigned(client, h, 3, "wave")
    report = client.get(f"{API}/consignment/consumption", params={"owner": "VEND"}, headers=h)
    assert report.status_code == 200, report.text
    body = report.json()
    assert [(r["sku"], r["quantity"], r["document_type"]) for r in body["records"]] == [
        ("CONS-1", 4, "shipment"),
        ("CONS-1", 3, "shipment"),
    ]
    assert body["totals"] == [{"owner": "VEND", "sku": "CONS-1", "quantity": 7}]
    csv = client.get(f"{API}/consignment/consumption.csv", params={"owner": "VEND"}, headers=h)
    assert csv.status_code == 200
    assert csv.text.splitlines()[0].startswith("owner,site,sku,lot,quantity")
    assert len(csv.text.splitlines()) == 3
    # The company's own stock shipped records nothing.
    own = {"site": "WH1", "customer": "C1", "lines": [{"sku": "SKU-2", "quantity": 5}]}
    own_id = client.post(f"{API}/sales-orders", json=own, headers=h).json()["id"]
    client.post(f"{API}/sales-orders/{own_id}/allocate", headers=h)
    assert client.post(f"{API}/sales-orders/{own_id}/pick", headers=h).status_code == 200
    everything = client.get(f"{API}/consignment/consumption", headers=h).json()
    assert sum(t["quantity"] for t in everything["totals"]) == 7
    # Another site's user sees none of WH1's records; bad filters name their field.
    branch = auth(make_user(stocked, "warehouse_operator", ["WH2"]))
    assert client.get(f"{API}/consignment/consumption", headers=branch).json()["records"] == []
    assert_problem(client.get(f"{API}/consignment/consumption?owner=NOPE", headers=h), 422, "owner")
    bad = client.get(f"{API}/consignment/consumption?from=2026-12-02&to=2026-12-01", headers=h)
    assert_problem(bad, 422, "to")
    assert_problem(client.get(f"{API}/consignment/consumption?from=12/01/2026", headers=h), 422)
