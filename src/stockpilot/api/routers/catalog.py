"""Master data: items (editable with ETag / If-Match), suppliers and customers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.api.deps import DbDep, require, shown
from stockpilot.api.etag import etag, expected_version
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.catalog import Customer, Item, Supplier
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import CustomerCreate, ItemCreate, ItemUpdate, SupplierCreate
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import ValidationFailed

router = APIRouter(route_class=VisibleRoute, tags=["master data"])

# Columns that cannot be emptied: an explicit null for them is a mistake, not a change.
_NOT_NULL = ("description", "pack_size", "moq", "active")


def _id(row: dict[str, Any]) -> int:
    return int(row["id"])


@router.get("/items", responses=doc(Page[Item]))
def list_items(
    db: DbDep,
    actor: Annotated[Actor, require("items:read")],
    paging: PageDep,
    active: bool | None = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="search: SKU prefix, words of the description, a supplier code or a family",
        ),
    ] = None,
) -> Any:
    with db.read() as conn:
        if q is not None:
            rows = queries.search_items(conn, q, after_id=paging.after_id, limit=paging.fetch)
        else:
            rows = queries.list_items(
                conn, after_id=paging.after_id, limit=paging.fetch, active=active
            )
    return page(rows, paging, _id)


@router.post("/items", status_code=201, responses=doc(Item, 201, "Created"))
def create_item(
    cmd: ItemCreate, writer: WriterDep, actor: Annotated[Actor, require("items:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        catalog.create_item(conn, actor, cmd)
        return 201, queries.get_item(conn, cmd.sku)

    return writer.run(actor, work).versioned_response()


@router.get("/items/{sku:path}", responses=doc(Item))
def get_item(db: DbDep, actor: Annotated[Actor, require("items:read")], sku: str) -> Response:
    with db.read() as conn:
        body = queries.get_item(conn, sku)
    return JSONResponse(
        jsonable_encoder(shown(actor, body)), headers={"ETag": etag(body["version"])}
    )


@router.patch("/items/{sku:path}", responses=doc(Item))
def update_item(
    sku: str,
    cmd: ItemUpdate,
    writer: WriterDep,
    actor: Annotated[Actor, require("items:write")],
    if_match: Annotated[str | None, Header(description='the ETag read, e.g. "3"')] = None,
) -> Response:
    version = expected_version(if_match)
    for name in _NOT_NULL:
        if name in cmd.model_fields_set and getattr(cmd, name) is None:
            raise ValidationFailed(f"{name} cannot be null", field=name)

    def work(conn: Connection) -> tuple[int, Any]:
        item_id, current = queries.item_id_and_version(conn, sku)
        catalog.update_item(conn, actor, item_id, current if version is None else version, cmd)
        return 200, queries.get_item(conn, sku)

    return writer.run(actor, work).versioned_response()


@router.get("/suppliers", responses=doc(Page[Supplier]))
def list_suppliers(
    db: DbDep, actor: Annotated[Actor, require("suppliers:read")], paging: PageDep
) -> Any:
    with db.read() as conn:
        rows = queries.list_suppliers(conn, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, _id)


@router.post("/suppliers", status_code=201, responses=doc(Supplier, 201, "Created"))
def create_supplier(
    cmd: SupplierCreate, writer: WriterDep, actor: Annotated[Actor, require("suppliers:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        return 201, queries.get_supplier(conn, catalog.create_supplier(conn, actor, cmd))

    return writer.run(actor, work).response()


@router.get("/customers", responses=doc(Page[Customer]))
def list_customers(
    db: DbDep, actor: Annotated[Actor, require("customers:read")], paging: PageDep
) -> Any:
    with db.read() as conn:
        rows = queries.list_customers(conn, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, _id)


@router.post("/customers", status_code=201, responses=doc(Customer, 201, "Created"))
def create_customer(
    cmd: CustomerCreate, writer: WriterDep, actor: Annotated[Actor, require("customers:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        return 201, queries.get_customer(conn, catalog.create_customer(conn, actor, cmd))

    return writer.run(actor, work).response()
