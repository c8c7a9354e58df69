"""Sales-order commands and views."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class SalesOrderLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    sku: str = Field(min_length=1, max_length=60)
    quantity: Decimal = Field(gt=0, max_digits=24, decimal_places=9)
    uom: str | None = Field(default=None, max_length=20)


class SalesOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    site: str = Field(min_length=1, max_length=40)
    customer: str = Field(min_length=1, max_length=40)
    number: str | None = Field(default=None, max_length=40)
    requested_date: date | None = None
    promised_date: date | None = None
    lines: list[SalesOrderLineCreate] = Field(min_length=1)
