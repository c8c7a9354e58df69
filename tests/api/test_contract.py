"""The HTTP contract that integrators and the acceptance tests rely on, end to end."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import assert_problem, auth, make_user, order_body

API = "/api/v1"


def test_an_order_is_created_allocated_and_read_back(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "integration"))
    created = client.post(f"{API}/sales-orders", json=order_body(quantity=1), headers=h)
    assert created.status_code == 201
    order = created.json()
    assert {"id", "number", "site", "customer", "status", "lines"} <= order.keys()
    assert (order["site"], order["customer"], order["status"]) == ("WH1", "C1", "open")

    allocated = client.post(f"{API}/sales-orders/{order['id']}/allocate", headers=h)
    assert allocated.status_code == 200
    line = allocated.json()["lines"][0]
    assert (line["line_no"], line["sku"], line["quantity"]) == (1, "SKU-1", 1)
    assert (line["quantity_allocated"], line["quantity_short"]) == (1, 0)

    read = client.get(f"{API}/sales-orders/{order['id']}", headers=h)
    assert read.status_code == 200
    assert [
        (ln["sku"], ln["quantity"], ln["quantity_allocated"]) for ln in read.json()["lines"]
    ] == [("SKU-1", 1, 1)]


def test_allocation_reports_the_shortage_of_each_line(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    order = client.post(f"{API}/sales-orders", json=order_body(quantity=150), headers=h).json()
    lines = client.post(f"{API}/sales-orders/{order['id']}/allocate", headers=h).json()["lines"]
    assert (lines[0]["quantity_allocated"], lines[0]["quantity_short"]) == (140, 10)


def test_stock_query_gives_totals_and_breakdown(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "warehouse_operator"))
    response = client.get(f"{API}/stock", params={"sku": "SKU-1", "site": "WH1"}, headers=h)
    assert response.status_code == 200
    body = response.json()
    assert (body["quantity_on_hand"], body["quantity_allocated"], body["quantity_available"]) == (
        140,
        0,
        140,
    )
    assert sorted((r["location"], r["lot"], r["status"]) for r in body["breakdown"]) == [
        ("A-01", None, "available"),
        ("A-02", None, "available"),
    ]


def test_pick_posts_the_allocation_and_release_returns_the_rest(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "warehouse_supervisor"))
    first = client.post(f"{API}/sales-orders", json=order_body(quantity=5), headers=h).json()
    client.post(f"{API}/sales-orders/{first['id']}/allocate", headers=h)
    allocs = client.get(f"{API}/sales-orders/{first['id']}/allocations", headers=h).json()["items"]
    assert [(a["quantity"], a["state"]) for a in allocs] == [(5, "open")]
    picks = {"picks": [{"allocation_id": allocs[0]["id"], "quantity": 3}]}
    picked = client.post(f"{API}/sales-orders/{first['id']}/pick", json=picks, headers=h)
    assert picked.status_code == 200
    assert (picked.json()["quantity_posted"], picked.json()["quantity_released"]) == (3, 2)

    second = client.post(f"{API}/sales-orders", json=order_body(quantity=4), headers=h).json()
    client.post(f"{API}/sales-orders/{second['id']}/allocate", headers=h)
    released = client.post(f"{API}/sales-orders/{second['id']}/release", headers=h)
    assert released.json()["quantity_released"] == 4
    stock = client.get(f"{API}/stock", params={"sku": "SKU-1", "site": "WH1"}, headers=h).json()
    assert (stock["quantity_on_hand"], stock["quantity_allocated"]) == (137, 0)


def test_receipt_move_and_adjustment_post_to_the_ledger(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"))
    receipt = client.post(
        f"{API}/receipts",
        json={
            "site": "WH1",
            "lines": [{"sku": "SKU-1", "quantity": 2, "uom": "CS", "location": "B-01"}],
        },
        headers=h,
    )
    assert receipt.status_code == 201
    assert (receipt.json()["site"], receipt.json()["quantity"]) == ("WH1", 24)
    assert receipt.json()["lines"][0]["sku"] == "SKU-1"

    moved = client.post(
        f"{API}/moves",
        json={
            "site": "WH1",
            "lines": [{"sku": "SKU-1", "quantity": 4, "location": "B-01", "to_location": "A-02"}],
        },
        headers=h,
    )
    assert moved.status_code == 201
    status_change = client.post(
        f"{API}/moves",
        json={
            "site": "WH1",
            "lines": [
                {"sku": "SKU-1", "quantity": 1, "location": "A-02", "to_status": "quarantine"}
            ],
        },
        headers=h,
    )
    assert status_change.json()["document_type"] == "status_change"
    adjusted = client.post(
        f"{API}/adjustments",
        json={
            "site": "WH1",
            "reason": "DAMAGE",
            "lines": [{"sku": "SKU-1", "quantity": -3, "location": "B-01"}],
        },
        headers=h,
    )
    assert adjusted.status_code == 201, adjusted.text

    stock = client.get(f"{API}/stock", params={"sku": "SKU-1", "site": "WH1"}, headers=h).json()
    by_key = {(r["location"], r["status"]): r["quantity_on_hand"] for r in stock["breakdown"]}
    assert by_key == {
        ("A-01", "available"): 100,
        ("A-02", "available"): 43,
        ("A-02", "quarantine"): 1,
        ("B-01", "available"): 17,
    }
    moves = client.get(f"{API}/moves", params={"sku": "SKU-1", "site": "WH1"}, headers=h).json()
    assert {m["document_type"] for m in moves["items"]} >= {"receipt", "move", "adjustment"}
    verify = client.get(f"{API}/ledger/verify", headers=h).json()
    assert verify["ok"] is True and verify["drifts"] == []
    assert verify["moves_checked"] >= 8


def test_atp_subtracts_open_demand(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    client.post(f"{API}/sales-orders", json=order_body(quantity=30), headers=h)
    atp = client.get(
        f"{API}/atp", params={"sku": "SKU-1", "site": "WH1", "date": "2100-01-01"}, headers=h
    )
    assert atp.status_code == 200
    assert (atp.json()["quantity_available"], atp.json()["quantity_atp"]) == (140, 110)


def test_master_data_can_be_created_and_listed(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    site = client.post(f"{API}/sites", json={"code": "WH9", "kind": "branch"}, headers=h)
    assert site.status_code == 201 and site.json()["code"] == "WH9"
    loc = client.post(
        f"{API}/locations",
        json={"site": "WH9", "code": "Z-01", "type": "storage", "zone": "Z", "capacity": 10},
        headers=h,
    )
    assert loc.status_code == 201, loc.text
    assert (loc.json()["site"], loc.json()["code"], loc.json()["type"]) == (
        "WH9",
        "Z-01",
        "storage",
    )
    listed = client.get(f"{API}/locations", params={"site": "WH9"}, headers=h).json()["items"]
    assert [row["code"] for row in listed] == ["Z-01"]

    supplier = client.post(f"{API}/suppliers", json={"code": "S1", "name": "Acme"}, headers=h)
    assert supplier.status_code == 201
    item = client.post(
        f"{API}/items",
        json={
            "sku": "NEW-1",
            "supplier": "S1",
            "unit_cost": "2.50",
            "units": [{"uom": "CS", "factor": 6}],
        },
        headers=h,
    )
    assert item.status_code == 201, item.text
    assert item.headers["ETag"] == '"1"'
    assert (item.json()["supplier"], item.json()["unit_cost"]) == ("S1", "2.500000")
    customer = client.post(f"{API}/customers", json={"code": "C9", "name": "Nine"}, headers=h)
    assert customer.status_code == 201
    codes = [c["code"] for c in client.get(f"{API}/customers", headers=h).json()["items"]]
    assert codes == ["C1", "C2", "C9"]


def test_a_new_user_gets_a_token_that_works(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    created = client.post(
        f"{API}/users",
        json={"name": "olga", "role": "warehouse_operator", "sites": ["WH1"]},
        headers=h,
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["role"], body["sites"], body["all_sites"]) == (
        "warehouse_operator",
        ["WH1"],
        False,
    )
    mine = client.get(f"{API}/stock", params={"sku": "SKU-1"}, headers=auth(body["token"]))
    assert {r["site"] for r in mine.json()["breakdown"]} == {"WH1"}
    users = client.get(f"{API}/users", headers=h).json()["items"]
    assert "olga" in [u["name"] for u in users]
    assert all("token" not in u for u in users)


def test_audit_log_shows_who_did_what(stocked: Database, client: TestClient) -> None:
    token = make_user(stocked, "admin")
    client.post(f"{API}/sales-orders", json=order_body(), headers=auth(token))
    rows = client.get(
        f"{API}/audit", params={"action": "sales_order.created"}, headers=auth(token)
    ).json()["items"]
    assert len(rows) == 1
    assert rows[0]["user"].startswith("admin-") and rows[0]["site"] == "WH1"


def test_a_foreign_site_reads_as_unknown_for_reads_and_writes_alike(
    stocked: Database, client: TestClient
) -> None:
    admin = auth(make_user(stocked, "admin"))
    wh1 = auth(make_user(stocked, "warehouse_supervisor", ["WH1"]))
    order = client.post(f"{API}/sales-orders", json=order_body("WH2"), headers=admin).json()
    assert_problem(client.get(f"{API}/sales-orders/{order['id']}", headers=wh1), 404)
    assert_problem(client.post(f"{API}/sales-orders/{order['id']}/allocate", headers=wh1), 404)
    foreign_order = client.post(f"{API}/sales-orders", json=order_body("WH2"), headers=wh1)
    assert_problem(foreign_order, 422, "site")
    receipt = {"site": "WH2", "lines": [{"sku": "SKU-1", "quantity": 1, "location": "A-01"}]}
    assert_problem(client.post(f"{API}/receipts", json=receipt, headers=wh1), 422, "site")
    assert_problem(
        client.get(f"{API}/atp", params={"sku": "SKU-1", "site": "WH2"}, headers=wh1), 422, "site"
    )


def test_openapi_schema_is_served(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/sales-orders/{order_id}/allocate" in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_the_app_opens_its_own_database_from_settings_while_it_runs(db: Database) -> None:
    from stockpilot.api.app import create_app
    from tests.api.conftest import api_settings

    url = db.url.render_as_string(hide_password=False)
    token = make_user(db, "auditor")
    app = create_app(settings=api_settings(database_url=url))
    assert_problem(TestClient(app).get(f"{API}/items", headers=auth(token)), 503)
    with TestClient(app) as running:
        assert running.get(f"{API}/items", headers=auth(token)).status_code == 200
    assert app.state.db is None


def test_verify_speaks_of_the_callers_sites(stocked: Database, client: TestClient) -> None:
    import sqlalchemy as sa

    from stockpilot.persistence.tables import balance, location, site

    with stocked.transaction() as conn:  # corrupt a WH2 balance behind the ledger's back
        wh2 = set(
            conn.execute(
                sa.select(location.c.id)
                .join(site, site.c.id == location.c.site_id)
                .where(site.c.code == "WH2")
            ).scalars()
        )
        conn.execute(
            sa.update(balance)
            .where(balance.c.location_id.in_(wh2), ~balance.c.is_virtual)
            .values(quantity_on_hand=balance.c.quantity_on_hand + 1)
        )
    everyone = client.get(
        f"{API}/ledger/verify", headers=auth(make_user(stocked, "inventory_controller"))
    ).json()
    assert everyone["ok"] is False and everyone["drifts"]
    assert {d["location_id"] for d in everyone["drifts"]} <= wh2
    wh1 = auth(make_user(stocked, "inventory_controller", ["WH1"]))
    mine = client.get(f"{API}/ledger/verify", headers=wh1).json()
    assert (mine["ok"], mine["drifts"]) == (True, [])
