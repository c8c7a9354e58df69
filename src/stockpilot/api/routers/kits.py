"""Kits: bills of material, availability from the components, and assembly / disassembly
orders through ``@KITTING``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.kitting import Kit, KitAvailability, KitOrder
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.kitting import kits, orders
from stockpilot.kitting.schemas import KitCreate, KitOrderCreate
from stockpilot.shared.actor import Actor

router = APIRouter(route_class=VisibleRoute, tags=["kits"])

Reader = Annotated[Actor, require("kits:read")]
Assembler = Annotated[Actor, require("kits:assemble")]


def _id(row: dict[str, Any]) -> int:
    return int(row["id"])


# The order routes come first: ``/kits/orders`` is not a kit.


@router.post("/kits/orders", status_code=201, responses=doc(KitOrder, 201, "Created"))
def create_order(cmd: KitOrderCreate, writer: WriterDep, actor: Assembler) -> Response:
    """Open an assembly or disassembly order: its inputs are reserved at once (409 naming the
    line when they are short). ``"complete": true`` posts it in the same transaction."""

    def work(conn: Connection) -> tuple[int, Any]:
        order_id = orders.create_order(conn, actor, cmd)
        return 201, orders.get_order(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.get("/kits/orders", responses=doc(Page[KitOrder]))
def list_orders(
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    site: VisibleSite,
    state: Annotated[Literal["open", "done", "cancelled"] | None, Query()] = None,
) -> Any:
    """Kit orders, oldest first (of the caller's sites; ``?site=`` and ``?state=`` filter)."""
    with db.read() as conn:
        rows = orders.list_orders(
            conn, actor, paging.after_id, paging.fetch, None if site is None else site.id, state
        )
    return page(rows, paging, _id)


@router.get("/kits/orders/{order_id:int}", responses=doc(KitOrder))
def get_order(order_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return orders.get_order(conn, actor, order_id)


@router.post("/kits/orders/{order_id:int}/complete", responses=doc(KitOrder))
def complete_order(order_id: int, writer: WriterDep, actor: Assembler) -> Response:
    """Post an open order: inputs into ``@KITTING``, outputs into its bin (once: 409 after)."""

    def work(conn: Connection) -> tuple[int, Any]:
        orders.complete_order(conn, actor, order_id)
        return 200, orders.get_order(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.post("/kits/orders/{order_id:int}/cancel", responses=doc(KitOrder))
def cancel_order(order_id: int, writer: WriterDep, actor: Assembler) -> Response:
    """Cancel an open order: its reservations are released."""

    def work(conn: Connection) -> tuple[int, Any]:
        orders.cancel_order(conn, actor, order_id)
        return 200, orders.get_order(conn, actor, order_id)

    return writer.run(actor, work).response()


@router.post("/kits", status_code=201, responses=doc(Kit, 201, "Created"))
def create_kit(
    cmd: KitCreate, writer: WriterDep, actor: Annotated[Actor, require("kits:write")]
) -> Response:
    """Declare the bill of material of an item: its components, base units per kit."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, kits.create_kit(conn, actor, cmd)

    return writer.run(actor, work).response()


@router.get("/kits", responses=doc(Page[Kit]))
def list_kits(db: DbDep, actor: Reader, paging: PageDep) -> Any:
    with db.read() as conn:
        return page(kits.list_kits(conn, paging.after_id, paging.fetch), paging, _id)


@router.get("/kits/{sku}/availability", responses=doc(KitAvailability))
def kit_availability(
    sku: str,
    db: DbDep,
    actor: Reader,
    site: Annotated[str, Query(min_length=1, max_length=40, description="a site code")],
) -> Any:
    """Assembled kits available at the site, and how many more the components make."""
    with db.read() as conn:
        return kits.kit_availability(conn, actor, sku, site)


@router.get("/kits/{sku}", responses=doc(Kit))
def get_kit(sku: str, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return kits.get_kit(conn, sku)
