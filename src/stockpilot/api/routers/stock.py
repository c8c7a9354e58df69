"""Stock: positions and available-to-promise, the ledger's moves, and the stock operations that
post moves directly (receipts, bin-to-bin and status moves, adjustments)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from stockpilot.adjustments.service import request_adjustment
from stockpilot.api import queries
from stockpilot.api.deps import DbDep, SettingsDep, require
from stockpilot.api.idempotency import Writer, WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.controls import Adjustment
from stockpilot.api.models.stock import (
    AdjustmentPosted,
    AvailableToPromise,
    LedgerCheck,
    LedgerMove,
    StockMovePosted,
    StockPosition,
)
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.api.schemas import AdjustmentCreate, MoveCreate
from stockpilot.ledger import operations, positions
from stockpilot.ledger.operations import PostedDocument, StockLine
from stockpilot.ledger.verify import verify
from stockpilot.settings import Settings
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import IsoDate

router = APIRouter(route_class=VisibleRoute, tags=["stock"])

Sku = Annotated[str, Query(min_length=1, max_length=60)]


@router.get("/stock", responses=doc(StockPosition))
def stock(
    db: DbDep,
    actor: Annotated[Actor, require("stock:read")],
    sku: Sku,
    site: str | None = None,
    location: str | None = None,
    lot: str | None = None,
    status: str | None = None,
) -> Any:
    """Totals of one item and its breakdown by site, location, lot and status."""
    with db.read() as conn:
        if site:
            queries.visible_site_id(conn, actor, site)
        body = positions.stock_position(
            conn, actor, sku, site, location_code=location, lot_code=lot, status=status
        )
    return body


@router.get("/atp", responses=doc(AvailableToPromise))
def atp(
    db: DbDep,
    actor: Annotated[Actor, require("stock:read")],
    sku: Sku,
    site: Annotated[str, Query(min_length=1, max_length=40)],
    on: Annotated[IsoDate | None, Query(alias="date")] = None,
) -> Any:
    """Time-phased available-to-promise of one item at one site, up to ``date`` (default today)."""
    with db.read() as conn:
        queries.visible_site_id(conn, actor, site)
        body = positions.available_to_promise(conn, actor, sku, site, on or today())
    return body


@router.get("/moves", responses=doc(Page[LedgerMove]))
def list_moves(
    db: DbDep,
    actor: Annotated[Actor, require("moves:read")],
    paging: PageDep,
    sku: str | None = None,
    site: str | None = None,
) -> Any:
    with db.read() as conn:
        item_id = queries.item_id_by_sku(conn, sku) if sku else None
        site_id = queries.visible_site_id(conn, actor, site) if site else None
        rows = queries.list_moves(
            conn,
            actor,
            after_id=paging.after_id,
            limit=paging.fetch,
            item_id=item_id,
            site_id=site_id,
        )
    return page(rows, paging, lambda r: int(r["id"]))


def _check_batch(lines: Sequence[object], settings: Settings) -> None:
    if len(lines) > settings.max_batch_lines:
        raise ValidationFailed(
            f"at most {settings.max_batch_lines} lines per document", field="lines"
        )


def _posted(document: PostedDocument, lines: Sequence[BaseModel]) -> dict[str, Any]:
    return {
        "document_type": document.document_type,
        "site": document.site,
        "moves": document.lines,
        "quantity": document.quantity,
        "lines": [ln.model_dump(mode="json", exclude_defaults=True) for ln in lines],
    }


@router.post("/moves", status_code=201, responses=doc(StockMovePosted, 201, "Created"))
def relocate(
    cmd: MoveCreate,
    writer: WriterDep,
    settings: SettingsDep,
    actor: Annotated[Actor, require("stock:write")],
) -> Response:
    """Bin-to-bin moves (``to_location``) and status changes (``to_status``)."""
    return _post_stock(cmd, writer, settings, actor, operations.relocate)


def _post_stock(
    cmd: MoveCreate,
    writer: Writer,
    settings: Settings,
    actor: Actor,
    operation: Callable[[Connection, Actor, str, list[StockLine]], PostedDocument],
) -> Response:
    _check_batch(cmd.lines, settings)
    lines = [StockLine(**ln.model_dump()) for ln in cmd.lines]

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, _posted(operation(conn, actor, cmd.site, lines), cmd.lines)

    return writer.run(actor, work).response()


@router.post(
    "/adjustments",
    status_code=201,
    responses={**doc(AdjustmentPosted, 201, "Created"), **doc(Adjustment, 202, "Held")},
)
def adjust(
    cmd: AdjustmentCreate,
    writer: WriterDep,
    settings: SettingsDep,
    actor: Annotated[Actor, require("stock:adjust")],
) -> Response:
    """Signed adjustments against the site's inventory-loss location, with a reason code.
    Beyond the site's adjustment thresholds the adjustment is held for approval (202, nothing
    posted) until someone else approves it (``POST /adjustments/{id}/approve``)."""
    _check_batch(cmd.lines, settings)
    lines = [StockLine(**ln.model_dump()) for ln in cmd.lines]

    def work(conn: Connection) -> tuple[int, Any]:
        status, body = request_adjustment(conn, actor, cmd.site, lines, reason_code=cmd.reason)
        if status == 202:
            return status, body
        entered = [ln.model_dump(mode="json", exclude_defaults=True) for ln in cmd.lines]
        return status, {**body, "lines": entered, "reason": cmd.reason}

    return writer.run(actor, work).response()


@router.get("/ledger/verify", responses=doc(LedgerCheck))
def verify_ledger(db: DbDep, actor: Annotated[Actor, require("ledger:verify")]) -> Any:
    """Recompute every balance from the moves; ``ok`` is true when nothing drifted."""
    with db.read() as conn:
        return queries.render_verify(conn, actor, verify(conn))
