"""Returns (RMA): authorise, receive into inspection, dispose of. Routers parse, call, render."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, SettingsDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.controls import Return
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.returns import service as returns
from stockpilot.returns.schemas import ReturnCreate, ReturnDispose, ReturnReceive
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import ValidationFailed

router = APIRouter(route_class=VisibleRoute, tags=["returns"])

Reader = Annotated[Actor, require("returns:read")]
Writer = Annotated[Actor, require("returns:write")]


@router.post("/returns", status_code=201, responses=doc(Return, 201, "Created"))
def create_return(
    cmd: ReturnCreate, writer: WriterDep, settings: SettingsDep, actor: Writer
) -> Response:
    """Authorise a return; it may not exceed what was shipped to the customer."""
    if len(cmd.lines) > settings.max_batch_lines:
        raise ValidationFailed(f"at most {settings.max_batch_lines} lines", field="lines")

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, returns.create_return(conn, actor, cmd)

    return writer.run(actor, work).response()


@router.get("/returns", responses=doc(Page[Return]))
def list_returns(
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    site: VisibleSite,
    status: Literal["authorised", "received", "closed", "cancelled"] | None = None,
) -> Any:
    with db.read() as conn:
        rows = returns.list_returns(
            conn,
            actor,
            site_id=site.id if site else None,
            status=status,
            after_id=paging.after_id,
            limit=paging.fetch,
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/returns/{return_id:int}", responses=doc(Return))
def get_return(return_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return returns.get_return(conn, actor, return_id)


@router.post("/returns/{return_id:int}/receive", responses=doc(Return))
def receive_return(
    return_id: int,
    writer: WriterDep,
    settings: SettingsDep,
    actor: Writer,
    body: ReturnReceive | None = None,
) -> Response:
    """Receive the return into inspection (status ``inspection``, not allocatable)."""
    location = body.location if body else None

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, returns.receive_return(
            conn,
            actor,
            return_id,
            location,
            negative_demand=settings.returns_as_negative_demand,
        )

    return writer.run(actor, work).response()


@router.post("/returns/{return_id:int}/dispose", responses=doc(Return))
def dispose_return(
    return_id: int, writer: WriterDep, actor: Writer, body: ReturnDispose | None = None
) -> Response:
    """Dispose of lines after inspection: saleable, repair, scrap or return to vendor."""
    cmd = body or ReturnDispose()

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, returns.dispose_return(conn, actor, return_id, cmd)

    return writer.run(actor, work).response()


@router.post("/returns/{return_id:int}/cancel", responses=doc(Return))
def cancel_return(return_id: int, writer: WriterDep, actor: Writer) -> Response:
    """Cancel an authorised return before anything arrived."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, returns.cancel_return(conn, actor, return_id)

    return writer.run(actor, work).response()
