"""The HTTP application: ``create_app`` wires routers, errors, limits and the web page.

Nothing connects or reads configuration at import time. ``create_app(db)`` serves an open
database (tests, embedding); ``create_app()`` opens one from the settings when the server
starts and closes it when it stops (``uvicorn --factory stockpilot.api.app:create_app``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from stockpilot import __version__
from stockpilot.api.limits import BodySizeLimit, HeaderLimit
from stockpilot.api.models import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES
from stockpilot.api.problems import MethodTable, install_problem_handlers
from stockpilot.api.routers import (
    adjustments,
    asns,
    catalog,
    consignment,
    counts,
    governance,
    inbound,
    kits,
    network,
    planning,
    planning_policies,
    planning_setup,
    reference,
    returns,
    sales_orders,
    shipping,
    stock,
    tasks,
    transfers,
    valuation,
    waves,
    webhooks,
)
from stockpilot.bootstrap import open_database
from stockpilot.persistence.db import Database
from stockpilot.settings import Settings, get_settings
from stockpilot.web.pages import mount_web

API_PREFIX = "/api/v1"


def create_app(db: Database | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned: Database | None = None
        if app.state.db is None:
            owned = app.state.db = open_database(settings)
        try:
            yield
        finally:
            if owned is not None:
                owned.dispose()
                app.state.db = None

    app = FastAPI(
        title="stockpilot",
        version=__version__,
        summary="Inventory control for distributors: one stock ledger, many warehouses.",
        lifespan=lifespan,
        # The interactive docs load scripts from a CDN; the schema itself is served locally.
        docs_url=None,
        redoc_url=None,
    )
    app.state.db = db
    app.state.settings = settings
    methods = MethodTable()
    install_problem_handlers(app, methods)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeaderLimit)
    modules = (
        catalog,
        network,
        reference,
        stock,
        inbound,
        asns,
        tasks,
        sales_orders,
        waves,
        shipping,
        transfers,
        consignment,
        planning,
        planning_policies,
        valuation,
        planning_setup,
        governance,
        counts,
        adjustments,
        returns,
        webhooks,
        kits,
    )
    for module in modules:
        app.include_router(module.router, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
        for route in module.router.routes:
            if isinstance(route, APIRoute):
                methods.add(API_PREFIX + route.path, route.methods)
    mount_web(app)
    _problems_only_as_problem_json(app)
    return app


def _problems_only_as_problem_json(app: FastAPI) -> None:
    """Error answers are ``application/problem+json`` only: FastAPI would list each declared
    error model under ``application/json`` as well. ``If-Match`` is declared required on the
    edits that need it (the route itself answers its absence with 428, not FastAPI's 422)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        if parameter["in"] == "header" and parameter["name"] == "if-match":
                            parameter["name"], parameter["required"] = "If-Match", True
                    for response in operation.get("responses", {}).values():
                        content = response.get("content", {})
                        if PROBLEM_MEDIA_TYPE in content:
                            content.pop("application/json", None)
        return build()

    app.openapi = openapi  # type: ignore[method-assign]
