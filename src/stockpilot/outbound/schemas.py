"""Sales-order commands and views."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from stockpilot.shared.fields import MAX_LINES, IsoDate, Quantity


class SalesOrderLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    sku: str = Field(min_length=1, max_length=60)
    quantity: Quantity
    uom: str | None = Field(default=None, max_length=20)


class SalesOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    site: str = Field(min_length=1, max_length=40)
    customer: str = Field(min_length=1, max_length=40)
    number: str | None = Field(default=None, max_length=40)
    requested_date: IsoDate | None = None
    promised_date: IsoDate | None = None
    lines: list[SalesOrderLineCreate] = Field(min_length=1, max_length=MAX_LINES)
