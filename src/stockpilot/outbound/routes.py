"""Routes: the trucks a site ships on, each with its cut-off time. An order on a route whose
cut-off falls today is a same-day commitment: it is allocated first and its picks are due by
the cut-off (outbound/allocation.py, waves.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.network.service import SiteRef, site_in_scope
from stockpilot.outbound.schemas import RouteCreate
from stockpilot.persistence import journal
from stockpilot.persistence.tables import site
from stockpilot.persistence.warehouse_tables import route
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.sql import insert_id


def route_id(conn: Connection, site_id: int, code: str, *, field: str = "route") -> int:
    """The id of route ``code`` of the site (an unknown route is a 422 naming ``field``)."""
    found = conn.execute(
        sa.select(route.c.id).where(route.c.site_id == site_id, route.c.code == code)
    ).scalar()
    if found is None:
        raise ValidationFailed(f"unknown route {code!r} at this site", field=field)
    return int(found)


def create_route(conn: Connection, actor: Actor, cmd: RouteCreate) -> int:
    st = site_in_scope(conn, actor, cmd.site)
    exists = conn.execute(
        sa.select(route.c.id).where(route.c.site_id == st.id, route.c.code == cmd.code)
    ).scalar()
    if exists is not None:
        raise Conflict(f"route {cmd.code} already exists at {st.code}", field="code")
    new_id = insert_id(
        conn,
        route.insert().values(
            site_id=st.id, code=cmd.code, name=cmd.name, cutoff_time=cmd.cutoff_time
        ),
    )
    journal.record(
        conn,
        actor,
        action="route.created",
        entity_type="route",
        entity_id=new_id,
        site_id=st.id,
        detail={"code": cmd.code, "cutoff_time": cmd.cutoff_time},
        topic="route.created",
    )
    return new_id


def _select() -> sa.Select[Any]:
    return sa.select(
        route.c.id,
        site.c.code.label("site"),
        route.c.code,
        route.c.name,
        route.c.cutoff_time,
    ).join(site, site.c.id == route.c.site_id)


def get_route(conn: Connection, actor: Actor, route_id_: int) -> dict[str, Any]:
    row = conn.execute(
        _select().add_columns(route.c.site_id).where(route.c.id == route_id_)
    ).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"route {route_id_} not found", field="route_id")
    body = dict(row._mapping)
    body.pop("site_id")
    return body


def list_routes(
    conn: Connection, actor: Actor, st: SiteRef | None, *, after_id: int | None, limit: int
) -> list[dict[str, Any]]:
    stmt = _select().order_by(route.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(route.c.id > after_id)
    if st is not None:
        stmt = stmt.where(route.c.site_id == st.id)
    if not actor.all_sites:
        stmt = stmt.where(route.c.site_id.in_(sorted(actor.site_ids)))
    return [dict(r._mapping) for r in conn.execute(stmt)]
