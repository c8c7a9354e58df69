"""A day at WH1, through the HTTP API only, the way the people of the warehouse work: the
supplier's EDI link sends an ASN for a purchase order; the receiver scans the pallet and it
waits at the dock; the putaway tasks take it where the rules say; an order comes in on the
afternoon route; the supervisor waves and releases it; the picker comes up short at the pick
face, a count task is raised for the bin and the face is replenished from reserve; the rest is
picked, the order is packed and shipped; the ledger balances."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.persistence.db import Database
from tests.api.conftest import CheckedClient, api_settings, auth, make_user
from tests.api.test_asns import Item, sscc, x12_856
from tests.integration.outbound_world import add_pick_face
from tests.support.world import build_world

API = "/api/v1"


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with CheckedClient(create_app(db, api_settings())) as test_client:
        yield test_client


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _tasks(client: TestClient, token: str, **params: str) -> list[dict[str, Any]]:
    body = _ok(client.get(API + "/tasks", params={"site": "WH1", **params}, headers=auth(token)))
    return list(body["items"])


def test_receive_an_asn_put_away_wave_pick_short_replenish_pack_and_ship(
    client: TestClient, db: Database
) -> None:
    build_world(db)
    admin = make_user(db, "admin")
    h = auth(admin)
    # The warehouse: a dock, reserve bins and a pick face A-01 for SKU-1 (min 4, max 12).
    _ok(client.post(API + "/suppliers", json={"code": "S1", "name": "Acme"}, headers=h), 201)
    for code, kind, seq in (("DOCK-1", "dock", 0), ("R-01", "storage", 8), ("R-02", "storage", 9)):
        body = {"site": "WH1", "code": code, "type": kind, "walk_sequence": seq}
        _ok(client.post(API + "/locations", json=body, headers=h), 201)
    add_pick_face(db, "A-01", "SKU-1", 4, 12)
    buyer, edi = make_user(db, "buyer"), make_user(db, "integration")
    receiver = make_user(db, "warehouse_operator", ["WH1"])
    supervisor = make_user(db, "warehouse_supervisor", ["WH1"])

    # 1. The buyer's purchase order; the supplier announces one pallet by EDI.
    po_body = {
        "site": "WH1",
        "supplier": "S1",
        "number": "PO-7001",
        "lines": [{"sku": "SKU-1", "quantity": 40, "expected_date": "2026-12-01"}],
    }
    po = _ok(client.post(API + "/purchase-orders", json=po_body, headers=auth(buyer)), 201)
    pallet = sscc(701)
    asn_text = x12_856("ASN-7001", "PO-7001", [(pallet, [Item(1, "SKU-1", 40)])])
    _ok(
        client.post(
            API + "/asns/x12",
            content=asn_text.encode(),
            headers=auth(edi, **{"Content-Type": "application/edi-x12"}),
        ),
        201,
    )

    # 2. The receiver scans the pallet: it waits at the dock with its putaway task.
    receipt = _ok(
        client.post(
            API + "/receipts", json={"site": "WH1", "sscc": pallet}, headers=auth(receiver)
        ),
        201,
    )
    assert receipt["purchase_order"] == po["id"]
    assert [ln["location"] for ln in receipt["lines"]] == ["DOCK-1"]
    (putaway,) = _tasks(client, receiver, type="putaway", status="open")

    # 3. Put away where directed (asking the queue for the next task, as a scanner does).
    nxt = _ok(client.post(API + "/tasks/next", params={"site": "WH1"}, headers=auth(receiver)))
    assert nxt["task"]["id"] == putaway["id"]
    _ok(client.post(f"{API}/tasks/{putaway['id']}/confirm", json={}, headers=auth(receiver)))
    reserve = putaway["to_location"]
    assert reserve in ("A-01", "A-02", "B-01", "R-01", "R-02")

    # The pick face holds 6 units (a blind receipt straight into the bin).
    line = {"sku": "SKU-1", "quantity": 6, "location": "A-01"}
    _ok(client.post(API + "/receipts", json={"site": "WH1", "lines": [line]}, headers=h), 201)

    # 4. An order on the afternoon route; the supervisor waves and releases it.
    route = {"site": "WH1", "code": "PM", "cutoff_time": "23:00"}
    _ok(client.post(API + "/routes", json=route, headers=h), 201)
    order = {
        "site": "WH1",
        "customer": "C1",
        "route": "PM",
        "promised_date": "2099-12-31",
        "lines": [{"sku": "SKU-1", "quantity": 6}],
    }
    so = _ok(client.post(API + "/sales-orders", json=order, headers=h), 201)
    wave = _ok(
        client.post(
            API + "/waves",
            json={"site": "WH1", "sales_orders": [so["id"]]},
            headers=auth(supervisor),
        ),
        201,
    )
    _ok(client.post(f"{API}/waves/{wave['id']}/release", headers=auth(supervisor)))
    picks = _tasks(client, receiver, type="pick", status="open")
    assert picks and all(p["from_location"] == "A-01" for p in picks)

    # 5. The picker finds only 4 in A-01: a short pick; a count task for the bin follows.
    first = picks[0]
    _ok(
        client.post(
            f"{API}/tasks/{first['id']}/confirm", json={"quantity": 4}, headers=auth(receiver)
        )
    )
    assert [t["from_location"] for t in _tasks(client, receiver, type="count", status="open")] == [
        "A-01"
    ]
    order_now = _ok(client.get(f"{API}/sales-orders/{so['id']}", headers=h))
    assert order_now["lines"][0]["short_cause"] is not None

    # 6. The face is replenished from reserve, the backorder waved again and picked.
    for refill in _tasks(client, receiver, type="replenish", status="open"):
        _ok(client.post(f"{API}/tasks/{refill['id']}/confirm", json={}, headers=auth(receiver)))
    wave2 = _ok(
        client.post(
            API + "/waves",
            json={"site": "WH1", "sales_orders": [so["id"]]},
            headers=auth(supervisor),
        ),
        201,
    )
    _ok(client.post(f"{API}/waves/{wave2['id']}/release", headers=auth(supervisor)))
    for pick in _tasks(client, receiver, type="pick", status="open"):
        _ok(client.post(f"{API}/tasks/{pick['id']}/confirm", json={}, headers=auth(receiver)))

    # 7. Pack and ship: on-hand falls by what left, nothing stays reserved, on time.
    shipped = _ok(
        client.post(f"{API}/sales-orders/{so['id']}/ship", json={"cartons": 1}, headers=h)
    )
    assert shipped is not None
    final = _ok(client.get(f"{API}/sales-orders/{so['id']}", headers=h))
    assert final["status"] == "shipped"
    assert final["lines"][0]["quantity_shipped"] == 6
    with db.read() as conn:
        allocated = conn.execute(
            sa.text("SELECT COALESCE(SUM(quantity_allocated), 0) FROM balance")
        ).scalar_one()
    assert allocated == 0
    verify = _ok(client.get(API + "/ledger/verify", headers=h))
    assert verify["ok"], verify
