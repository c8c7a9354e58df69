"""Import bins: ``site,code,type`` plus optional zone and slotting attributes.

A site named for the first time is created (with its virtual locations); zones are created on
first use. Existing bins (same site and code) are updated.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from stockpilot.importing.bulk import ids_by, upsert
from stockpilot.importing.csvrows import CsvRows, validate
from stockpilot.importing.masterdata import ImportSummary
from stockpilot.network import service as network
from stockpilot.persistence import journal
from stockpilot.persistence.tables import location, site
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import RowError

_CODE = r"^[A-Za-z0-9][A-Za-z0-9._\-/ ]*$"

LOCATION_REQUIRED = ("site", "code", "type")
LOCATION_OPTIONAL = (
    "zone",
    "capacity",
    "walk_sequence",
    "hazard_class",
    "temperature_class",
    "x",
    "y",
)


class LocationRow(BaseModel):
    """One physical bin as written in a locations file (codes never start with ``@``: those
    name the virtual locations every site has)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    site: str = Field(min_length=1, max_length=40, pattern=_CODE)
    code: str = Field(min_length=1, max_length=60, pattern=_CODE)
    type: Literal["storage", "pick", "bulk", "staging", "dock"]
    zone: str | None = Field(default=None, min_length=1, max_length=40, pattern=_CODE)
    capacity: int | None = Field(default=None, ge=0)
    walk_sequence: int | None = Field(default=None, ge=0)
    hazard_class: str | None = Field(default=None, max_length=20)
    temperature_class: str | None = Field(default=None, max_length=20)
    x: int | None = None
    y: int | None = None


def validate_locations(data: CsvRows) -> list[LocationRow]:
    rows = [validate(LocationRow, data.name, n, cells) for n, cells in data.numbered()]
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=1):
        key = (row.site, row.code)
        if key in seen:
            raise RowError(
                data.name, number, "code", f"{row.site}/{row.code} repeats row {seen[key]}"
            )
        seen[key] = number
    return rows


def ensure_sites(conn: Connection, actor: Actor, codes: set[str]) -> dict[str, int]:
    """``code -> site id``, creating the sites not there yet (as branches)."""
    found: dict[str, int] = ids_by(conn, site.c.code, codes)
    for code in sorted(codes - found.keys()):
        found[code] = network.ensure_site(conn, actor, code)
    return found


def write_locations(
    conn: Connection, actor: Actor, data: CsvRows, rows: list[LocationRow]
) -> ImportSummary:
    sites = ensure_sites(conn, actor, {r.site for r in rows})
    zones = {
        (r.site, r.zone): network.ensure_zone(conn, sites[r.site], r.zone)
        for r in sorted(rows, key=lambda r: (r.site, r.zone or ""))
        if r.zone
    }
    existing = {
        (int(r.site_id), str(r.code))
        for r in conn.execute(
            sa.select(location.c.site_id, location.c.code).where(
                location.c.site_id.in_(sorted(sites.values()))
            )
        )
    }
    records: list[dict[str, Any]] = []
    for row in rows:
        record = row.model_dump(exclude={"site", "zone", "type"})
        record.update(
            site_id=sites[row.site],
            kind=row.type,
            is_virtual=False,
            zone_id=zones.get((row.site, row.zone)) if row.zone else None,
        )
        records.append(record)
    updatable = [c for c in data.header if c in LOCATION_OPTIONAL and c != "zone"] + ["kind"]
    if "zone" in data.header:
        updatable.append("zone_id")
    upsert(conn, location, records, ["site_id", "code"], updatable, bump_version=True)
    updated = sum((r["site_id"], r["code"]) in existing for r in records)
    journal.record(
        conn,
        actor,
        action="import.locations",
        entity_type="import",
        entity_id=None,
        detail={"file": data.name, "rows": len(rows), "sites": sorted(sites)},
        topic="import.locations.completed",
    )
    return ImportSummary("locations", len(rows), len(rows) - updated, updated)
