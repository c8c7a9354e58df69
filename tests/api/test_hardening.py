"""What fuzzing the API found, each kept fixed: bounded refusals, quantities that cannot
overflow the ledger, one answer for sites out of scope, strict types, and a document that
says what the API does."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.ledger import operations
from stockpilot.ledger.verify import verify
from stockpilot.persistence import tables
from stockpilot.persistence.db import Database
from stockpilot.shared.actor import SYSTEM
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import MAX_BALANCE, MAX_ERRORS, MAX_QUANTITY
from tests.api.conftest import api_settings, assert_problem, auth, make_user, row_counts

API = "/api/v1"
OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def admin(stocked: Database) -> str:
    return make_user(stocked, "admin")


def _empty_lines(n: int) -> bytes:
    return json.dumps({"site": "WH1", "lines": [{}] * n}).encode()


# --- 1. refusing bad input costs little ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/receipts", "/moves", "/adjustments", "/sales-orders"])
def test_a_document_of_many_empty_lines_is_refused_with_a_bounded_list_of_errors(
    client: TestClient, admin: str, path: str
) -> None:
    body = json.dumps({"site": "WH1", "reason": "COUNT", "customer": "C1", "lines": [{}] * 3000})
    response = client.post(
        API + path, content=body, headers=auth(admin, **{"content-type": "application/json"})
    )
    problem = assert_problem(response, 422)
    assert 1 <= len(problem["errors"]) <= MAX_ERRORS
    if path != "/receipts":  # a receipt line may be only a scan: its refusal is the service's
        # Validation stops at the first invalid line: the refusal names line 0 and says so.
        assert problem["field"].startswith("lines[0]"), problem
        assert "first invalid one" in problem["detail"], problem["detail"]


def test_a_document_longer_than_any_batch_is_refused_as_one_error_naming_lines(
    stocked: Database, admin: str
) -> None:
    """100,000 empty lines (a 300 KB body, under the production body limit) once froze the
    server for minutes: the schema now refuses the list by its length, before its lines."""
    with TestClient(create_app(stocked, api_settings(max_body_bytes=4 * 2**20))) as client:
        response = client.post(
            API + "/receipts",
            content=_empty_lines(100_000),
            headers=auth(admin, **{"content-type": "application/json"}),
        )
    problem = assert_problem(response, 422, "lines")
    assert len(problem["errors"]) == 1


def test_the_pick_of_many_empty_picks_is_refused_with_a_bounded_list(
    client: TestClient, admin: str
) -> None:
    response = client.post(
        API + "/sales-orders/1/pick", json={"picks": [{}] * 5000}, headers=auth(admin)
    )
    problem = assert_problem(response, 422)
    assert len(problem["errors"]) <= MAX_ERRORS


# --- 2. quantities cannot overflow the ledger ---------------------------------------------------


def _pallet_item(client: TestClient, token: str, factor: Any) -> Any:
    return client.post(
        API + "/items",
        json={"sku": "PAL-ITEM", "units": [{"uom": "PAL", "factor": factor}]},
        headers=auth(token),
    )


def test_a_unit_factor_beyond_a_billion_base_units_is_refused(
    client: TestClient, admin: str
) -> None:
    assert_problem(_pallet_item(client, admin, 10**15), 422, "units[0].factor")


def test_the_quantity_limit_holds_in_base_units_after_conversion(
    client: TestClient, admin: str, stocked: Database
) -> None:
    assert _pallet_item(client, admin, 10**9).status_code == 201
    line = {"sku": "PAL-ITEM", "uom": "PAL", "location": "A-01"}
    ok = client.post(
        API + "/receipts",
        json={"site": "WH1", "lines": [{**line, "quantity": 10**6}]},
        headers=auth(admin),
    )
    assert ok.status_code == 201, ok.text
    before = row_counts(stocked)
    over = client.post(
        API + "/receipts",
        json={"site": "WH1", "lines": [{**line, "quantity": 10**6 + 1}]},
        headers=auth(admin),
    )
    assert_problem(over, 422, "lines[0].quantity")
    assert row_counts(stocked) == before


def test_the_documented_limit_of_ten_to_the_fifteen_is_accepted(
    client: TestClient, admin: str
) -> None:
    line = {"sku": "SKU-1", "location": "A-01", "quantity": MAX_QUANTITY}
    response = client.post(
        API + "/receipts", json={"site": "WH1", "lines": [line]}, headers=auth(admin)
    )
    assert response.status_code == 201, response.text
    line["quantity"] = MAX_QUANTITY + 1
    response = client.post(
        API + "/receipts", json={"site": "WH1", "lines": [line]}, headers=auth(admin)
    )
    assert_problem(response, 422, "lines[0].quantity")


def test_no_balance_can_be_pushed_beyond_its_range_and_verify_stays_clean(
    stocked: Database,
) -> None:
    """1,001 receipts of 10^15 into one bin: the last is refused whole, nothing overflows."""
    line = operations.StockLine("SKU-1", MAX_QUANTITY, "A-02", "WH1")

    def receive_many(n: int) -> None:
        stocked.run(lambda conn: operations.receive(conn, SYSTEM, "WH1", [line] * n))

    receive_many(999)
    with pytest.raises(ValidationFailed) as refused:
        receive_many(2)
    assert refused.value.field == "lines"
    with stocked.read() as conn:
        on_hand = conn.execute(
            sa.select(sa.func.max(tables.balance.c.quantity_on_hand))
        ).scalar_one()
        assert isinstance(on_hand, int) and on_hand <= MAX_BALANCE
        assert verify(conn).ok


def test_the_database_itself_refuses_a_balance_out_of_range(stocked: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError), stocked.engine.begin() as conn:
        conn.execute(sa.update(tables.balance).values(quantity_on_hand=MAX_BALANCE + 1))


# --- 3. and 4. planning by a site-bound user; bounded override quantities ----------------------


def test_a_planner_bound_to_one_site_may_not_start_a_network_wide_run(
    client: TestClient, stocked: Database
) -> None:
    planner = make_user(stocked, "planner", ["WH1"])
    before = row_counts(stocked)
    response = client.post(API + "/planning-runs", json={}, headers=auth(planner))
    assert_problem(response, 403)
    assert row_counts(stocked) == before


@pytest.mark.parametrize("quantity", [9223372036854775807, MAX_QUANTITY + 1, -1, "5", 2.5, True])
def test_an_override_quantity_out_of_bounds_or_of_the_wrong_type_is_refused(
    client: TestClient, stocked: Database, quantity: Any
) -> None:
    planner = make_user(stocked, "planner")
    body = {"quantity": quantity, "reason_code": "PROMO"}
    response = client.post(API + "/proposals/1/override", json=body, headers=auth(planner))
    assert_problem(response, 422, "quantity")


# --- 5. a site out of scope is answered exactly as an unknown one -------------------------------


@pytest.mark.parametrize("path", ["/proposals", "/policies", "/forecasts", "/moves", "/locations"])
def test_a_site_outside_the_callers_scope_reads_as_an_unknown_site(
    client: TestClient, stocked: Database, path: str
) -> None:
    token = make_user(stocked, "admin", ["WH1"])
    other = client.get(API + path, params={"site": "WH2"}, headers=auth(token))
    unknown = client.get(API + path, params={"site": "NOPE"}, headers=auth(token))
    assert_problem(other, 422, "site")
    assert_problem(unknown, 422, "site")
    assert other.json()["detail"].replace("WH2", "X") == unknown.json()["detail"].replace(
        "NOPE", "X"
    )


def test_a_scenario_for_a_site_out_of_scope_reads_as_an_unknown_site(
    client: TestClient, stocked: Database
) -> None:
    planner = make_user(stocked, "planner", ["WH1"])
    spec = {"name": "s", "kind": "demand_spike", "demand_change_pct": 10}
    answers = [
        client.post(
            API + "/scenarios",
            json={"name": "n", "scenarios": [spec], "site": site},
            headers=auth(planner),
        )
        for site in ("WH2", "NOPE")
    ]
    for answer in answers:
        assert_problem(answer, 422, "site")


def test_an_admin_bound_to_one_site_lists_only_the_users_of_that_site(
    client: TestClient, stocked: Database
) -> None:
    make_user(stocked, "warehouse_operator", ["WH1"])
    make_user(stocked, "warehouse_operator", ["WH2"])
    make_user(stocked, "planner")
    token = make_user(stocked, "admin", ["WH1"])
    users = client.get(API + "/users", headers=auth(token)).json()["items"]
    assert users and all(u["sites"] == ["WH1"] and not u["all_sites"] for u in users)


# --- 6. the document says what the API does -----------------------------------------------------


def test_every_time_the_api_gives_carries_its_utc_offset(client: TestClient, admin: str) -> None:
    client.post(
        API + "/receipts",
        json={"site": "WH1", "lines": [{"sku": "SKU-1", "quantity": 1, "location": "A-01"}]},
        headers=auth(admin),
    )
    stamps: list[str] = []
    for path in ("/audit", "/moves", "/users", "/sales-orders"):
        body = client.get(API + path, headers=auth(admin)).json()
        for row in body["items"]:
            stamps += [v for k, v in row.items() if k.endswith("_at") or k == "at" if v]
    assert stamps and all(OFFSET.search(s) for s in stamps), stamps[:5]


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all",
        b"\xff\xfe\x00",
        b"[" * 1000 + b"]" * 1000,
        b'{"site": "WH1", "lines": [{"quantity": ' + b"9" * 5000 + b"}]}",
    ],
    ids=["text", "bad-utf8", "deep", "huge-integer"],
)
def test_a_body_that_cannot_be_decoded_is_a_declared_422_naming_the_body(
    client: TestClient, admin: str, content: bytes
) -> None:
    response = client.post(
        API + "/receipts",
        content=content,
        headers=auth(admin, **{"content-type": "application/json"}),
    )
    assert_problem(response, 422, "body")


def test_every_write_declares_the_idempotency_key_header(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    writes = [
        (path, method, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ("post", "patch", "put", "delete")
    ]
    assert writes
    for path, method, op in writes:
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, (method, path)


def test_a_method_not_allowed_names_every_method_the_path_serves(
    client: TestClient, admin: str
) -> None:
    response = client.put(API + "/items", json={}, headers=auth(admin))
    assert_problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


@pytest.mark.parametrize("action", ["accept", "approve", "reject"])
def test_get_on_a_post_only_proposal_action_is_405_not_a_bad_id(
    client: TestClient, admin: str, action: str
) -> None:
    response = client.get(f"{API}/proposals/{action}", headers=auth(admin))
    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"


# --- 7. strict types at the edge ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/items", {"sku": "T-1", "weight_g": False}, "weight_g"),
        ("/items", {"sku": "T-1", "lot_tracked": 0}, "lot_tracked"),
        ("/items", {"sku": "T-1", "pack_size": "12"}, "pack_size"),
        (
            "/suppliers",
            {"code": "S-9", "name": "n", "lead_time_std_days": False},
            "lead_time_std_days",
        ),
        ("/locations", {"site": "WH1", "code": "X-1", "type": "pick", "y": False}, "y"),
        (
            "/receipts",
            {"site": "WH1", "lines": [{"sku": "SKU-1", "location": "A-01", "quantity": "1_000"}]},
            "lines[0].quantity",
        ),
        (
            "/receipts",
            {"site": "WH1", "lines": [{"sku": "SKU-1", "location": "A-01", "quantity": "１"}]},
            "lines[0].quantity",
        ),
        (
            "/receipts",
            {"site": "WH1", "lines": [{"sku": "SKU-1", "location": "A-01", "quantity": "٣"}]},
            "lines[0].quantity",
        ),
        (
            "/receipts",
            {"site": "WH1", "lines": [{"sku": "SKU-1", "location": "A-01", "quantity": "1e3"}]},
            "lines[0].quantity",
        ),
        (
            "/receipts",
            {"site": "WH1", "lines": [{"sku": "SKU-1", "location": "A-01", "quantity": False}]},
            "lines[0].quantity",
        ),
        ("/items", {"sku": "FZ/../X"}, "sku"),
        ("/items", {"sku": "FZ//X"}, "sku"),
    ],
)
def test_loose_values_are_refused_naming_the_field(
    client: TestClient, admin: str, path: str, body: dict[str, Any], field: str
) -> None:
    assert_problem(client.post(API + path, json=body, headers=auth(admin)), 422, field)


def test_a_scenario_refuses_false_as_a_demand_change(client: TestClient, stocked: Database) -> None:
    planner = make_user(stocked, "planner")
    spec = {"name": "s", "kind": "demand_spike", "demand_change_pct": False}
    response = client.post(
        API + "/scenarios", json={"name": "n", "scenarios": [spec]}, headers=auth(planner)
    )
    assert_problem(response, 422, "scenarios[0].demand_change_pct")


@pytest.mark.parametrize(
    ("path", "params"),
    [("/audit", {"since": "0.5"}), ("/atp", {"sku": "SKU-1", "site": "WH1", "date": "0"})],
)
def test_dates_in_queries_must_be_written_as_dates(
    client: TestClient, admin: str, path: str, params: dict[str, str]
) -> None:
    field = "since" if "since" in params else "date"
    assert_problem(client.get(API + path, params=params, headers=auth(admin)), 422, field)


def test_a_decimal_string_quantity_is_taken_exactly(client: TestClient, admin: str) -> None:
    line = {"sku": "SKU-1", "location": "A-01", "quantity": "2", "uom": "CS"}
    response = client.post(
        API + "/receipts", json={"site": "WH1", "lines": [line]}, headers=auth(admin)
    )
    assert response.status_code == 201, response.text


# --- 8. codes round-trip through paths ---------------------------------------------------------


def test_a_sku_with_a_slash_reads_back_through_its_path(client: TestClient, admin: str) -> None:
    assert (
        client.post(API + "/items", json={"sku": "M8/1.25"}, headers=auth(admin)).status_code == 201
    )
    response = client.get(API + "/items/M8%2F1.25", headers=auth(admin))
    assert response.status_code == 200, response.text
    assert response.json()["sku"] == "M8/1.25"


# --- 9. headers -------------------------------------------------------------------------------


def test_too_many_headers_are_refused_as_a_problem(client: TestClient, admin: str) -> None:
    headers = {f"x-filler-{i}": "x" for i in range(300)}
    response = client.get(API + "/sites", headers=auth(admin, **headers))
    assert_problem(response, 431)


def test_an_oversized_header_is_refused_as_a_problem(client: TestClient, admin: str) -> None:
    response = client.get(API + "/sites", headers=auth(admin, **{"x-big": "x" * 20_000}))
    assert_problem(response, 431)


def test_the_app_built_for_the_server_has_the_same_limits(db: Database) -> None:
    app = create_app(db, api_settings())
    with TestClient(app) as test_client:
        response = test_client.get(
            API + "/sites", headers={"Authorization": "Bearer " + "x" * 20_000}
        )
        assert_problem(response, 431)


def test_a_method_not_allowed_on_a_sales_order_action_names_post(
    client: TestClient, admin: str
) -> None:
    response = client.get(API + "/sales-orders/1/allocate", headers=auth(admin))
    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"
