"""Request dependencies: the database, settings, who is calling and what they may do.

Access control happens here and only here: every route declares the permission it needs with
``require("resource:verb")``; a ``?site=`` filter is resolved against the caller's scope by
``VisibleSite`` (out of scope = unknown); the services and queries apply site scope to rows
from the ``Actor`` this module builds, and cost fields are stripped from every response by
``shown``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stockpilot.governance.permissions import allows, can_see_cost
from stockpilot.governance.users import authenticate
from stockpilot.network.service import SiteRef, site_in_scope
from stockpilot.persistence.db import Database
from stockpilot.settings import Settings
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Forbidden, StockpilotError, Unauthorized


class ServiceUnavailable(StockpilotError):
    status = 503
    title = "Service unavailable"
    type_suffix = "unavailable"


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency in the
# thread pool, and each such hop costs more than the work itself. Only the token look-up
# (a database read) and the route bodies run in threads.


async def get_db(request: Request) -> Database:
    db: Database | None = getattr(request.app.state, "db", None)
    if db is None:
        raise ServiceUnavailable("the database is not open")
    return db


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="an API token from `stockpilot user add`")


def current_actor(
    request: Request,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send a bearer token: Authorization: Bearer <token>")
    origin = request.client.host if request.client else None
    with db.read() as conn:
        # One indexed look-up of the token's hash (plus the user's site list).
        return authenticate(conn, credentials.credentials, origin=origin)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def visible_site(
    db: DbDep,
    actor: CurrentActor,
    site: Annotated[
        str | None, Query(min_length=1, max_length=40, description="a site code")
    ] = None,
) -> SiteRef | None:
    """The ``site`` filter of a read, resolved once for every route: a site outside the
    caller's scope is answered exactly as an unknown one (422 naming ``site``), so whether it
    exists never leaks."""
    if site is None:
        return None
    with db.read() as conn:
        return site_in_scope(conn, actor, site)


VisibleSite = Annotated[SiteRef | None, Depends(visible_site)]
"""The optional ``?site=`` filter of a list, checked against the caller's scope."""


def require(permission: str) -> Any:
    """A dependency giving the caller's ``Actor`` if their role grants ``permission``."""

    async def check(actor: CurrentActor) -> Actor:
        if not allows(actor.role, permission):
            raise Forbidden(f"role {actor.role} may not {permission}")
        return actor

    check.__name__ = f"require_{permission.replace(':', '_')}"
    return Depends(check)


COST_KEYS = frozenset(
    {"unit_cost", "cost", "value", "total_value", "unit_value", "cogs", "transfer_price"}
)


def _is_cost_key(key: str) -> bool:
    return (
        key in COST_KEYS
        or key.endswith("_cost")
        or key.endswith("_value")
        # A price or revaluation variance is money; a count's quantity variance is not.
        or (key.endswith("_variance") and not key.startswith("quantity_"))
    )


def strip_cost(body: Any) -> Any:
    """``body`` without any cost or value field, at any depth."""
    if isinstance(body, dict):
        return {k: strip_cost(v) for k, v in body.items() if not _is_cost_key(str(k))}
    if isinstance(body, list):
        return [strip_cost(v) for v in body]
    return body


def shown(actor: Actor, body: Any) -> Any:
    """What ``actor`` may see of a response body (cost fields need ``cost:read``)."""
    return body if can_see_cost(actor.role) else strip_cost(body)
