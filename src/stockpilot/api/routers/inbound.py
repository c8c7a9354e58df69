"""Purchase orders and receipts. Routers parse, call the inbound services, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, SettingsDep, VisibleSite, require
from stockpilot.api.idempotency import Writer, WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.inbound import PurchaseOrder, Receipt
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.inbound import purchase_orders, receiving
from stockpilot.inbound.schemas import OverReceiptApproval, PurchaseOrderCreate, ReceiptCreate
from stockpilot.inbound.tolerance import POState
from stockpilot.shared.actor import Actor
from stockpilot.shared.quantities import to_base_units

router = APIRouter(route_class=VisibleRoute, tags=["inbound"])

Reader = Annotated[Actor, require("purchase_orders:read")]
Buyer = Annotated[Actor, require("purchase_orders:write")]
Receiver = Annotated[Actor, require("stock:write")]
Supervisor = Annotated[Actor, require("receipts:approve")]


@router.post("/purchase-orders", status_code=201, responses=doc(PurchaseOrder, 201, "Created"))
def create_purchase_order(cmd: PurchaseOrderCreate, writer: WriterDep, actor: Buyer) -> Response:
    """A purchase order with its lines (confirmed unless ``status`` says draft)."""

    def work(conn: Connection) -> tuple[int, Any]:
        draft = purchase_orders.draft_from_command(conn, actor, cmd)
        order_id = purchase_orders.create_purchase_order(conn, actor, draft)
        return 201, purchase_orders.get_order(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.get("/purchase-orders", responses=doc(Page[PurchaseOrder]))
def list_purchase_orders(
    db: DbDep, actor: Reader, paging: PageDep, site: VisibleSite, status: str | None = None
) -> Any:
    with db.read() as conn:
        rows = purchase_orders.list_orders(
            conn,
            actor,
            after_id=paging.after_id,
            limit=paging.fetch,
            site_id=site.id if site else None,
            status=status,
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/purchase-orders/{order_id:int}", responses=doc(PurchaseOrder))
def get_purchase_order(order_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return purchase_orders.get_order(conn, actor, order_id)


def _step(order_id: int, to_state: POState, writer: Writer, actor: Actor) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        return 200, purchase_orders.transition(conn, actor, order_id, to_state)

    return writer.run(actor, work).response()


@router.post("/purchase-orders/{order_id:int}/confirm", responses=doc(PurchaseOrder))
def confirm_purchase_order(order_id: int, writer: WriterDep, actor: Buyer) -> Response:
    """Draft → confirmed: sent to the supplier, receivable, on order for planning."""
    return _step(order_id, POState.CONFIRMED, writer, actor)


@router.post("/purchase-orders/{order_id:int}/cancel", responses=doc(PurchaseOrder))
def cancel_purchase_order(order_id: int, writer: WriterDep, actor: Buyer) -> Response:
    """Draft or confirmed (nothing received) → cancelled."""
    return _step(order_id, POState.CANCELLED, writer, actor)


@router.post("/purchase-orders/{order_id:int}/close", responses=doc(PurchaseOrder))
def close_purchase_order(order_id: int, writer: WriterDep, actor: Buyer) -> Response:
    """Partially received or received → closed: what is still open will not come."""
    return _step(order_id, POState.CLOSED, writer, actor)


@router.post("/purchase-orders/{order_id:int}/over-receipt-approvals", responses=doc(PurchaseOrder))
def approve_over_receipt(
    order_id: int, body: OverReceiptApproval, writer: WriterDep, actor: Supervisor
) -> Response:
    """A supervisor allows units beyond the supplier's tolerance on one line; someone else must
    receive them."""
    from fractions import Fraction

    quantity = to_base_units(body.quantity, Fraction(1), field="quantity")

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, purchase_orders.approve_over_receipt(
            conn, actor, order_id, body.line_no, quantity, body.reason
        )

    return writer.run(actor, work).response()


@router.post("/receipts", status_code=201, responses=doc(Receipt, 201, "Created"))
def receive(
    cmd: ReceiptCreate, writer: WriterDep, settings: SettingsDep, actor: Receiver
) -> Response:
    """Receive against a purchase order, an ASN (or one of its pallets by SSCC), or blind.
    Lines without a ``location`` wait at the dock with a directed putaway task each."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, receiving.receive_goods(conn, actor, cmd, max_lines=settings.max_batch_lines)

    return writer.run(actor, work).response()


@router.get("/receipts/{receipt_id:int}", responses=doc(Receipt))
def get_receipt(receipt_id: int, db: DbDep, actor: Annotated[Actor, require("stock:read")]) -> Any:
    with db.read() as conn:
        return receiving.get_receipt(conn, actor, receipt_id)
