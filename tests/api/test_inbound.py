"""Inbound through HTTP, as a receiver and a buyer use it: a purchase order is created and
received, the stock waits at the dock with directed putaway tasks, a putaway is confirmed into
a bin; tolerances, approvals, scans and bad input."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.ledger.verify import verify
from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import balance, location
from stockpilot.persistence.warehouse_tables import item_gtin
from tests.api.conftest import assert_problem, auth, make_user, row_counts

API = "/api/v1"
# GTIN-14 of SKU-1 with a valid check digit (GS1 mod-10).
GTIN = "09506000134352"


@pytest.fixture
def world(client: TestClient, stocked: Database) -> dict[str, str]:
    admin = make_user(stocked, "admin")
    h = auth(admin)
    assert (
        client.post(API + "/suppliers", json={"code": "S1", "name": "First"}, headers=h).status_code
        == 201
    )
    for code, kind in (("DOCK-1", "dock"), ("R-01", "storage"), ("R-02", "storage")):
        body = {"site": "WH1", "code": code, "type": kind, "walk_sequence": 5}
        assert client.post(API + "/locations", json=body, headers=h).status_code == 201
    with stocked.engine.begin() as conn:
        item_id = conn.execute(sa.text("SELECT id FROM item WHERE sku = 'SKU-1'")).scalar_one()
        conn.execute(item_gtin.insert().values(gtin=GTIN, item_id=item_id))
    return {
        "admin": admin,
        "buyer": make_user(stocked, "buyer"),
        "receiver": make_user(stocked, "warehouse_operator", ["WH1"]),
        "supervisor": make_user(stocked, "warehouse_supervisor", ["WH1"]),
    }


def _po(client: TestClient, token: str, quantity: int = 100, **extra: Any) -> dict[str, Any]:
    body = {
        "site": "WH1",
        "supplier": "S1",
        "lines": [
            {
                "sku": "SKU-1",
                "quantity": quantity,
                "expected_date": "2026-12-01",
                "unit_price": "5.00",
            }
        ],
        **extra,
    }
    response = client.post(API + "/purchase-orders", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _on_hand(db: Database, code: str) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(balance.c.quantity_on_hand), 0))
                .join(location, location.c.id == balance.c.location_id)
                .where(location.c.code == code, location.c.site_id == 1)
            ).scalar_one()
        )


def test_a_purchase_order_is_received_to_the_dock_and_put_away_where_directed(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    po = _po(client, world["buyer"])
    assert po["status"] == "confirmed" and po["lines"][0]["id"] > 0
    receipt = client.post(
        API + "/receipts",
        json={
            "site": "WH1",
            "purchase_order": po["id"],
            "lines": [{"sku": "SKU-1", "quantity": 100}],
        },
        headers=auth(world["receiver"]),
    )
    assert receipt.status_code == 201, receipt.text
    body = receipt.json()
    assert body["purchase_order_status"] == "received"
    assert body["lines"][0]["location"] == "DOCK-1"
    assert _on_hand(stocked, "DOCK-1") == 100
    tasks = client.get(
        API + "/tasks",
        params={"site": "WH1", "type": "putaway", "status": "open"},
        headers=auth(world["receiver"]),
    ).json()["items"]
    assert [t["id"] for t in tasks] == body["putaway_tasks"]
    task = tasks[0]
    assert task["sku"] == "SKU-1" and task["quantity"] == 100 and task["from_location"] == "DOCK-1"
    assert task["to_location"] is not None and task["priority_reasons"]
    done = client.post(
        f"{API}/tasks/{task['id']}/confirm",
        json={"location": task["to_location"], "quantity": 100},
        headers=auth(world["receiver"]),
    )
    assert done.status_code == 200, done.text
    assert _on_hand(stocked, "DOCK-1") == 0
    assert _on_hand(stocked, task["to_location"]) >= 100
    before = row_counts(stocked)
    again = client.post(
        f"{API}/tasks/{task['id']}/confirm",
        json={"location": task["to_location"], "quantity": 100},
        headers=auth(world["receiver"]),
    )
    assert_problem(again, 409)
    assert row_counts(stocked) == before
    with stocked.read() as conn:
        assert verify(conn).ok


def test_a_putaway_into_another_bin_needs_a_reason(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    po = _po(client, world["buyer"], 10)
    receipt = client.post(
        API + "/receipts",
        json={
            "site": "WH1",
            "purchase_order": po["id"],
            "lines": [{"sku": "SKU-1", "quantity": 10}],
        },
        headers=auth(world["receiver"]),
    ).json()
    task = client.get(
        f"{API}/tasks/{receipt['putaway_tasks'][0]}", headers=auth(world["receiver"])
    ).json()
    other = "R-02" if task["to_location"] != "R-02" else "R-01"
    refused = client.post(
        f"{API}/tasks/{task['id']}/confirm",
        json={"location": other},
        headers=auth(world["receiver"]),
    )
    assert_problem(refused, 422, "reason")
    ok = client.post(
        f"{API}/tasks/{task['id']}/confirm",
        json={"location": other, "reason": "COUNT"},
        headers=auth(world["receiver"]),
    )
    assert ok.status_code == 200, ok.text
    assert _on_hand(stocked, other) == 10


def test_a_receipt_beyond_the_tolerance_is_refused_and_nothing_is_posted(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    po = _po(client, world["buyer"], 100)
    before = row_counts(stocked)
    over = client.post(
        API + "/receipts",
        json={
            "site": "WH1",
            "purchase_order": po["id"],
            "lines": [{"sku": "SKU-1", "quantity": 106}],
        },
        headers=auth(world["receiver"]),
    )
    assert_problem(over, 422, "lines[0].quantity")
    assert row_counts(stocked) == before
    within = client.post(
        API + "/receipts",
        json={
            "site": "WH1",
            "purchase_order": po["id"],
            "lines": [{"sku": "SKU-1", "quantity": 105}],
        },
        headers=auth(world["receiver"]),
    )
    assert within.status_code == 201, within.text


def test_an_over_receipt_needs_a_supervisor_who_is_not_the_receiver(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    po = _po(client, world["buyer"], 100)
    body = {"line_no": 1, "quantity": 20, "reason": "supplier sent a full pallet"}
    refused_role = client.post(
        f"{API}/purchase-orders/{po['id']}/over-receipt-approvals",
        json=body,
        headers=auth(world["receiver"]),
    )
    assert_problem(refused_role, 403)
    approved = client.post(
        f"{API}/purchase-orders/{po['id']}/over-receipt-approvals",
        json=body,
        headers=auth(world["supervisor"]),
    )
    assert approved.status_code == 200, approved.text
    receipt = {
        "site": "WH1",
        "purchase_order": po["id"],
        "lines": [{"sku": "SKU-1", "quantity": 120}],
    }
    self_approved = client.post(API + "/receipts", json=receipt, headers=auth(world["supervisor"]))
    assert_problem(self_approved, 403)
    ok = client.post(API + "/receipts", json=receipt, headers=auth(world["receiver"]))
    assert ok.status_code == 201, ok.text


def test_a_draft_purchase_order_cannot_be_received_until_confirmed(
    client: TestClient, world: dict[str, str]
) -> None:
    po = _po(client, world["buyer"], 5, status="draft")
    receipt = {
        "site": "WH1",
        "purchase_order": po["id"],
        "lines": [{"sku": "SKU-1", "quantity": 5}],
    }
    assert_problem(
        client.post(API + "/receipts", json=receipt, headers=auth(world["receiver"])), 409
    )
    confirmed = client.post(
        f"{API}/purchase-orders/{po['id']}/confirm", headers=auth(world["buyer"])
    )
    assert confirmed.json()["status"] == "confirmed"
    assert (
        client.post(API + "/receipts", json=receipt, headers=auth(world["receiver"])).status_code
        == 201
    )
    again = client.post(f"{API}/purchase-orders/{po['id']}/cancel", headers=auth(world["buyer"]))
    assert_problem(again, 409, "state")


def test_a_blind_receipt_into_a_bin_posts_as_before_without_putaway(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    line = {"sku": "SKU-1", "quantity": 3, "location": "A-01"}
    response = client.post(
        API + "/receipts", json={"site": "WH1", "lines": [line]}, headers=auth(world["receiver"])
    )
    assert response.status_code == 201, response.text
    assert response.json()["putaway_tasks"] == []


def test_a_scan_fills_the_line_and_a_bad_check_digit_names_the_field(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    good = {"scan": f"(01){GTIN}(30)12"}
    response = client.post(
        API + "/receipts", json={"site": "WH1", "lines": [good]}, headers=auth(world["receiver"])
    )
    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["sku"] == "SKU-1"
    assert response.json()["lines"][0]["quantity"] == 12
    before = row_counts(stocked)
    bad = {"scan": f"(01){GTIN[:-1]}9(30)12"}
    refused = client.post(
        API + "/receipts", json={"site": "WH1", "lines": [bad]}, headers=auth(world["receiver"])
    )
    assert_problem(refused, 422, "lines[0].scan.gtin")
    unknown = {"scan": "(01)09506000134369(30)1"}
    refused = client.post(
        API + "/receipts", json={"site": "WH1", "lines": [unknown]}, headers=auth(world["receiver"])
    )
    assert_problem(refused, 422, "lines[0].scan.gtin")
    assert row_counts(stocked) == before


def test_a_sku_not_on_the_purchase_order_is_refused(
    client: TestClient, world: dict[str, str]
) -> None:
    po = _po(client, world["buyer"], 5)
    receipt = {
        "site": "WH1",
        "purchase_order": po["id"],
        "lines": [{"sku": "SKU-2", "quantity": 5}],
    }
    assert_problem(
        client.post(API + "/receipts", json=receipt, headers=auth(world["receiver"])),
        422,
        "lines[0].sku",
    )


def test_purchase_orders_of_another_site_are_not_found(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    body = {"site": "WH2", "supplier": "S1", "lines": [{"sku": "SKU-1", "quantity": 1}]}
    po = client.post(API + "/purchase-orders", json=body, headers=auth(world["buyer"])).json()
    assert_problem(
        client.get(f"{API}/purchase-orders/{po['id']}", headers=auth(world["receiver"])), 404
    )
    listed = client.get(API + "/purchase-orders", headers=auth(world["receiver"])).json()["items"]
    assert all(p["site"] == "WH1" for p in listed)


def test_an_open_purchase_order_feeds_atp_at_its_expected_date_until_received(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    h = auth(world["admin"])
    params = {"sku": "SKU-1", "site": "WH1", "date": "2026-12-31"}
    before = client.get(API + "/atp", params=params, headers=h).json()
    po = _po(client, world["buyer"], 60)
    after = client.get(API + "/atp", params=params, headers=h).json()
    assert after["quantity_on_order"] == 60
    assert after["quantity_atp"] == before["quantity_atp"] + 60
    assert {"date": "2026-12-01", "demand": 0, "receipts": 60} in [
        {k: b[k] for k in ("date", "demand", "receipts")} for b in after["buckets"]
    ]
    receipt = {
        "site": "WH1",
        "purchase_order": po["id"],
        "lines": [{"sku": "SKU-1", "quantity": 60}],
    }
    assert (
        client.post(API + "/receipts", json=receipt, headers=auth(world["receiver"])).status_code
        == 201
    )
    received = client.get(API + "/atp", params=params, headers=h).json()
    assert received["quantity_on_order"] == 0
    assert received["quantity_available"] == before["quantity_available"] + 60


def test_an_accepted_purchase_proposal_becomes_a_draft_purchase_order(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    from stockpilot.inbound.purchase_orders import (
        DraftLine,
        PurchaseOrderDraft,
        create_purchase_order,
    )
    from stockpilot.shared.actor import SYSTEM

    order_id = stocked.run(
        lambda conn: create_purchase_order(
            conn,
            SYSTEM,
            PurchaseOrderDraft(site_id=1, supplier_id=1, lines=[DraftLine(1, 5)], status="draft"),
        )
    )
    body = client.get(f"{API}/purchase-orders/{order_id}", headers=auth(world["buyer"])).json()
    assert body["status"] == "draft" and body["lines"][0]["quantity_open"] == 5


def test_a_putaway_into_a_bin_of_the_wrong_temperature_class_is_refused_naming_the_bin(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    freezer = {"site": "WH1", "code": "F-01", "type": "storage", "temperature_class": "frozen"}
    assert (
        client.post(API + "/locations", json=freezer, headers=auth(world["admin"])).status_code
        == 201
    )
    po = _po(client, world["buyer"], 10)
    receipt = client.post(
        API + "/receipts",
        json={
            "site": "WH1",
            "purchase_order": po["id"],
            "lines": [{"sku": "SKU-1", "quantity": 10}],
        },
        headers=auth(world["receiver"]),
    ).json()
    task_id = receipt["putaway_tasks"][0]
    before = row_counts(stocked)
    refused = client.post(
        f"{API}/tasks/{task_id}/confirm",
        json={"location": "F-01", "reason": "COUNT"},
        headers=auth(world["receiver"]),
    )
    body = assert_problem(refused, 422, "location")
    assert "frozen" in body["detail"]
    assert row_counts(stocked) == before


@pytest.mark.parametrize("status", ["received", "closed", "partially_received"])
def test_no_route_sets_a_purchase_order_state_directly(
    client: TestClient, world: dict[str, str], status: str
) -> None:
    body = {
        "site": "WH1",
        "supplier": "S1",
        "status": status,
        "lines": [{"sku": "SKU-1", "quantity": 1}],
    }
    assert_problem(
        client.post(API + "/purchase-orders", json=body, headers=auth(world["buyer"])),
        422,
        "status",
    )
    po = _po(client, world["buyer"], 5)
    assert_problem(
        client.post(f"{API}/purchase-orders/{po['id']}/close", headers=auth(world["buyer"])),
        409,
        "state",
    )
    assert_problem(
        client.post(f"{API}/purchase-orders/{po['id']}/confirm", headers=auth(world["receiver"])),
        403,
    )


def test_a_backorder_is_allocated_when_its_stock_is_put_away(
    client: TestClient, stocked: Database, world: dict[str, str]
) -> None:
    h = auth(world["admin"])
    order = {"site": "WH1", "customer": "C1", "lines": [{"sku": "SKU-2", "quantity": 600}]}
    so = client.post(API + "/sales-orders", json=order, headers=h).json()
    first = client.post(f"{API}/sales-orders/{so['id']}/allocate", headers=h).json()
    assert first["lines"][0]["quantity_short"] == 100  # 500 of SKU-2 on hand at WH1
    body = {"site": "WH1", "supplier": "S1", "lines": [{"sku": "SKU-2", "quantity": 100}]}
    po = client.post(API + "/purchase-orders", json=body, headers=auth(world["buyer"])).json()
    receipt = {
        "site": "WH1",
        "purchase_order": po["id"],
        "lines": [{"sku": "SKU-2", "quantity": 100}],
    }
    task_id = client.post(API + "/receipts", json=receipt, headers=auth(world["receiver"])).json()[
        "putaway_tasks"
    ][0]
    assert (
        client.post(
            f"{API}/tasks/{task_id}/confirm", json={}, headers=auth(world["receiver"])
        ).status_code
        == 200
    )
    after = client.get(f"{API}/sales-orders/{so['id']}", headers=h).json()
    assert after["lines"][0]["quantity_allocated"] == 600
