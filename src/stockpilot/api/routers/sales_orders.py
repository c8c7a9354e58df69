"""Sales orders: create, read, list, allocate, release, pick, ship, and their allocations."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.api.deps import DbDep, SettingsDep, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.outbound import SalesOrderShipped, Shipment
from stockpilot.api.models.sales_orders import (
    SalesOrder,
    SalesOrderAllocated,
    SalesOrderAllocation,
    SalesOrderPicked,
    SalesOrderReleased,
)
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.api.schemas import PickRequest
from stockpilot.outbound import sales_orders, shipping
from stockpilot.outbound.schemas import SalesOrderCreate, ShipRequest
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import ValidationFailed

router = APIRouter(route_class=VisibleRoute, prefix="/sales-orders", tags=["sales orders"])


@router.get("", responses=doc(Page[SalesOrder]))
def list_orders(
    db: DbDep,
    actor: Annotated[Actor, require("sales_orders:read")],
    paging: PageDep,
    site: str | None = None,
) -> Any:
    with db.read() as conn:
        if site:
            queries.visible_site_id(conn, actor, site)
        rows = sales_orders.list_orders(
            conn, actor, after_id=paging.after_id, limit=paging.fetch, site_code=site
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.post("", status_code=201, responses=doc(SalesOrder, 201, "Created"))
def create_order(
    cmd: SalesOrderCreate,
    writer: WriterDep,
    settings: SettingsDep,
    actor: Annotated[Actor, require("sales_orders:write")],
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        order_id = sales_orders.create(conn, actor, cmd, settings.max_batch_lines)
        return 201, sales_orders.get_order(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.get("/{order_id:int}", responses=doc(SalesOrder))
def get_order(
    order_id: int, db: DbDep, actor: Annotated[Actor, require("sales_orders:read")]
) -> Any:
    with db.read() as conn:
        return sales_orders.get_order(conn, actor, order_id)


@router.post("/{order_id:int}/allocate", responses=doc(SalesOrderAllocated))
def allocate(
    order_id: int, writer: WriterDep, actor: Annotated[Actor, require("sales_orders:write")]
) -> Response:
    """Allocate what is available now; each line reports what is still short."""

    def work(conn: Connection) -> tuple[int, Any]:
        result = {r.line_no: asdict(r) for r in sales_orders.allocate_order(conn, actor, order_id)}
        order = sales_orders.get_order(conn, actor, order_id)
        lines = [{**ln, **result.get(ln["line_no"], {})} for ln in order["lines"]]
        return 200, {**order, "lines": lines}

    return writer.run(actor, work).response()


@router.post("/{order_id:int}/release", responses=doc(SalesOrderReleased))
def release(
    order_id: int, writer: WriterDep, actor: Annotated[Actor, require("sales_orders:write")]
) -> Response:
    """Release every open allocation of the order."""

    def work(conn: Connection) -> tuple[int, Any]:
        released = sales_orders.release_order(conn, actor, order_id)
        return 200, {**sales_orders.get_order(conn, actor, order_id), "quantity_released": released}

    return writer.run(actor, work).response()


@router.post("/{order_id:int}/pick", responses=doc(SalesOrderPicked))
def pick(
    order_id: int,
    writer: WriterDep,
    actor: Annotated[Actor, require("sales_orders:pick")],
    cmd: Annotated[PickRequest | None, Body()] = None,
) -> Response:
    """Pick open allocations (all in full, or the quantities given per allocation)."""
    picks: dict[int, int] | None = None
    if cmd is not None and cmd.picks is not None:
        picks = {p.allocation_id: p.quantity for p in cmd.picks}
        if len(picks) != len(cmd.picks):
            raise ValidationFailed("each allocation may be picked once", field="picks")

    def work(conn: Connection) -> tuple[int, Any]:
        done = sales_orders.pick_order(conn, actor, order_id, picks)
        return 200, {**sales_orders.get_order(conn, actor, order_id), **done}

    return writer.run(actor, work).response()


@router.get("/{order_id:int}/allocations", responses=doc(Page[SalesOrderAllocation]))
def allocations(
    order_id: int, db: DbDep, actor: Annotated[Actor, require("sales_orders:read")]
) -> Any:
    with db.read() as conn:
        sales_orders.get_order(conn, actor, order_id)  # 404 unless visible
        # Bounded by the order's lines: answered whole, in the envelope of every list.
        items = queries.order_allocations(conn, order_id)
        return {"items": items, "next_cursor": None}


@router.post("/{order_id:int}/ship", responses=doc(SalesOrderShipped))
def ship(
    order_id: int,
    writer: WriterDep,
    actor: Annotated[Actor, require("sales_orders:pick")],
    cmd: Annotated[ShipRequest | None, Body()] = None,
) -> Response:
    """Ship what is picked: from staging to the customer, the shipment recorded with its
    on-time flag. A ship-complete customer's order leaves only when every line is picked."""
    cartons = cmd.cartons if cmd is not None else None

    def work(conn: Connection) -> tuple[int, Any]:
        shipment_id = shipping.ship_order(conn, actor, order_id, cartons=cartons)
        return 200, {
            **sales_orders.get_order(conn, actor, order_id),
            "shipment": shipping.get_shipment(conn, actor, shipment_id),
        }

    return writer.run(actor, work).response()


@router.get("/{order_id:int}/shipments", responses=doc(Page[Shipment]))
def shipments(
    order_id: int, db: DbDep, actor: Annotated[Actor, require("sales_orders:read")]
) -> Any:
    with db.read() as conn:
        sales_orders.get_order(conn, actor, order_id)  # 404 unless visible
        return {"items": shipping.list_shipments(conn, actor, order_id), "next_cursor": None}
