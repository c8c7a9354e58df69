"""Reference data: companies (stock owners), zones, stock statuses and reason codes.

Companies and zones are lists like any other (keyset pages; zones filtered by site scope).
Statuses and reason codes are short code lists configured once per installation: they are
answered whole, in code order, in the same ``{"items": [...]}`` envelope.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.api.deps import DbDep, require
from stockpilot.api.etag import etag, expected_version
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.reference import Company, ReasonCode, Status, Zone
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.api.schemas import (
    CompanyCreate,
    ReasonCodeCreate,
    StatusCreate,
    StatusUpdate,
    ZoneCreate,
)
from stockpilot.catalog import reference
from stockpilot.network import service as network
from stockpilot.shared.actor import Actor

router = APIRouter(route_class=VisibleRoute, tags=["reference data"])


def _id(row: dict[str, Any]) -> int:
    return int(row["id"])


def _whole(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": rows, "next_cursor": None}


@router.get("/companies", responses=doc(Page[Company]))
def list_companies(
    db: DbDep, actor: Annotated[Actor, require("reference:read")], paging: PageDep
) -> Any:
    with db.read() as conn:
        rows = queries.list_companies(conn, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, _id)


@router.post("/companies", status_code=201, responses=doc(Company, 201, "Created"))
def create_company(
    cmd: CompanyCreate, writer: WriterDep, actor: Annotated[Actor, require("companies:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        company_id = network.create_company(conn, actor, cmd.code, cmd.name)
        return 201, queries.get_company(conn, company_id)

    return writer.run(actor, work).response()


@router.get("/zones", responses=doc(Page[Zone]))
def list_zones(
    db: DbDep,
    actor: Annotated[Actor, require("locations:read")],
    paging: PageDep,
    site: str | None = None,
) -> Any:
    with db.read() as conn:
        site_id = queries.visible_site_id(conn, actor, site) if site else None
        rows = queries.list_zones(
            conn, actor, after_id=paging.after_id, limit=paging.fetch, site_id=site_id
        )
    return page(rows, paging, _id)


@router.post("/zones", status_code=201, responses=doc(Zone, 201, "Created"))
def create_zone(
    cmd: ZoneCreate, writer: WriterDep, actor: Annotated[Actor, require("locations:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        site_id = queries.visible_site_id(conn, actor, cmd.site)
        zone_id = network.create_zone(
            conn,
            actor,
            site_id,
            cmd.code,
            name=cmd.name,
            temperature_class=cmd.temperature_class,
            hazard_class=cmd.hazard_class,
        )
        return 201, queries.get_zone(conn, zone_id)

    return writer.run(actor, work).response()


@router.get("/statuses", responses=doc(Page[Status]))
def list_statuses(db: DbDep, actor: Annotated[Actor, require("reference:read")]) -> Any:
    with db.read() as conn:
        return _whole(reference.list_statuses(conn))


@router.post("/statuses", status_code=201, responses=doc(Status, 201, "Created"))
def create_status(
    cmd: StatusCreate, writer: WriterDep, actor: Annotated[Actor, require("reference:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        reference.create_status(
            conn, actor, cmd.code, description=cmd.description, allocatable=cmd.allocatable
        )
        return 201, reference.get_status(conn, cmd.code)

    return writer.run(actor, work).versioned_response()


@router.get("/statuses/{code}", responses=doc(Status))
def get_status(
    db: DbDep, actor: Annotated[Actor, require("reference:read")], code: str
) -> Response:
    with db.read() as conn:
        body = reference.get_status(conn, code)
    return JSONResponse(jsonable_encoder(body), headers={"ETag": etag(body["version"])})


@router.patch("/statuses/{code}", responses=doc(Status))
def update_status(
    code: str,
    cmd: StatusUpdate,
    writer: WriterDep,
    actor: Annotated[Actor, require("reference:write")],
    if_match: Annotated[str | None, Header(description='the ETag read, e.g. "3"')] = None,
) -> Response:
    version = expected_version(if_match)

    def work(conn: Connection) -> tuple[int, Any]:
        values = cmd.model_dump(exclude_unset=True)
        reference.update_status(conn, actor, code, version, values)
        return 200, reference.get_status(conn, code)

    return writer.run(actor, work).versioned_response()


@router.get("/reason-codes", responses=doc(Page[ReasonCode]))
def list_reason_codes(
    db: DbDep, actor: Annotated[Actor, require("reference:read")], kind: str | None = None
) -> Any:
    with db.read() as conn:
        return _whole(reference.list_reason_codes(conn, kind))


@router.post("/reason-codes", status_code=201, responses=doc(ReasonCode, 201, "Created"))
def create_reason_code(
    cmd: ReasonCodeCreate, writer: WriterDep, actor: Annotated[Actor, require("reference:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        row = reference.create_reason_code(
            conn, actor, cmd.code, description=cmd.description, kind=cmd.kind
        )
        return 201, row

    return writer.run(actor, work).response()
