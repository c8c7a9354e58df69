"""Items are edited with optimistic concurrency: ETag on read, If-Match on PATCH."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import assert_problem, auth, make_user, row_counts

URL = "/api/v1/items/SKU-1"


def test_patch_without_if_match_is_428(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "inventory_controller"))
    before = row_counts(stocked)
    assert_problem(client.patch(URL, json={"description": "x"}, headers=h), 428, "If-Match")
    assert row_counts(stocked) == before


def test_patch_with_the_current_etag_applies_and_returns_the_next_one(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "inventory_controller"))
    tag = client.get(URL, headers=h).headers["ETag"]
    assert tag == '"1"'
    changed = client.patch(
        URL, json={"description": "Blue widget", "moq": 6}, headers={**h, "If-Match": tag}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    assert (changed.json()["description"], changed.json()["moq"]) == ("Blue widget", 6)
    assert client.get(URL, headers=h).headers["ETag"] == '"2"'


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "inventory_controller"))
    stale = client.get(URL, headers=h).headers["ETag"]
    client.patch(URL, json={"description": "first"}, headers={**h, "If-Match": stale})
    before = row_counts(stocked)
    second = client.patch(URL, json={"description": "second"}, headers={**h, "If-Match": stale})
    assert_problem(second, 412, "If-Match")
    assert client.get(URL, headers=h).json()["description"] == "first"
    assert row_counts(stocked) == before


def test_weak_and_unparseable_if_match(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"))
    ok = client.patch(URL, json={"moq": 2}, headers={**h, "If-Match": 'W/"1"'})
    assert ok.status_code == 200
    assert_problem(client.patch(URL, json={"moq": 3}, headers={**h, "If-Match": "v1"}), 412)


def test_patch_refuses_empty_and_null_changes(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"), **{"If-Match": '"1"'})
    assert_problem(client.patch(URL, json={}, headers=h), 422, "body")
    assert_problem(client.patch(URL, json={"description": None}, headers=h), 422, "description")
    assert_problem(client.patch(URL, json={"sku": "RENAMED"}, headers=h), 422, "sku")


def test_patch_of_an_unknown_item_is_404(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"), **{"If-Match": '"1"'})
    assert_problem(client.patch("/api/v1/items/NOPE", json={"moq": 2}, headers=h), 404)


def test_a_replayed_patch_returns_the_same_etag(stocked: Database, client: TestClient) -> None:
    h = auth(make_user(stocked, "admin"), **{"If-Match": '"1"', "Idempotency-Key": "p1"})
    first = client.patch(URL, json={"moq": 4}, headers=h)
    again = client.patch(URL, json={"moq": 4}, headers=h)
    assert again.status_code == 200
    assert again.headers["ETag"] == first.headers["ETag"] == '"2"'


def test_an_item_edit_is_audited_with_the_values_as_sent(
    stocked: Database, client: TestClient
) -> None:
    h = auth(make_user(stocked, "admin"), **{"If-Match": "*"})
    change = {"hazard_class": None, "active": False, "moq": 6, "unit_cost": "2.5"}
    assert client.patch(URL, json=change, headers=h).status_code == 200
    audit = client.get("/api/v1/audit", params={"action": "item.updated"}, headers=h).json()
    detail = audit["items"][-1]["detail"]
    assert detail == {"hazard_class": None, "active": False, "moq": 6, "unit_cost": "2.5"}
