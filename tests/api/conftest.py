"""HTTP tests drive the real app (``create_app(db)``) on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    # starlette's TestClient warns that it would prefer another HTTP client package.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette.routing import Match

from stockpilot.api.app import API_PREFIX, create_app
from stockpilot.api.models import PROBLEM_MEDIA_TYPE, Problem
from stockpilot.governance.users import add_user
from stockpilot.persistence import tables
from stockpilot.persistence.db import Database
from stockpilot.settings import Settings
from stockpilot.shared.actor import SYSTEM
from tests.support.world import build_world, receive

_names = itertools.count(1)

COUNTED_TABLES = (
    tables.move,
    tables.balance,
    tables.allocation,
    tables.audit_log,
    tables.outbox,
    tables.sales_order,
    tables.sales_order_line,
    tables.item,
    tables.item_uom,
    tables.customer,
    tables.supplier,
    tables.site,
    tables.location,
    tables.company,
    tables.zone,
    tables.stock_status,
    tables.reason_code,
    tables.lot,
    tables.serial,
    tables.app_user,
    tables.api_token,
    tables.idempotency_record,
)


def api_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///unused.db",
        "max_page_size": 500,
        "default_page_size": 100,
        "max_batch_lines": 50,
        "max_body_bytes": 64 * 1024,
    }
    values.update(overrides)
    return Settings(**values)


_adapters: dict[Any, TypeAdapter[Any]] = {}


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every API route, paths without the ``/api/v1`` prefix they are mounted under (the web
    pages' routes are not in the schema and not API routes)."""
    for route in app.routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from (
                r for r in included.routes if isinstance(r, APIRoute) and r.include_in_schema
            )


def declared_model(app: FastAPI, method: str, path: str, status: int) -> Any:
    """The response model the route serving ``method path`` declares for ``status``."""
    scope = {"type": "http", "method": method, "path": path.removeprefix(API_PREFIX)}
    for route in api_routes(app):
        if route.matches(scope)[0] == Match.FULL:
            declared = route.responses.get(status) or route.responses.get(str(status)) or {}
            return declared.get("model") or route.response_model
    return None


def check_response(app: FastAPI, response: Any) -> None:
    """A successful JSON body must match the model its route declares, field for field and
    type for type (strict: no "5" for 5, no unknown fields); an error must be a problem."""
    content_type = response.headers.get("content-type", "")
    if response.status_code >= 400 and response.request.url.path.startswith(API_PREFIX):
        assert content_type.startswith(PROBLEM_MEDIA_TYPE), response.text
        _adapter(Problem).validate_json(response.content, strict=True)
        return
    if not 200 <= response.status_code < 300 or not content_type.startswith("application/json"):
        return
    request = response.request
    model = declared_model(app, request.method, request.url.path, response.status_code)
    if model is None:
        return  # tests/api/test_openapi.py requires every route to declare one
    _adapter(model).validate_json(response.content, strict=True)


def _adapter(model: Any) -> TypeAdapter[Any]:
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(model)
    return adapter


class CheckedClient(TestClient):
    """A test client that checks every successful response against the declared model."""

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        assert isinstance(self.app, FastAPI)
        check_response(self.app, response)
        return response


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with CheckedClient(create_app(db, api_settings())) as test_client:
        yield test_client


@pytest.fixture
def stocked(db: Database) -> Database:
    """The standard world with stock in both sites."""
    build_world(db)
    receive(db, "SKU-1", 100, "A-01", "WH1")
    receive(db, "SKU-1", 40, "A-02", "WH1")
    receive(db, "SKU-1", 70, "A-01", "WH2")
    receive(db, "SKU-2", 500, "B-01", "WH1")
    return db


def make_user(db: Database, role: str, sites: Sequence[str] = ()) -> str:
    """A new user of ``role`` (bound to ``sites``, or to every site); returns their token."""
    name = f"{role}-{next(_names)}"
    _, token = db.run(lambda conn: add_user(conn, SYSTEM, name, role, sites))
    return token


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def row_counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in COUNTED_TABLES
        }


def order_body(site: str = "WH1", quantity: Any = 1, sku: str = "SKU-1") -> dict[str, Any]:
    return {"site": site, "customer": "C1", "lines": [{"sku": sku, "quantity": quantity}]}


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    if field is not None:
        assert body["field"] == field, body
        assert body["errors"][0]["field"] == field
    return body
