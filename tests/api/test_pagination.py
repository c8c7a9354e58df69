"""Cursor pagination walks every row exactly once, at a constant number of queries per page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stockpilot.persistence.db import Database
from tests.api.conftest import auth, make_user, order_body
from tests.support.world import receive

API = "/api/v1"


def _walk(client: TestClient, path: str, headers: dict[str, str], limit: int) -> list[Any]:
    seen: list[Any] = []
    cursor: str | None = None
    for _ in range(1000):
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = client.get(API + path, params=params, headers=headers).json()
        assert len(body["items"]) <= limit
        seen.extend(row["id"] for row in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("limit", [1, 3, 7, 500])
def test_walking_the_moves_sees_every_row_exactly_once(
    stocked: Database, client: TestClient, limit: int
) -> None:
    for i in range(12):
        receive(stocked, "SKU-2", i + 1, "A-02", "WH1" if i % 2 else "WH2")
    h = auth(make_user(stocked, "admin"))
    ids = _walk(client, "/moves", h, limit)
    with stocked.read() as conn:
        expected = conn.execute(sa.text("SELECT id FROM move ORDER BY id")).scalars().all()
    assert ids == list(expected)


@pytest.mark.parametrize(
    "path", ["/items", "/customers", "/sites", "/locations", "/audit", "/users", "/sales-orders"]
)
def test_every_list_walks_every_row_exactly_once(
    stocked: Database, client: TestClient, path: str
) -> None:
    h = auth(make_user(stocked, "admin"))
    for i in range(5):
        client.post(f"{API}/sales-orders", json=order_body(), headers=h)
        client.post(f"{API}/customers", json={"code": f"P{i}", "name": "p"}, headers=h)
        client.post(f"{API}/sites", json={"code": f"P{i}"}, headers=h)
        client.post(f"{API}/items", json={"sku": f"P-{i}"}, headers=h)
        make_user(stocked, "auditor")
    everything = client.get(API + path, params={"limit": 500}, headers=h).json()
    assert everything["next_cursor"] is None
    all_ids = [row["id"] for row in everything["items"]]
    assert len(all_ids) >= 5
    assert _walk(client, path, h, 2) == all_ids


def test_a_site_bound_walk_sees_only_its_site(stocked: Database, client: TestClient) -> None:
    admin = auth(make_user(stocked, "admin"))
    for site in ("WH1", "WH2", "WH1", "WH2", "WH1"):
        client.post(f"{API}/sales-orders", json=order_body(site), headers=admin)
    h = auth(make_user(stocked, "planner", ["WH1"]))
    ids = _walk(client, "/sales-orders", h, 1)
    assert len(ids) == 3


@contextmanager
def _count_queries(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    for engine in db.engines:
        sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in db.engines:
            sa.event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize(
    "path",
    [
        "/items",
        "/sales-orders",
        "/moves",
        "/audit",
        "/users",
        "/locations",
        "/sites",
        "/customers",
        "/companies",
        "/zones",
    ],
)
def test_a_page_costs_the_same_queries_whatever_its_size(
    stocked: Database, client: TestClient, path: str
) -> None:
    h = auth(make_user(stocked, "admin"))
    for n in range(3):
        client.post(f"{API}/sales-orders", json=order_body(), headers=h)
        make_user(stocked, "auditor")
        client.post(f"{API}/companies", json={"code": f"CO{n}", "name": "co"}, headers=h)
        client.post(f"{API}/zones", json={"site": "WH1", "code": f"Z{n}"}, headers=h)
    costs = []
    for limit in (1, 2, 500):
        with _count_queries(stocked) as statements:
            assert client.get(API + path, params={"limit": limit}, headers=h).status_code == 200
        costs.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    assert costs[0] == costs[1] == costs[2], costs
