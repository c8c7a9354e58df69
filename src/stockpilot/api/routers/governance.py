"""Users (created by administrators; the token is shown once) and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.api.deps import DbDep, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.governance import AuditEntry, NewUser, User
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.api.schemas import UserCreate
from stockpilot.governance import users
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Forbidden
from stockpilot.shared.fields import IsoDateTime

router = APIRouter(route_class=VisibleRoute, tags=["governance"])


def _id(row: dict[str, Any]) -> int:
    return int(row["id"])


@router.get("/users", responses=doc(Page[User]))
def list_users(db: DbDep, actor: Annotated[Actor, require("users:read")], paging: PageDep) -> Any:
    with db.read() as conn:
        rows = queries.list_users(conn, actor, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, _id)


@router.post("/users", status_code=201, responses=doc(NewUser, 201, "Created"))
def create_user(
    cmd: UserCreate, writer: WriterDep, actor: Annotated[Actor, require("users:write")]
) -> Response:
    """Create a user and their first token. The token is in this response only: a replay of
    the same request (Idempotency-Key) returns the user without it."""
    if not actor.all_sites:
        raise Forbidden("only users with access to all sites may create users", field="sites")

    def work(conn: Connection) -> tuple[int, Any]:
        user_id, token = users.add_user(conn, actor, cmd.name, cmd.role, cmd.sites)
        rows = queries.list_users(conn, actor, after_id=user_id - 1, limit=1)
        return 201, {**rows[0], "token": token}

    return writer.run(actor, work, private_keys=("token",)).response()


@router.get("/audit", responses=doc(Page[AuditEntry]))
def list_audit(
    db: DbDep,
    actor: Annotated[Actor, require("audit:read")],
    paging: PageDep,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    user_id: int | None = None,
    site: str | None = None,
    since: IsoDateTime | None = None,
) -> Any:
    """Who did what, when, from where and why; filtered, oldest first."""
    with db.read() as conn:
        filters: dict[str, Any] = {
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "user_id": user_id,
            "site_id": queries.visible_site_id(conn, actor, site) if site else None,
            "since": since,
        }
        rows = queries.list_audit(
            conn, actor, after_id=paging.after_id, limit=paging.fetch, filters=filters
        )
    return page(rows, paging, _id)
