"""Outbound commands: sales orders, routes, waves and shipments, as they arrive from outside."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stockpilot.shared.fields import MAX_LINES, Count, IsoDate, PositiveId, Quantity, StrictInt

Channel = Literal["field_sales", "branch_counter", "ecommerce", "edi"]
CHANNELS: tuple[str, ...] = ("field_sales", "branch_counter", "ecommerce", "edi")
PickMethod = Literal["discrete", "batch", "zone"]
_CUTOFF = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]", re.ASCII)


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class SalesOrderLineCreate(_Command):
    sku: str = Field(min_length=1, max_length=60)
    quantity: Quantity
    uom: str | None = Field(default=None, max_length=20)


class SalesOrderCreate(_Command):
    site: str = Field(min_length=1, max_length=40)
    customer: str = Field(min_length=1, max_length=40)
    number: str | None = Field(default=None, max_length=40)
    requested_date: IsoDate | None = None
    promised_date: IsoDate | None = None
    route: str | None = Field(default=None, min_length=1, max_length=40)
    channel: Channel = "field_sales"
    priority: StrictInt | None = Field(
        default=None, ge=1, le=5, description="1 (highest) … 5; overrides the customer's"
    )
    lines: list[SalesOrderLineCreate] = Field(min_length=1, max_length=MAX_LINES, fail_fast=True)


class RouteCreate(_Command):
    site: str = Field(min_length=1, max_length=40)
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(default="", max_length=200)
    cutoff_time: str | None = Field(
        default=None, description="the truck's cut-off, HH:MM (24 h, site time)"
    )

    @field_validator("cutoff_time")
    @classmethod
    def _hh_mm(cls, value: str | None) -> str | None:
        if value is not None and not _CUTOFF.fullmatch(value):
            raise ValueError("must be a time of day written HH:MM, e.g. 15:30")
        return value


class WaveCreate(_Command):
    site: str = Field(min_length=1, max_length=40)
    sales_orders: list[PositiveId] = Field(min_length=1, max_length=MAX_LINES, fail_fast=True)
    method: PickMethod = "discrete"
    cart_size: Count | None = Field(
        default=None, ge=1, le=100, description="batch picking: orders per cart (default 8)"
    )


WaveGrouping = Literal["route", "ship_date"]


def _route_and_date() -> list[WaveGrouping]:
    return ["route", "ship_date"]


class WavePlan(_Command):
    site: str = Field(min_length=1, max_length=40)
    by: list[WaveGrouping] = Field(default_factory=_route_and_date, min_length=1, max_length=2)
    max_lines: Count | None = Field(default=None, ge=1, le=MAX_LINES)
    method: PickMethod = "discrete"
    cart_size: Count | None = Field(default=None, ge=1, le=100)


class ShipRequest(_Command):
    cartons: Count | None = Field(default=None, ge=1, le=100_000)


class SiteRequest(_Command):
    site: str = Field(min_length=1, max_length=40)


class PickConfirmation(_Command):
    task_id: PositiveId
    quantity: Count | None = Field(default=None, description="picked; default the task's")


class PickBatch(_Command):
    picks: list[PickConfirmation] = Field(min_length=1, max_length=MAX_LINES, fail_fast=True)
