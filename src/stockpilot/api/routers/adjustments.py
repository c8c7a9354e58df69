"""Adjustments held for approval: read them, approve (posts) or reject them. Adjustments are
requested by ``POST /adjustments`` (routers/stock.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field
from sqlalchemy.engine import Connection

from stockpilot.adjustments import service as adjustments
from stockpilot.api.deps import DbDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.controls import Adjustment
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.shared.actor import Actor
from stockpilot.shared.fields import Command

router = APIRouter(route_class=VisibleRoute, tags=["stock"])

Reader = Annotated[Actor, require("adjustments:read")]
Approver = Annotated[Actor, require("adjustments:approve")]


class AdjustmentDecision(Command):
    note: str | None = Field(default=None, min_length=1, max_length=200)


@router.get("/adjustments", responses=doc(Page[Adjustment]))
def list_adjustments(
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    site: VisibleSite,
    status: Literal["pending", "posted", "rejected"] | None = None,
) -> Any:
    with db.read() as conn:
        rows = adjustments.list_adjustments(
            conn,
            actor,
            site_id=site.id if site else None,
            status=status,
            after_id=paging.after_id,
            limit=paging.fetch,
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/adjustments/{adjustment_id:int}", responses=doc(Adjustment))
def get_adjustment(adjustment_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return adjustments.get_adjustment(conn, actor, adjustment_id)


@router.post("/adjustments/{adjustment_id:int}/approve", responses=doc(Adjustment))
def approve_adjustment(
    adjustment_id: int, writer: WriterDep, actor: Approver, body: AdjustmentDecision | None = None
) -> Response:
    """Approve a pending adjustment: it posts now. The requester cannot approve it (403)."""
    note = body.note if body else None

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, adjustments.approve_adjustment(conn, actor, adjustment_id, note)

    return writer.run(actor, work).response()


@router.post("/adjustments/{adjustment_id:int}/reject", responses=doc(Adjustment))
def reject_adjustment(
    adjustment_id: int, writer: WriterDep, actor: Approver, body: AdjustmentDecision | None = None
) -> Response:
    """Reject a pending adjustment: nothing posts."""
    note = body.note if body else None

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, adjustments.reject_adjustment(conn, actor, adjustment_id, note)

    return writer.run(actor, work).response()
