"""Commands for master data, shared by the API and the CSV import (validated the same way)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Code = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/ ]*$")


class UnitOfMeasure(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    uom: str = Field(min_length=1, max_length=20)
    factor: Decimal = Field(gt=0, description="base units per one of this unit (exact)")


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    sku: str = Code
    description: str = Field(default="", max_length=400)
    base_uom: str = Field(default="EA", min_length=1, max_length=20)
    lot_tracked: bool = False
    serial_tracked: bool = False
    shelf_life_days: int | None = Field(default=None, ge=0)
    hazard_class: str | None = Field(default=None, max_length=20)
    temperature_class: str | None = Field(default=None, max_length=20)
    length_mm: int | None = Field(default=None, ge=0)
    width_mm: int | None = Field(default=None, ge=0)
    height_mm: int | None = Field(default=None, ge=0)
    weight_g: int | None = Field(default=None, ge=0)
    pack_size: int = Field(default=1, ge=1)
    moq: int = Field(default=1, ge=1)
    unit_cost: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=6)
    supplier: str | None = None
    criticality: str | None = Field(default=None, max_length=20)
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
    shelf_life_days: int | None = Field(default=None, ge=0)
    hazard_class: str | None = Field(default=None, max_length=20)
    temperature_class: str | None = Field(default=None, max_length=20)
    pack_size: int | None = Field(default=None, ge=1)
    moq: int | None = Field(default=None, ge=1)
    unit_cost: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=6)
    criticality: str | None = Field(default=None, max_length=20)
    active: bool | None = None


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    priority: int = Field(default=3, ge=1, le=9, description="1 = most important")


class SupplierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    lead_time_days: float | None = Field(default=None, ge=0)
    lead_time_std_days: float | None = Field(default=None, ge=0)
