"""Transfer orders: create, read, allocate, ship into in-transit, receive at the destination,
resolve discrepancies. Routers parse, call transfers.service, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, SettingsDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.transfers import TransferOrder
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.shared.actor import Actor
from stockpilot.transfers import service
from stockpilot.transfers.schemas import DiscrepancyResolve, TransferOrderCreate, TransferReceive

router = APIRouter(route_class=VisibleRoute, prefix="/transfer-orders", tags=["transfers"])

Reader = Annotated[Actor, require("transfer_orders:read")]
Planner = Annotated[Actor, require("transfer_orders:write")]
Shipper = Annotated[Actor, require("transfer_orders:execute")]
Supervisor = Annotated[Actor, require("transfer_orders:resolve")]


@router.post("", status_code=201, responses=doc(TransferOrder, 201, "Created"))
def create_transfer(cmd: TransferOrderCreate, writer: WriterDep, actor: Planner) -> Response:
    """A confirmed transfer order from one site to another, in base units."""

    def work(conn: Connection) -> tuple[int, Any]:
        order_id = service.create(conn, actor, cmd)
        return 201, service.get_transfer(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.get("", responses=doc(Page[TransferOrder]))
def list_transfers(
    db: DbDep, actor: Reader, paging: PageDep, site: VisibleSite, status: str | None = None
) -> Any:
    """Transfers from or to a site (every visible one without ``site``)."""
    with db.read() as conn:
        rows = service.list_transfers(
            conn,
            actor,
            after_id=paging.after_id,
            limit=paging.fetch,
            site_id=site.id if site else None,
            status=status,
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/{order_id:int}", responses=doc(TransferOrder))
def get_transfer(order_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return service.get_transfer(conn, actor, order_id)


@router.post("/{order_id:int}/allocate", responses=doc(TransferOrder))
def allocate_transfer(order_id: int, writer: WriterDep, actor: Planner) -> Response:
    """Reserve the origin's stock for the open lines, ranked with its sales orders."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, service.allocate_transfer(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.post("/{order_id:int}/ship", responses=doc(TransferOrder))
def ship_transfer(order_id: int, writer: WriterDep, actor: Shipper) -> Response:
    """Post what the origin holds for the order into the route's in-transit location."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, service.ship_transfer(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.post("/{order_id:int}/receive", responses=doc(TransferOrder))
def receive_transfer(
    order_id: int,
    writer: WriterDep,
    settings: SettingsDep,
    actor: Shipper,
    cmd: TransferReceive | None = None,
) -> Response:
    """Receive at the destination (the dock and putaway tasks, or a named bin); without
    lines, everything still in transit for the order."""
    body = cmd or TransferReceive()

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, service.receive_transfer(
            conn, actor, order_id, body, max_lines=settings.max_batch_lines
        )

    return writer.run(actor, work).response()


@router.post("/{order_id:int}/confirm", responses=doc(TransferOrder))
def confirm_transfer(order_id: int, writer: WriterDep, actor: Planner) -> Response:
    """A draft (from an accepted planning proposal) becomes confirmed and shippable."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, service.confirm_transfer(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.post("/{order_id:int}/cancel", responses=doc(TransferOrder))
def cancel_transfer(order_id: int, writer: WriterDep, actor: Planner) -> Response:
    """Cancel an order that shipped nothing; its allocations are released."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, service.cancel_transfer(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.post(
    "/{order_id:int}/discrepancies/{discrepancy_id:int}/resolve", responses=doc(TransferOrder)
)
def resolve_discrepancy(
    order_id: int,
    discrepancy_id: int,
    cmd: DiscrepancyResolve,
    writer: WriterDep,
    actor: Supervisor,
) -> Response:
    """A supervisor other than the receiver writes a short off, marks it found, or accepts an
    over or damaged line."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, service.resolve_discrepancy(conn, actor, order_id, discrepancy_id, cmd)

    return writer.run(actor, work).response()
