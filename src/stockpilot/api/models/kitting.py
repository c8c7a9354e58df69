"""Response bodies of the kitting routes (api/routers/kits.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out


class KitComponent(Out):
    sku: str
    quantity: int = Field(description="base units in one kit")


class Kit(Out):
    """A kit's bill of material."""

    id: int
    sku: str
    description: str | None
    created_at: datetime
    components: list[KitComponent]


class KitComponentAvailability(Out):
    sku: str
    quantity_per_kit: int
    quantity_available: int
    kits: int = Field(description="kits this component alone would allow")


class KitAvailability(Out):
    """What allocation could take of a kit at a site, and what its components would make."""

    sku: str
    site: str
    quantity_available: int = Field(description="assembled kits, allocatable, not allocated")
    quantity_buildable: int = Field(description="kits the available components make")
    quantity_total: int
    components: list[KitComponentAvailability]


class KitOrderComponent(Out):
    sku: str
    quantity: int = Field(description="base units the order consumes (or gives back)")
    quantity_reserved: int = Field(description="still reserved for the order")


class KitOrder(Out):
    """An assembly or disassembly order."""

    id: int
    kit: str
    kind: Literal["assemble", "disassemble"]
    site: str
    location: str
    quantity: int
    state: Literal["open", "done", "cancelled"]
    sales_order: int | None
    created_at: datetime
    done_at: datetime | None
    components: list[KitOrderComponent]
