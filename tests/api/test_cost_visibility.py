"""Cost fields are removed in one response step: every list and record a role without
``cost:read`` can read comes back without any cost or value field, whichever route serves it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from stockpilot.api.deps import _is_cost_key
from stockpilot.persistence.db import Database
from tests.api.conftest import api_routes, auth, make_user

API = "/api/v1"


def _cost_keys(body: Any, path: str = "") -> list[str]:
    if isinstance(body, dict):
        found = [f"{path}.{k}" for k in body if _is_cost_key(str(k))]
        for k, v in body.items():
            found += _cost_keys(v, f"{path}.{k}")
        return found
    if isinstance(body, list):
        return [k for v in body for k in _cost_keys(v, path)]
    return []


def test_no_readable_route_shows_a_cost_field_to_a_role_without_cost_read(
    client: TestClient, stocked: Database
) -> None:
    admin = auth(make_user(stocked, "admin"))
    body = {
        "site": "WH1",
        "lines": [{"sku": "SKU-1", "quantity": 1, "location": "A-01", "unit_cost": "2.50"}],
    }
    assert client.post(API + "/receipts", json=body, headers=admin).status_code == 201
    operator = auth(make_user(stocked, "warehouse_operator"))
    assert client.get(API + "/moves", headers=admin).json()["items"][-1]["unit_cost"] == "2.500000"
    app = client.app
    checked = 0
    for route in api_routes(app):  # type: ignore[arg-type]
        if "GET" not in (route.methods or set()) or "{" in route.path:
            continue
        params = {"sku": "SKU-1", "site": "WH1"} if route.path in ("/stock", "/atp") else {}
        response = client.get(API + route.path, params=params, headers=operator)
        if response.status_code != 200 or "json" not in response.headers["content-type"]:
            continue
        checked += 1
        assert _cost_keys(response.json()) == [], route.path
    assert checked >= 15
