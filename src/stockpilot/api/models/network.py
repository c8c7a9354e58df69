"""Response bodies of the site and location routes (api/routers/network.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out
from stockpilot.persistence.tables import PhysicalLocationKind, VirtualLocationKind

# Every kind the location table allows: physical bins, then virtual ones.
LocationKind = PhysicalLocationKind | VirtualLocationKind


class Site(Out):
    """A site (warehouse or branch) and the company that owns its stock."""

    id: int
    code: str
    name: str
    kind: Literal["hub", "branch"]
    owner: str = Field(description="code of the company that owns the site's stock")
    replenished_from: str | None = Field(description="code of the site that replenishes this one")
    version: int


class Location(Out):
    """A location of a site: a physical bin, or a virtual one that balances the ledger."""

    id: int
    site: str
    code: str
    type: LocationKind = Field(
        description="storage, pick, bulk, staging or dock for bins; the others are virtual"
    )
    is_virtual: bool
    capacity: int | None = Field(description="in base units")
    hazard_class: str | None
    temperature_class: str | None
    walk_sequence: int | None
    x: int | None
    y: int | None
    max_weight_g: int | None = Field(description="weight the bin takes, in grams")
    max_volume_cm3: int | None = Field(description="volume the bin takes, in cm³")
    to_site: str | None = Field(description="destination site of an in-transit location")
    active: bool
    version: int
