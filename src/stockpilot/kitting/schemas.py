"""Kitting commands as they arrive from outside. Quantities are whole base units."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stockpilot.shared.fields import MAX_QUANTITY, Boolean, PositiveId, StrictInt

MAX_COMPONENTS = 200


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class KitComponentIn(_Command):
    sku: str = Field(min_length=1, max_length=60)
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY, description="base units in one kit")


class KitCreate(_Command):
    sku: str = Field(min_length=1, max_length=60, description="the kit's own item")
    description: str | None = Field(default=None, max_length=200)
    components: list[KitComponentIn] = Field(min_length=1, max_length=MAX_COMPONENTS)


class KitOrderCreate(_Command):
    kit: str = Field(min_length=1, max_length=60, description="the kit's SKU")
    kind: Literal["assemble", "disassemble"] = "assemble"
    site: str = Field(min_length=1, max_length=40)
    location: str = Field(
        min_length=1, max_length=60, description="the bin the kits go to (or come from)"
    )
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY, description="kits")
    sales_order: PositiveId | None = Field(
        default=None, description="assemble to order: the sales order the kits are for"
    )
    complete: Boolean = Field(default=False, description="post the order at once")
