"""Transfer-order commands as they arrive from outside (API bodies)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stockpilot.shared.fields import (
    MAX_LINES,
    Boolean,
    Code,
    IsoDate,
    Money,
    Quantity,
    SiteCode,
    StrictInt,
)

Resolution = Literal["write_off", "found", "accept"]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class TransferLineCreate(_Command):
    sku: Code
    quantity: Quantity
    due_date: IsoDate | None = None
    transfer_price: Money | None = Field(
        default=None,
        description="intercompany: the price per base unit the receiving company pays",
    )


class TransferOrderCreate(_Command):
    from_site: SiteCode
    to_site: SiteCode
    priority: StrictInt | None = Field(
        default=None,
        ge=1,
        le=5,
        description="1 (highest) … 5 against the origin's sales orders; default 2",
    )
    lines: list[TransferLineCreate] = Field(min_length=1, max_length=MAX_LINES, fail_fast=True)


class TransferReceiveLine(_Command):
    sku: Code
    quantity: Quantity
    lot: str | None = Field(default=None, max_length=60)
    status: str = Field(default="available", min_length=1, max_length=20)
    location: Code | None = Field(
        default=None, description="a bin to receive straight into; without it, the dock"
    )
    reason: str | None = Field(
        default=None, max_length=40, description="a reason code for a damaged or over line"
    )


class TransferReceive(_Command):
    lines: list[TransferReceiveLine] = Field(
        default_factory=list,
        max_length=MAX_LINES,
        fail_fast=True,
        description="what arrived; empty: everything still in transit for the order",
    )
    close: Boolean = Field(
        default=False,
        description="nothing more will arrive: what is still in transit is recorded short",
    )


class DiscrepancyResolve(_Command):
    resolution: Resolution
    reason: str = Field(min_length=1, max_length=40)
