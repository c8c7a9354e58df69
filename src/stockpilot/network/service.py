"""Companies (owners), sites, zones and locations, including each site's virtual locations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from stockpilot.persistence import journal
from stockpilot.persistence.tables import (
    PHYSICAL_LOCATION_KINDS,
    company,
    location,
    site,
    zone,
)
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Conflict, NotFound, ValidationFailed
from stockpilot.shared.sql import insert_id, insert_ignore

DEFAULT_OWNER = "OWN"
# One virtual location of each kind per site; in-transit locations are per route (see below).
SITE_VIRTUAL_KINDS = ("supplier", "customer", "inventory_loss", "scrap", "kitting")


def virtual_code(kind: str, to_site_code: str | None = None) -> str:
    base = "@" + kind.upper().replace("_", "-")
    return f"{base}:{to_site_code}" if to_site_code else base


@dataclass(frozen=True)
class SiteRef:
    id: int
    code: str
    company_id: int


def ensure_company(conn: Connection, code: str = DEFAULT_OWNER, name: str | None = None) -> int:
    insert_ignore(conn, company, [{"code": code, "name": name or code}])
    return int(conn.execute(sa.select(company.c.id).where(company.c.code == code)).scalar_one())


def create_company(conn: Connection, actor: Actor, code: str, name: str) -> int:
    """A new owner of stock (a company whose goods the sites hold)."""
    if conn.execute(sa.select(company.c.id).where(company.c.code == code)).scalar() is not None:
        raise Conflict(f"company {code!r} already exists", field="code")
    company_id = insert_id(conn, company.insert().values(code=code, name=name))
    journal.record(
        conn,
        actor,
        action="company.created",
        entity_type="company",
        entity_id=company_id,
        detail={"code": code},
        topic="company.created",
    )
    return company_id


def company_id_by_code(conn: Connection, code: str, *, field: str = "owner") -> int:
    found = conn.execute(sa.select(company.c.id).where(company.c.code == code)).scalar()
    if found is None:
        raise ValidationFailed(f"unknown owner {code!r}", field=field)
    return int(found)


def create_site(
    conn: Connection,
    actor: Actor,
    code: str,
    name: str | None = None,
    *,
    kind: str = "branch",
    owner_code: str = DEFAULT_OWNER,
    replenished_from: str | None = None,
) -> int:
    site_id = _insert_site(conn, actor, code, name, kind, owner_code, replenished_from)
    if site_id is None:
        raise Conflict(f"site {code!r} already exists", field="code")
    return site_id


def ensure_site(conn: Connection, actor: Actor, code: str) -> int:
    """The site's id, creating it (as a branch) if it is new — safe against a concurrent
    creator: the insert waits for theirs and then finds the row."""
    site_id = _insert_site(conn, actor, code, None, "branch", DEFAULT_OWNER, None)
    if site_id is not None:
        return site_id
    return int(conn.execute(sa.select(site.c.id).where(site.c.code == code)).scalar_one())


def _insert_site(
    conn: Connection,
    actor: Actor,
    code: str,
    name: str | None,
    kind: str,
    owner_code: str,
    replenished_from: str | None,
) -> int | None:
    """Insert the site with its virtual locations; ``None`` when the code is taken."""
    if kind not in ("hub", "branch"):
        raise ValidationFailed("kind must be hub or branch", field="kind")
    if conn.execute(sa.select(site.c.id).where(site.c.code == code)).scalar() is not None:
        return None
    company_id = ensure_company(conn, owner_code)
    parent = (
        site_by_code(conn, replenished_from, field="replenished_from").id
        if replenished_from
        else None
    )
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    found = conn.execute(
        insert(site)
        .values(
            code=code,
            name=name or code,
            kind=kind,
            company_id=company_id,
            replenished_from_site_id=parent,
        )
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(site.c.id)
    ).scalar()
    if found is None:
        return None
    site_id = int(found)
    conn.execute(
        location.insert(),
        [
            {"site_id": site_id, "code": virtual_code(k), "kind": k, "is_virtual": True}
            for k in SITE_VIRTUAL_KINDS
        ],
    )
    journal.record(
        conn,
        actor,
        action="site.created",
        entity_type="site",
        entity_id=site_id,
        site_id=site_id,
        detail={"code": code, "kind": kind},
        topic="site.created",
    )
    return site_id


def site_by_code(conn: Connection, code: str | None, *, field: str = "site") -> SiteRef:
    row = conn.execute(
        sa.select(site.c.id, site.c.code, site.c.company_id).where(site.c.code == code)
    ).first()
    if row is None:
        raise ValidationFailed(f"unknown site {code!r}", field=field)
    return SiteRef(row.id, row.code, row.company_id)


def site_in_scope(conn: Connection, actor: Actor, code: str, *, field: str = "site") -> SiteRef:
    """The site ``code`` if ``actor`` may see it. A site outside their scope is refused exactly
    as an unknown one (422 naming ``field``), so whether it exists never leaks."""
    row = conn.execute(
        sa.select(site.c.id, site.c.code, site.c.company_id).where(site.c.code == code)
    ).first()
    if row is None or not actor.can_see_site(row.id):
        raise ValidationFailed(f"unknown site {code!r}", field=field)
    return SiteRef(row.id, row.code, row.company_id)


def virtual_location(conn: Connection, site_id: int, kind: str) -> int:
    found = conn.execute(
        sa.select(location.c.id).where(
            location.c.site_id == site_id, location.c.code == virtual_code(kind)
        )
    ).scalar()
    if found is None:
        raise NotFound(f"site {site_id} has no {kind} location")
    return int(found)


def in_transit_location(conn: Connection, from_site_id: int, to_site_id: int) -> int:
    """The in-transit location of the route from one site to another (created on first use)."""
    to_code = conn.execute(sa.select(site.c.code).where(site.c.id == to_site_id)).scalar_one()
    code = virtual_code("in_transit", to_code)
    insert_ignore(
        conn,
        location,
        [
            {
                "site_id": from_site_id,
                "code": code,
                "kind": "in_transit",
                "is_virtual": True,
                "to_site_id": to_site_id,
            }
        ],
    )
    return int(
        conn.execute(
            sa.select(location.c.id).where(
                location.c.site_id == from_site_id, location.c.code == code
            )
        ).scalar_one()
    )


def zone_in_site(conn: Connection, site_id: int, code: str, *, field: str = "zone") -> int:
    """The id of zone ``code`` of the site (422 naming ``field`` when there is none)."""
    found = conn.execute(
        sa.select(zone.c.id).where(zone.c.site_id == site_id, zone.c.code == code)
    ).scalar()
    if found is None:
        raise ValidationFailed(f"unknown zone {code!r}", field=field)
    return int(found)


def ensure_zone(conn: Connection, site_id: int, code: str, **attrs: Any) -> int:
    insert_ignore(conn, zone, [{"site_id": site_id, "code": code, "name": code, **attrs}])
    return int(
        conn.execute(
            sa.select(zone.c.id).where(zone.c.site_id == site_id, zone.c.code == code)
        ).scalar_one()
    )


def create_zone(
    conn: Connection,
    actor: Actor,
    site_id: int,
    code: str,
    *,
    name: str | None = None,
    temperature_class: str | None = None,
    hazard_class: str | None = None,
) -> int:
    """A zone of a site: the area whose bins share a temperature and hazard class."""
    taken = conn.execute(
        sa.select(zone.c.id).where(zone.c.site_id == site_id, zone.c.code == code)
    ).scalar()
    if taken is not None:
        raise Conflict(f"zone {code!r} already exists at this site", field="code")
    zone_id = insert_id(
        conn,
        zone.insert().values(
            site_id=site_id,
            code=code,
            name=name or code,
            temperature_class=temperature_class,
            hazard_class=hazard_class,
        ),
    )
    journal.record(
        conn,
        actor,
        action="zone.created",
        entity_type="zone",
        entity_id=zone_id,
        site_id=site_id,
        detail={"code": code},
        topic="zone.created",
    )
    return zone_id


def create_location(
    conn: Connection,
    actor: Actor,
    site_code: str,
    code: str,
    kind: str,
    *,
    zone_code: str | None = None,
    **attrs: Any,
) -> int:
    if kind not in PHYSICAL_LOCATION_KINDS:
        raise ValidationFailed(
            f"type must be one of {', '.join(PHYSICAL_LOCATION_KINDS)}", field="type"
        )
    if code.startswith("@"):
        raise ValidationFailed("location codes starting with @ are reserved", field="code")
    site_id = ensure_site(conn, actor, site_code)
    exists = conn.execute(
        sa.select(location.c.id).where(location.c.site_id == site_id, location.c.code == code)
    ).scalar()
    if exists is not None:
        raise Conflict(f"location {site_code}/{code} already exists", field="code")
    zone_id = ensure_zone(conn, site_id, zone_code) if zone_code else None
    loc_id = insert_id(
        conn,
        location.insert().values(
            site_id=site_id, code=code, kind=kind, is_virtual=False, zone_id=zone_id, **attrs
        ),
    )
    journal.record(
        conn,
        actor,
        action="location.created",
        entity_type="location",
        entity_id=loc_id,
        site_id=site_id,
        detail={"site": site_code, "code": code, "kind": kind},
    )
    return loc_id


def location_by_code(
    conn: Connection, site_id: int, code: str, *, field: str = "location"
) -> tuple[int, bool]:
    row = conn.execute(
        sa.select(location.c.id, location.c.is_virtual).where(
            location.c.site_id == site_id, location.c.code == code
        )
    ).first()
    if row is None:
        raise ValidationFailed(f"unknown location {code!r}", field=field)
    return int(row.id), bool(row.is_virtual)
