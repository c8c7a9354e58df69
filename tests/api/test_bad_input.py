"""Bad input gets a 4xx problem naming the field — never a 500 — and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import assert_problem, auth, make_user, order_body, row_counts

API = "/api/v1"


def _receipt(**line: Any) -> dict[str, Any]:
    return {"site": "WH1", "lines": [{"sku": "SKU-1", "quantity": 1, "location": "A-01", **line}]}


def _adjustment(**line: Any) -> dict[str, Any]:
    first: dict[str, Any] = {"sku": "SKU-1", "quantity": 1, "location": "A-01", **line}
    return {"site": "WH1", "reason": "COUNT", "lines": [first]}


BAD_WRITES: list[tuple[str, str, Any, int, str]] = [
    # (label, path, json body, status, field)
    ("quantity is text", "/sales-orders", order_body(quantity="many"), 422, "lines[0].quantity"),
    ("quantity is negative", "/sales-orders", order_body(quantity=-1), 422, "lines[0].quantity"),
    ("quantity is zero", "/sales-orders", order_body(quantity=0), 422, "lines[0].quantity"),
    ("fractional base unit", "/sales-orders", order_body(quantity=1.5), 422, "lines[0].quantity"),
    ("quantity is a list", "/sales-orders", order_body(quantity=[1]), 422, "lines[0].quantity"),
    ("huge quantity", "/sales-orders", order_body(quantity=10**22), 422, "lines[0].quantity"),
    ("unknown sku", "/sales-orders", order_body(sku="NOPE"), 422, "lines[0].sku"),
    ("unknown site", "/sales-orders", order_body(site="NOPE"), 422, "site"),
    (
        "unknown customer",
        "/sales-orders",
        {**order_body(), "customer": "NOPE"},
        422,
        "customer",
    ),
    ("no lines", "/sales-orders", {**order_body(), "lines": []}, 422, "lines"),
    ("unknown field", "/sales-orders", {**order_body(), "colour": "red"}, 422, "colour"),
    ("site is a number", "/sales-orders", {**order_body(), "site": 7}, 422, "site"),
    ("body is a list", "/sales-orders", [order_body()], 422, "body"),
    ("unknown location", "/receipts", _receipt(location="Z-99"), 422, "lines[0].location"),
    ("virtual location", "/receipts", _receipt(location="@SUPPLIER"), 422, "lines[0].location"),
    ("unknown unit", "/receipts", _receipt(uom="PALLET"), 422, "lines[0].uom"),
    ("unknown status", "/receipts", _receipt(status="lost"), 422, "lines[0].status"),
    ("negative cost", "/receipts", _receipt(unit_cost=-1), 422, "lines[0].unit_cost"),
    ("bad date", "/receipts", _receipt(expiry_date="31/12/2030"), 422, "lines[0].expiry_date"),
    ("lot on a plain item", "/receipts", _receipt(lot="L1"), 422, "lines[0].lot"),
    ("lot item without lot", "/receipts", _receipt(sku="LOT-1"), 422, "lines[0].lot"),
    ("serials missing", "/receipts", _receipt(sku="SER-1", quantity=2), 422, "lines[0].serials"),
    ("unknown reason", "/adjustments", {**_adjustment(), "reason": "WHIM"}, 422, "reason"),
    ("zero adjustment", "/adjustments", _adjustment(quantity=0), 422, "lines[0].quantity"),
    ("adjust below zero", "/adjustments", _adjustment(quantity=-1000), 409, "lines[0].quantity"),
    (
        "move more than on hand",
        "/moves",
        {
            "site": "WH1",
            "lines": [{"sku": "SKU-1", "quantity": 999, "location": "A-01", "to_location": "A-02"}],
        },
        409,
        "lines[0].quantity",
    ),
    (
        "location of unknown site",
        "/locations",
        {"site": "NOPE", "code": "X", "type": "pick"},
        422,
        "site",
    ),
    (
        "location of bad type",
        "/locations",
        {"site": "WH1", "code": "X", "type": "moon"},
        422,
        "type",
    ),
    (
        "reserved location code",
        "/locations",
        {"site": "WH1", "code": "@X", "type": "pick"},
        422,
        "code",
    ),
    (
        "duplicate location",
        "/locations",
        {"site": "WH1", "code": "A-01", "type": "pick"},
        409,
        "code",
    ),
    ("duplicate item", "/items", {"sku": "SKU-1"}, 409, "sku"),
    ("item of unknown supplier", "/items", {"sku": "N-1", "supplier": "NOPE"}, 422, "supplier"),
    ("item with bad pack size", "/items", {"sku": "N-1", "pack_size": 0}, 422, "pack_size"),
    ("bad sku code", "/items", {"sku": "?bad"}, 422, "sku"),
    (
        "customer priority",
        "/customers",
        {"code": "C5", "name": "x", "priority": 99},
        422,
        "priority",
    ),
    ("site kind", "/sites", {"code": "W5", "kind": "moon"}, 422, "kind"),
    (
        "infinite lead time",
        "/suppliers",
        '{"code": "S9", "name": "x", "lead_time_days": Infinity}',  # JSON as Python writes it
        422,
        "lead_time_days",
    ),
    (
        "lead time not a number",
        "/suppliers",
        '{"code": "S9", "name": "x", "lead_time_std_days": NaN}',
        422,
        "lead_time_std_days",
    ),
    ("infinite cost", "/receipts", _receipt(unit_cost="Infinity"), 422, "lines[0].unit_cost"),
    (
        "quantity not a number",
        "/sales-orders",
        order_body(quantity="NaN"),
        422,
        "lines[0].quantity",
    ),
    ("duplicate company", "/companies", {"code": "OWN", "name": "again"}, 409, "code"),
    ("company without name", "/companies", {"code": "CO2"}, 422, "name"),
    ("zone of unknown site", "/zones", {"site": "NOPE", "code": "Z"}, 422, "site"),
    ("zone code too long", "/zones", {"site": "WH1", "code": "Z" * 41}, 422, "code"),
    (
        "duplicate status",
        "/statuses",
        {"code": "available", "allocatable": True},
        409,
        "code",
    ),
    ("status without allocatable", "/statuses", {"code": "blocked"}, 422, "allocatable"),
    ("status code shape", "/statuses", {"code": "Blocked!", "allocatable": False}, 422, "code"),
    (
        "allocatable is text",
        "/statuses",
        {"code": "blocked", "allocatable": "perhaps"},
        422,
        "allocatable",
    ),
    ("duplicate reason", "/reason-codes", {"code": "COUNT"}, 409, "code"),
    ("reason code shape", "/reason-codes", {"code": "count me"}, 422, "code"),
    ("user role", "/users", {"name": "z", "role": "king"}, 422, "role"),
    (
        "user of unknown site",
        "/users",
        {"name": "z", "role": "auditor", "sites": ["NOPE"]},
        422,
        "site",
    ),
    (
        "pick unknown allocation",
        "/sales-orders/{order}/pick",
        {"picks": [{"allocation_id": 999999, "quantity": 1}]},
        422,
        "picks",
    ),
    (
        "pick negative",
        "/sales-orders/{order}/pick",
        {"picks": [{"allocation_id": 1, "quantity": -1}]},
        422,
        "picks[0].quantity",
    ),
]


@pytest.fixture
def admin(stocked: Database) -> dict[str, str]:
    return auth(make_user(stocked, "admin"))


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [case[1:] for case in BAD_WRITES],
    ids=[case[0] for case in BAD_WRITES],
)
def test_bad_writes_are_refused_naming_the_field_and_write_nothing(
    stocked: Database,
    client: TestClient,
    admin: dict[str, str],
    path: str,
    body: Any,
    status: int,
    field: str,
) -> None:
    order = client.post(f"{API}/sales-orders", json=order_body(), headers=admin).json()
    before = row_counts(stocked)
    url = API + path.format(order=order["id"])
    if isinstance(body, str):  # sent as written: what a JSON encoder could not produce
        sent = {**admin, "Content-Type": "application/json"}
        response = client.post(url, content=body, headers=sent)
    else:
        response = client.post(url, json=body, headers=admin)
    assert_problem(response, status, field)
    assert row_counts(stocked) == before


def test_one_bad_line_refuses_the_whole_document(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = row_counts(stocked)
    lines = [{"sku": "SKU-1", "quantity": 1, "location": "A-01"}] * 3
    lines.append({"sku": "SKU-1", "quantity": 1, "location": "NOWHERE"})
    response = client.post(f"{API}/receipts", json={"site": "WH1", "lines": lines}, headers=admin)
    assert_problem(response, 422, "lines[3].location")
    assert row_counts(stocked) == before


@pytest.mark.parametrize("path", ["/sales-orders", "/receipts", "/moves", "/adjustments"])
def test_an_oversize_batch_is_refused(
    stocked: Database, client: TestClient, admin: dict[str, str], path: str
) -> None:
    line = {"sku": "SKU-1", "quantity": 1, "location": "A-01", "to_location": "A-02"}
    if path == "/sales-orders":
        line = {"sku": "SKU-1", "quantity": 1}
    elif path != "/moves":
        line.pop("to_location")
    body: dict[str, Any] = {
        "site": "WH1",
        "customer": "C1",
        "reason": "COUNT",
        "lines": [line] * 51,
    }
    for unused in {"/sales-orders": ("reason",), "/adjustments": ("customer",)}.get(
        path, ("reason", "customer")
    ):
        body.pop(unused)
    before = row_counts(stocked)
    assert_problem(client.post(API + path, json=body, headers=admin), 422, "lines")
    assert row_counts(stocked) == before


def test_an_oversize_body_is_refused_before_it_is_read(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = row_counts(stocked)
    big = {
        "site": "WH1",
        "customer": "C1",
        "lines": [{"sku": "SKU-1", "quantity": 1}],
        "pad": "x" * 70_000,
    }
    assert_problem(client.post(f"{API}/sales-orders", json=big, headers=admin), 413, "body")

    def chunks() -> Any:  # no Content-Length: the limit is enforced while reading
        for _ in range(20):
            yield b" " * 8192

    chunked = client.post(
        f"{API}/sales-orders",
        content=chunks(),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert_problem(chunked, 413, "body")
    assert row_counts(stocked) == before


def test_malformed_json_is_a_problem_naming_the_body(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = row_counts(stocked)
    for raw in (b'{"site": "WH1", ', b"", b"null", b"\xff\xfe"):
        response = client.post(
            f"{API}/sales-orders",
            content=raw,
            headers={**admin, "Content-Type": "application/json"},
        )
        assert_problem(response, 422, "body")
    assert row_counts(stocked) == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/items?limit=501", "limit"),
        ("/items?limit=0", "limit"),
        ("/items?limit=ten", "limit"),
        ("/moves?cursor=not-a-cursor", "cursor"),
        ("/moves?cursor=eyJpZCI6ICJ4In0", "cursor"),
        ("/moves?sku=NOPE", "sku"),
        ("/stock?sku=NOPE", "sku"),
        ("/stock", "sku"),
        ("/atp?sku=SKU-1&site=WH1&date=tomorrow", "date"),
        ("/audit?since=yesterday", "since"),
        ("/audit?site=NOPE", "site"),
    ],
)
def test_bad_queries_are_refused_naming_the_parameter(
    stocked: Database, client: TestClient, admin: dict[str, str], query: str, field: str
) -> None:
    assert_problem(client.get(API + query, headers=admin), 422, field)


def test_unknown_routes_and_methods_are_problems(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    assert_problem(client.get(f"{API}/nothing-here", headers=admin), 404)
    assert_problem(client.delete(f"{API}/items", headers=admin), 405)
    assert_problem(client.get(f"{API}/sales-orders/999999", headers=admin), 404)
    assert_problem(client.get(f"{API}/items/NOPE", headers=admin), 404, "sku")


def test_an_unexpected_error_is_a_500_problem_without_internals(db: Database) -> None:
    from stockpilot.api.app import create_app
    from tests.api.conftest import api_settings

    app = create_app(db, api_settings())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.text and body["detail"]


@pytest.mark.parametrize("path", ["/sales-orders/abc", "/proposals/abc", "/scenarios/-1"])
def test_an_id_that_is_not_a_number_names_no_resource(
    client: TestClient, stocked: Database, path: str
) -> None:
    """Ids in paths are digits: anything else is no resource at all (404), which also lets
    ``GET /proposals/accept`` be the 405 of a POST-only action rather than a bad id."""
    token = make_user(stocked, "admin")
    assert_problem(client.get(API + path, headers=auth(token)), 404)
