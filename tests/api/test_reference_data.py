"""Reference data through the API: owners, zones, stock statuses and reason codes — created,
listed, edited where they are editable, audited, and used by the ledger at once."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import audit_log, outbox
from tests.api.conftest import assert_problem, auth, make_user, order_body

API = "/api/v1"


def _events(db: Database, action: str) -> tuple[int, int]:
    with db.read() as conn:
        audits = conn.execute(
            sa.select(sa.func.count()).select_from(audit_log).where(audit_log.c.action == action)
        ).scalar_one()
        events = conn.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.topic == action)
        ).scalar_one()
    return int(audits), int(events)


def test_a_new_owner_can_hold_stock_and_is_listed(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    created = client.post(f"{API}/companies", json={"code": "ACME", "name": "Acme"}, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "ACME"
    codes = [c["code"] for c in client.get(f"{API}/companies", headers=h).json()["items"]]
    assert "ACME" in codes and "OWN" in codes
    assert _events(stocked, "company.created") == (1, 1)
    receipt = {
        "site": "WH1",
        "lines": [{"sku": "SKU-2", "quantity": 4, "location": "A-02", "owner": "ACME"}],
    }
    assert client.post(f"{API}/receipts", json=receipt, headers=h).status_code == 201
    stock = client.get(f"{API}/stock?sku=SKU-2&site=WH1", headers=h).json()
    assert stock["quantity_on_hand"] == 504


def test_zones_are_per_site_and_locations_can_join_them(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    body = {"site": "WH1", "code": "HAZ", "name": "Hazmat cage", "hazard_class": "3"}
    created = client.post(f"{API}/zones", json=body, headers=h)
    assert created.status_code == 201, created.text
    assert created.json() | body == created.json()  # every field as sent
    again = client.post(f"{API}/zones", json=body, headers=h)
    assert_problem(again, 409, "code")
    other_site = client.post(f"{API}/zones", json={**body, "site": "WH2"}, headers=h)
    assert other_site.status_code == 201  # zone codes are unique within a site only
    bin_ = {"site": "WH1", "code": "H-01", "type": "storage", "zone": "HAZ"}
    assert client.post(f"{API}/locations", json=bin_, headers=h).status_code == 201
    wh1 = client.get(f"{API}/zones?site=WH1", headers=h).json()["items"]
    assert [(z["site"], z["code"]) for z in wh1] == [("WH1", "HAZ")]


def test_a_status_made_allocatable_is_allocated_from_and_back(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    created = client.post(
        f"{API}/statuses",
        json={"code": "returned", "description": "Customer return", "allocatable": False},
        headers=h,
    )
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    # Move all of WH2's SKU-1 into the new status: nothing there is allocatable any more.
    move = {
        "site": "WH2",
        "lines": [{"sku": "SKU-1", "quantity": 70, "location": "A-01", "to_status": "returned"}],
    }
    assert client.post(f"{API}/moves", json=move, headers=h).status_code == 201

    def allocate() -> int:
        order = client.post(f"{API}/sales-orders", json=order_body("WH2", 5), headers=h).json()
        result = client.post(f"{API}/sales-orders/{order['id']}/allocate", headers=h).json()
        return int(result["lines"][0]["quantity_allocated"])

    assert allocate() == 0
    stale = client.patch(
        f"{API}/statuses/returned", json={"allocatable": True}, headers={**h, "If-Match": '"7"'}
    )
    assert_problem(stale, 412, "If-Match")
    changed = client.patch(
        f"{API}/statuses/returned", json={"allocatable": True}, headers={**h, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["allocatable"] is True and changed.headers["ETag"] == '"2"'
    assert allocate() == 5
    assert _events(stocked, "status.updated") == (1, 1)
    listed = client.get(f"{API}/statuses", headers=h).json()["items"]
    assert {s["code"]: s["allocatable"] for s in listed}["returned"] is True


def test_status_edits_need_if_match_and_a_real_change(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    assert_problem(client.patch(f"{API}/statuses/hold", json={"description": "x"}, headers=h), 428)
    star = {**h, "If-Match": "*"}
    assert_problem(client.patch(f"{API}/statuses/hold", json={}, headers=star), 422, "body")
    nulled = client.patch(f"{API}/statuses/hold", json={"allocatable": None}, headers=star)
    assert_problem(nulled, 422, "allocatable")
    unknown = client.patch(f"{API}/statuses/nope", json={"description": "x"}, headers=star)
    assert_problem(unknown, 404)
    assert_problem(client.get(f"{API}/statuses/nope", headers=h), 404)


def test_a_new_reason_code_is_accepted_by_adjustments(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    adjustment = {
        "site": "WH1",
        "reason": "SHRINK",
        "lines": [{"sku": "SKU-1", "quantity": -3, "location": "A-01"}],
    }
    assert_problem(client.post(f"{API}/adjustments", json=adjustment, headers=h), 422, "reason")
    created = client.post(
        f"{API}/reason-codes",
        json={"code": "SHRINK", "description": "Unexplained loss", "kind": "adjustment"},
        headers=h,
    )
    assert created.status_code == 201, created.text
    assert client.post(f"{API}/adjustments", json=adjustment, headers=h).status_code == 201
    kinds = client.get(f"{API}/reason-codes?kind=adjustment", headers=h).json()["items"]
    assert "SHRINK" in {r["code"] for r in kinds}
    assert {r["kind"] for r in kinds} == {"adjustment"}
    assert _events(stocked, "reason_code.created") == (1, 1)


def test_an_item_family_is_set_searched_and_changed(db: Database, client: TestClient) -> None:
    h = auth(make_user(db, "admin"))
    made = client.post("/api/v1/items", json={"sku": "FAM-1", "family": "Fasteners"}, headers=h)
    assert made.status_code == 201, made.text
    assert made.json()["family"] == "Fasteners"
    client.post("/api/v1/items", json={"sku": "FAM-2"}, headers=h)
    found = client.get("/api/v1/items", params={"q": "fasteners"}, headers=h).json()["items"]
    assert [i["sku"] for i in found] == ["FAM-1"]
    changed = client.patch(
        "/api/v1/items/FAM-2", json={"family": "fasteners"}, headers={**h, "If-Match": "*"}
    )
    assert changed.status_code == 200, changed.text
    found = client.get("/api/v1/items", params={"q": "FASTENERS"}, headers=h).json()["items"]
    assert [i["sku"] for i in found] == ["FAM-1", "FAM-2"]
    bad = client.post("/api/v1/items", json={"sku": "FAM-3", "family": ""}, headers=h)
    assert bad.status_code == 422 and bad.json()["field"] == "family"
