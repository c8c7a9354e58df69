"""Routes (trucks and their cut-offs), shipments and packing lists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.outbound import Route, Shipment
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.outbound import routes, shipping
from stockpilot.outbound.schemas import RouteCreate
from stockpilot.shared.actor import Actor

router = APIRouter(route_class=VisibleRoute, tags=["shipping"])

Reader = Annotated[Actor, require("sales_orders:read")]


@router.post("/routes", status_code=201, responses=doc(Route, 201, "Created"))
def create_route(
    cmd: RouteCreate, writer: WriterDep, actor: Annotated[Actor, require("locations:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        route_id = routes.create_route(conn, actor, cmd)
        return 201, routes.get_route(conn, actor, route_id)

    return writer.run(actor, work).response()


@router.get("/routes", responses=doc(Page[Route]))
def list_routes(db: DbDep, actor: Reader, paging: PageDep, site: VisibleSite) -> Any:
    with db.read() as conn:
        rows = routes.list_routes(conn, actor, site, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/shipments/{shipment_id:int}", responses=doc(Shipment))
def get_shipment(shipment_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return shipping.get_shipment(conn, actor, shipment_id)


def _as(media_type: str, description: str) -> dict[int | str, Any]:
    # The same fields as the JSON shipment, rendered for people and spreadsheets.
    return {
        200: {
            "model": Shipment,
            "description": description,
            "content": {media_type: {"schema": {"type": "string"}}},
        }
    }


@router.get(
    "/shipments/{shipment_id:int}/packing-list.csv",
    responses=_as("text/csv", "The packing list, one row per shipped line and lot"),
)
def packing_list_csv(shipment_id: int, db: DbDep, actor: Reader) -> Response:
    with db.read() as conn:
        body = shipping.get_shipment(conn, actor, shipment_id)
    return Response(
        shipping.packing_list_csv(body),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="packing-list-{shipment_id}.csv"'},
    )


@router.get(
    "/shipments/{shipment_id:int}/packing-list",
    responses=_as("text/html", "The packing list as a printable page"),
)
def packing_list_page(shipment_id: int, db: DbDep, actor: Reader) -> Response:
    with db.read() as conn:
        body = shipping.get_shipment(conn, actor, shipment_id)
    return Response(
        shipping.packing_list_html(body),
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )
