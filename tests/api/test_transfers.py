"""Transfer orders through the API, as the hub and the branch work them: create, ship into
in-transit, receive at the branch (putaway follows), discrepancies settled by a supervisor;
and a transfer competing with the hub's sales orders for the same stock."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import move
from tests.api.conftest import assert_problem, auth, make_user, order_body, row_counts

API = "/api/v1"


def _transfer(
    client: TestClient, h: dict[str, str], quantity: int = 10, sku: str = "SKU-1", **more: Any
) -> dict[str, Any]:
    body = {"from_site": "WH1", "to_site": "WH2", "lines": [{"sku": sku, "quantity": quantity}]}
    response = client.post(f"{API}/transfer-orders", json=body | more, headers=h)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _stock(client: TestClient, h: dict[str, str], site: str, sku: str = "SKU-1") -> Any:
    response = client.get(f"{API}/stock", params={"sku": sku, "site": site}, headers=h)
    assert response.status_code == 200, response.text
    return response.json()


def _drift(db: Database) -> int:
    with db.read() as conn:
        return len(verify(conn).drifts)


def test_ship_puts_the_stock_in_transit_to_the_branch_and_the_branch_receives_it(
    stocked: Database, client: TestClient
) -> None:
    """The acceptance path: 10 of SKU-1 from WH1 to WH2."""
    h = auth(make_user(stocked, "admin"))
    order = _transfer(client, h)
    assert order["status"] == "confirmed" and order["lines"][0]["quantity"] == 10
    hub_before = _stock(client, h, "WH1")["quantity_on_hand"]

    shipped = client.post(f"{API}/transfer-orders/{order['id']}/ship", headers=h)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["lines"][0]["quantity_in_transit"] == 10
    branch = _stock(client, h, "WH2")
    assert branch["quantity_in_transit"] == 10
    in_transit = [b for b in branch["breakdown"] if b["location_type"] == "in_transit"]
    assert [(b["site"], b["from_site"], b["quantity_in_transit"]) for b in in_transit] == [
        ("WH2", "WH1", 10)
    ]
    hub = _stock(client, h, "WH1")
    # Counted once: the origin has shipped it, the destination sees it coming.
    assert hub["quantity_in_transit"] == 0
    assert hub["quantity_on_hand"] == hub_before - 10
    atp = client.get(f"{API}/atp", params={"sku": "SKU-1", "site": "WH2"}, headers=h).json()
    assert atp["quantity_in_transit"] == 10

    body = {"lines": [{"sku": "SKU-1", "quantity": 10}]}
    received = client.post(f"{API}/transfer-orders/{order['id']}/receive", json=body, headers=h)
    assert received.status_code == 200, received.text
    done = received.json()
    assert done["status"] == "received" and done["lines"][0]["quantity_received"] == 10
    branch = _stock(client, h, "WH2")
    assert branch["quantity_in_transit"] == 0
    assert branch["quantity_on_hand"] == 70 + 10
    # It waits at the branch's dock with a putaway task, as every receipt does.
    tasks = client.get(
        f"{API}/tasks", params={"site": "WH2", "type": "putaway", "status": "open"}, headers=h
    ).json()["items"]
    assert [(t["sku"], t["quantity"]) for t in tasks] == [("SKU-1", 10)]
    assert _drift(stocked) == 0


def test_receiving_twice_what_was_shipped_once_is_refused_as_over_or_not_in_transit(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    order = _transfer(client, h, 6)
    client.post(f"{API}/transfer-orders/{order['id']}/ship", headers=h)
    assert client.post(f"{API}/transfer-orders/{order['id']}/receive", headers=h).status_code == 200
    again = client.post(f"{API}/transfer-orders/{order['id']}/receive", headers=h)
    assert_problem(again, 409, "order_id")  # received: nothing is open any more
    assert _stock(client, h, "WH2")["quantity_on_hand"] == 70 + 6


def test_a_short_arrival_is_written_off_by_a_supervisor_who_did_not_receive_it(
    stocked: Database, client: TestClient
) -> None:
    receiver = auth(make_user(stocked, "warehouse_supervisor"))
    other = auth(make_user(stocked, "warehouse_supervisor"))
    operator = auth(make_user(stocked, "warehouse_operator"))
    admin = auth(make_user(stocked, "admin"))
    order = _transfer(client, admin, 10)
    client.post(f"{API}/transfer-orders/{order['id']}/ship", headers=admin)
    body = {"lines": [{"sku": "SKU-1", "quantity": 7}], "close": True}
    got = client.post(f"{API}/transfer-orders/{order['id']}/receive", json=body, headers=receiver)
    assert got.status_code == 200, got.text
    short = got.json()["discrepancies"]
    assert [(d["kind"], d["quantity"], d["status"]) for d in short] == [("short", 3, "open")]
    assert got.json()["status"] == "partially_received"
    path = f"{API}/transfer-orders/{order['id']}/discrepancies/{short[0]['id']}/resolve"
    write_off = {"resolution": "write_off", "reason": "TRANSFER_SHORT"}
    before = row_counts(stocked)
    assert_problem(client.post(path, json=write_off, headers=receiver), 403)  # self-approval
    assert_problem(client.post(path, json=write_off, headers=operator), 403)  # no right
    assert_problem(
        client.post(path, json={"resolution": "accept", "reason": "X"}, headers=other), 422
    )
    assert row_counts(stocked) == before
    done = client.post(path, json=write_off, headers=other)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "received"
    assert done.json()["discrepancies"][0]["resolution"] == "write_off"
    assert _stock(client, admin, "WH2")["quantity_in_transit"] == 0
    assert_problem(client.post(path, json=write_off, headers=other), 409)  # once only
    assert _drift(stocked) == 0


def test_more_than_shipped_arrives_as_found_stock_and_damage_is_recorded(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    order = _transfer(client, h, 5)
    client.post(f"{API}/transfer-orders/{order['id']}/ship", headers=h)
    body = {
        "lines": [
            {"sku": "SKU-1", "quantity": 4},
            {"sku": "SKU-1", "quantity": 3, "status": "damaged", "reason": "DAMAGE"},
        ]
    }
    got = client.post(f"{API}/transfer-orders/{order['id']}/receive", json=body, headers=h)
    assert got.status_code == 200, got.text
    kinds = sorted((d["kind"], d["quantity"]) for d in got.json()["discrepancies"])
    assert kinds == [("damaged", 3), ("over", 2)]
    branch = _stock(client, h, "WH2")
    assert branch["quantity_on_hand"] == 70 + 7
    damaged = sum(b["quantity_on_hand"] for b in branch["breakdown"] if b["status"] == "damaged")
    assert damaged == 3
    assert _drift(stocked) == 0


def test_a_transfer_competes_with_the_hubs_sales_orders_by_priority(
    stocked: Database, client: TestClient
) -> None:
    """Nothing of SKU-2 ... is at the hub beyond what arrives: a customer order of the
    default priority (3) and a transfer (default 2) wait; 8 arrive and are put away: the
    transfer is served first, the order gets the rest; an urgent order (priority 1) would
    have beaten the transfer."""
    h = auth(make_user(stocked, "admin"))
    client.post(f"{API}/items", json={"sku": "NEW-1"}, headers=h)
    sales = client.post(f"{API}/sales-orders", json=order_body("WH1", 6, "NEW-1"), headers=h).json()
    client.post(f"{API}/sales-orders/{sales['id']}/allocate", headers=h)
    order = _transfer(client, h, 5, sku="NEW-1")
    allocated = client.post(f"{API}/transfer-orders/{order['id']}/allocate", headers=h)
    assert allocated.json()["lines"][0]["short_cause"] == "no_stock_at_site"
    receipt = {"site": "WH1", "lines": [{"sku": "NEW-1", "quantity": 8}]}
    assert client.post(f"{API}/receipts", json=receipt, headers=h).status_code == 201
    task = client.get(
        f"{API}/tasks", params={"site": "WH1", "type": "putaway", "status": "open"}, headers=h
    ).json()["items"][-1]
    confirm = client.post(
        f"{API}/tasks/{task['id']}/confirm", json={"location": task["to_location"]}, headers=h
    )
    assert confirm.status_code == 200, confirm.text
    transfer = client.get(f"{API}/transfer-orders/{order['id']}", headers=h).json()
    assert transfer["lines"][0]["quantity_allocated"] == 5
    line = client.get(f"{API}/sales-orders/{sales['id']}", headers=h).json()["lines"][0]
    assert line["quantity_allocated"] == 3
    shipped = client.post(f"{API}/transfer-orders/{order['id']}/ship", headers=h)
    assert shipped.json()["lines"][0]["quantity_shipped"] == 5
    assert _drift(stocked) == 0


def test_nothing_to_ship_is_a_conflict_that_writes_nothing(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    client.post(f"{API}/items", json={"sku": "NONE-1"}, headers=h)
    order = _transfer(client, h, 5, sku="NONE-1")
    before = row_counts(stocked)
    assert_problem(
        client.post(f"{API}/transfer-orders/{order['id']}/ship", headers=h), 409, "lines"
    )
    assert row_counts(stocked) == before
    assert client.get(f"{API}/transfer-orders/{order['id']}", headers=h).json()["status"] == (
        "confirmed"
    )


def test_bad_transfers_are_refused_naming_the_field(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    lines = [{"sku": "SKU-1", "quantity": 1}]
    cases = [
        ({"from_site": "WH1", "to_site": "WH1", "lines": lines}, "to_site"),
        ({"from_site": "WH1", "to_site": "NOPE", "lines": lines}, "to_site"),
        (
            {"from_site": "WH1", "to_site": "WH2", "lines": [{"sku": "X", "quantity": 1}]},
            "lines[0].sku",
        ),
        (
            {"from_site": "WH1", "to_site": "WH2", "lines": [{"sku": "SKU-1", "quantity": "1.5"}]},
            "lines[0].quantity",
        ),
        (
            {"from_site": "WH1", "to_site": "WH2", "lines": [{"sku": "SER-1", "quantity": 1}]},
            "lines[0].sku",
        ),
        ({"from_site": "WH1", "to_site": "WH2", "lines": lines, "priority": 9}, "priority"),
    ]
    before = row_counts(stocked)
    for body, field in cases:
        assert_problem(client.post(f"{API}/transfer-orders", json=body, headers=h), 422, field)
    assert row_counts(stocked) == before
    order = _transfer(client, h, 4)
    client.post(f"{API}/transfer-orders/{order['id']}/ship", headers=h)
    wrong = {"lines": [{"sku": "SKU-2", "quantity": 1}]}
    got = client.post(f"{API}/transfer-orders/{order['id']}/receive", json=wrong, headers=h)
    assert_problem(got, 422, "lines[0].sku")
    lot = {"lines": [{"sku": "SKU-1", "quantity": 1, "lot": "L-NONE"}]}
    got = client.post(f"{API}/transfer-orders/{order['id']}/receive", json=lot, headers=h)
    assert_problem(got, 422, "lines[0].lot")


def test_each_end_works_only_its_own_site(stocked: Database, client: TestClient) -> None:
    admin = auth(make_user(stocked, "admin"))
    order = _transfer(client, admin, 3)
    branch_only = auth(make_user(stocked, "warehouse_supervisor", ["WH2"]))
    hub_only = auth(make_user(stocked, "warehouse_supervisor", ["WH1"]))
    path = f"{API}/transfer-orders/{order['id']}"
    assert_problem(client.post(f"{path}/ship", headers=branch_only), 422, "from_site")
    assert client.post(f"{path}/ship", headers=hub_only).status_code == 200
    assert_problem(client.post(f"{path}/receive", headers=hub_only), 422, "to_site")
    assert client.post(f"{path}/receive", headers=branch_only).status_code == 200
    # Both ends see the order; a third site's user does not.
    assert client.get(path, headers=hub_only).status_code == 200
    body = {"from_site": "WH1", "to_site": "WH2", "lines": [{"sku": "SKU-1", "quantity": 1}]}
    assert_problem(
        client.post(f"{API}/transfer-orders", json=body, headers=hub_only), 422, "to_site"
    )
    with stocked.read() as conn:
        moved = conn.execute(
            sa.select(sa.func.count()).select_from(move).where(move.c.document_type == "receipt")
        ).scalar_one()
    assert moved >= 1


def test_a_draft_is_confirmed_before_it_ships_and_a_cancelled_order_releases_its_stock(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    from stockpilot.shared.actor import SYSTEM
    from stockpilot.transfers.transfer_orders import TransferLine, create_transfer_order

    with stocked.read() as conn:
        ids: dict[str, int] = dict(conn.execute(sa.text("SELECT code, id FROM site")).all())
        sku = conn.execute(sa.text("SELECT id FROM item WHERE sku = 'SKU-1'")).scalar_one()
    draft = stocked.run(
        lambda c: create_transfer_order(c, SYSTEM, ids["WH1"], ids["WH2"], [TransferLine(sku, 5)])
    )
    path = f"{API}/transfer-orders/{draft}"
    assert_problem(client.post(f"{path}/ship", headers=h), 409, "order_id")
    assert client.post(f"{path}/confirm", headers=h).json()["status"] == "confirmed"
    assert_problem(client.post(f"{path}/confirm", headers=h), 409, "order_id")
    available = _stock(client, h, "WH1")["quantity_available"]
    assert client.post(f"{path}/allocate", headers=h).json()["lines"][0]["quantity_allocated"] == 5
    assert _stock(client, h, "WH1")["quantity_available"] == available - 5
    assert client.post(f"{path}/cancel", headers=h).json()["status"] == "cancelled"
    assert _stock(client, h, "WH1")["quantity_available"] == available
    assert_problem(client.post(f"{path}/ship", headers=h), 409, "order_id")
