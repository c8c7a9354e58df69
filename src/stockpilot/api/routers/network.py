"""Sites and their locations (bins). Virtual locations are created with their site."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.api.deps import DbDep, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.network import Location, Site
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.api.schemas import LocationCreate, SiteCreate
from stockpilot.network import service as network
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Forbidden

router = APIRouter(route_class=VisibleRoute, tags=["network"])


def _id(row: dict[str, Any]) -> int:
    return int(row["id"])


@router.get("/sites", responses=doc(Page[Site]))
def list_sites(db: DbDep, actor: Annotated[Actor, require("sites:read")], paging: PageDep) -> Any:
    with db.read() as conn:
        rows = queries.list_sites(conn, actor, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, _id)


@router.post("/sites", status_code=201, responses=doc(Site, 201, "Created"))
def create_site(
    cmd: SiteCreate, writer: WriterDep, actor: Annotated[Actor, require("sites:write")]
) -> Response:
    if not actor.all_sites:
        # A new site would be outside the caller's own scope the moment it exists.
        raise Forbidden("only users with access to all sites may create sites", field="code")

    def work(conn: Connection) -> tuple[int, Any]:
        if cmd.replenished_from:
            network.site_by_code(conn, cmd.replenished_from, field="replenished_from")
        site_id = network.create_site(
            conn,
            actor,
            cmd.code,
            cmd.name,
            kind=cmd.kind,
            owner_code=cmd.owner,
            replenished_from=cmd.replenished_from,
        )
        rows = queries.list_sites(conn, actor, after_id=site_id - 1, limit=1)
        return 201, rows[0]

    return writer.run(actor, work).response()


@router.get("/locations", responses=doc(Page[Location]))
def list_locations(
    db: DbDep,
    actor: Annotated[Actor, require("locations:read")],
    paging: PageDep,
    site: str | None = None,
    include_virtual: bool = False,
) -> Any:
    with db.read() as conn:
        site_id = queries.visible_site_id(conn, actor, site) if site else None
        rows = queries.list_locations(
            conn,
            actor,
            after_id=paging.after_id,
            limit=paging.fetch,
            site_id=site_id,
            include_virtual=include_virtual,
        )
    return page(rows, paging, _id)


@router.post("/locations", status_code=201, responses=doc(Location, 201, "Created"))
def create_location(
    cmd: LocationCreate, writer: WriterDep, actor: Annotated[Actor, require("locations:write")]
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        # Resolve the site first: the service would create a missing site on the fly.
        network.site_in_scope(conn, actor, cmd.site)
        attrs = cmd.model_dump(exclude={"site", "code", "type", "zone"}, exclude_none=True)
        location_id = network.create_location(
            conn, actor, cmd.site, cmd.code, cmd.type, zone_code=cmd.zone, **attrs
        )
        return 201, queries.get_location(conn, location_id)

    return writer.run(actor, work).response()
