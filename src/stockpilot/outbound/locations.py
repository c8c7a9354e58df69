"""The bins outbound stock passes through at a site: the staging location where picks are
put down for packing (one of kind ``staging``, created on first use when the site has none)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.tables import location
from stockpilot.shared.sql import insert_ignore

STAGING_CODE = "STAGE-OUT"


def staging_location(conn: Connection, site_id: int) -> int:
    """The site's outbound staging bin: the first active bin of kind ``staging``, else a new
    one coded ``STAGE-OUT``."""
    stmt = (
        sa.select(location.c.id)
        .where(
            location.c.site_id == site_id,
            location.c.kind == "staging",
            location.c.is_virtual.is_(False),
            location.c.active.is_(True),
        )
        .order_by(location.c.id)
        .limit(1)
    )
    found = conn.execute(stmt).scalar()
    if found is None:
        insert_ignore(
            conn,
            location,
            [{"site_id": site_id, "code": STAGING_CODE, "kind": "staging", "is_virtual": False}],
        )
        found = conn.execute(stmt).scalar_one()
    return int(found)
