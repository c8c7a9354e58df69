"""The OpenAPI document describes every route's success body, and the served document holds
those schemas; tests/api/conftest.py checks real responses against the same models."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from stockpilot.api.app import API_PREFIX, create_app
from tests.api.conftest import api_routes, api_settings


def _success_status(route: Any) -> int:
    return int(route.status_code or 200)


def test_every_route_declares_the_body_of_its_success() -> None:
    app = create_app(None, api_settings())
    missing = []
    for route in api_routes(app):
        status = _success_status(route)
        declared = route.responses.get(status) or route.responses.get(str(status)) or {}
        if declared.get("model") is None and route.response_model is None:
            missing.append(f"{sorted(route.methods or ())} {route.path} {status}")
    assert missing == []


def test_the_served_document_holds_each_success_schema(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    undescribed = []
    for path, operations in document["paths"].items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in operations.items():
            successes = {k: v for k, v in operation["responses"].items() if k.startswith("2")}
            for status, response in successes.items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                ref = schema.get("$ref", "")
                if not ref or ref.rsplit("/", 1)[-1] not in schemas:
                    undescribed.append(f"{method.upper()} {path} {status}")
    assert undescribed == []


def test_errors_are_described_as_problems_only(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    receipts = document["paths"]["/api/v1/receipts"]["post"]["responses"]
    for status in ("401", "403", "409", "422"):
        content = receipts[status]["content"]
        assert list(content) == ["application/problem+json"], (status, content)
        assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
