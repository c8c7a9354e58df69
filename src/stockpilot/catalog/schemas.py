"""Commands for master data, shared by the API and the CSV import (validated the same way)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from stockpilot.shared.fields import Boolean, Count, Factor, Money, StrictFloat, StrictInt


def _path_safe(code: str) -> str:
    """A code is read back through a path (``/items/{sku}``): it may hold ``/`` between other
    characters, but no empty, ``.`` or ``..`` segment, which a path would fold away."""
    if any(segment in ("", ".", "..") for segment in code.split("/")):
        raise ValueError("a code may not hold an empty, '.' or '..' segment between '/'")
    return code


Code = Annotated[
    str,
    Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/ ]*$"),
    AfterValidator(_path_safe),
]


CostMethod = Literal["fifo", "average", "standard"]
"""How issues of an item are valued (stockpilot.valuation.rules); a change applies to an
item × site once its stock on hand there is gone."""


class UnitOfMeasure(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    uom: str = Field(min_length=1, max_length=20)
    factor: Factor


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    sku: Code
    description: str = Field(default="", max_length=400)
    base_uom: str = Field(default="EA", min_length=1, max_length=20)
    lot_tracked: Boolean = False
    serial_tracked: Boolean = False
    shelf_life_days: Count | None = None
    hazard_class: str | None = Field(default=None, max_length=20)
    temperature_class: str | None = Field(default=None, max_length=20)
    length_mm: Count | None = None
    width_mm: Count | None = None
    height_mm: Count | None = None
    weight_g: Count | None = None
    pack_size: StrictInt = Field(default=1, ge=1, le=10**15)
    moq: StrictInt = Field(default=1, ge=1, le=10**15)
    unit_cost: Money | None = None
    supplier: str | None = None
    criticality: str | None = Field(default=None, max_length=20)
    family: str | None = Field(
        default=None, min_length=1, max_length=60, description="the item family (product group)"
    )
    cross_dock: Boolean = Field(
        default=False, description="inbound goods may go from the dock to a waiting order"
    )
    cost_method: CostMethod = "fifo"
    standard_cost: Money | None = None
    units: list[UnitOfMeasure] = Field(default_factory=list, max_length=20)

    @field_validator("units")
    @classmethod
    def _distinct_units(cls, units: list[UnitOfMeasure]) -> list[UnitOfMeasure]:
        if len({u.uom for u in units}) != len(units):
            raise ValueError("units of measure must be distinct")
        return units


class ItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    description: str | None = Field(default=None, max_length=400)
    shelf_life_days: Count | None = None
    hazard_class: str | None = Field(default=None, max_length=20)
    temperature_class: str | None = Field(default=None, max_length=20)
    pack_size: StrictInt | None = Field(default=None, ge=1, le=10**15)
    moq: StrictInt | None = Field(default=None, ge=1, le=10**15)
    unit_cost: Money | None = None
    criticality: str | None = Field(default=None, max_length=20)
    family: str | None = Field(default=None, min_length=1, max_length=60)
    active: Boolean | None = None
    cost_method: CostMethod | None = None
    standard_cost: Money | None = None


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    code: Code
    name: str = Field(min_length=1, max_length=200)
    priority: StrictInt = Field(default=3, ge=1, le=9, description="1 = most important")
    ship_complete: Boolean = False
    min_shelf_life_days: Count | None = None
    allow_substitutes: Boolean = False
    cross_dock: Boolean = Field(
        default=False, description="inbound goods may go from the dock straight to its orders"
    )


class SupplierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    code: Code
    name: str = Field(min_length=1, max_length=200)
    lead_time_days: StrictFloat | None = Field(default=None, ge=0, le=3650)
    lead_time_std_days: StrictFloat | None = Field(default=None, ge=0, le=3650)
    receipt_tolerance_pct: StrictFloat | None = Field(default=None, ge=0, le=100)
