"""Request bodies of returns (RMA)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stockpilot.shared.fields import MAX_LINES, BaseQuantity, Code, Command, PositiveId, SiteCode

Disposition = Literal["saleable", "repair", "scrap", "return_to_vendor"]


class ReturnLineCreate(Command):
    sku: Code
    quantity: BaseQuantity = Field(ge=1, description="base units")
    lot: str | None = Field(default=None, min_length=1, max_length=60)
    disposition: Disposition | None = Field(
        default=None, description="the expected disposition; inspection may change it"
    )


class ReturnCreate(Command):
    site: SiteCode
    customer: Code
    sales_order: PositiveId | None = None
    shipment: PositiveId | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=200)
    lines: list[ReturnLineCreate] = Field(min_length=1, max_length=MAX_LINES, fail_fast=True)


class ReturnReceive(Command):
    location: Code | None = Field(
        default=None, description="the bin where the goods wait for inspection (default: dock)"
    )


class DispositionLine(Command):
    line_no: PositiveId
    disposition: Disposition | None = Field(default=None, description="default: as authorised")
    location: Code | None = Field(
        default=None, description="saleable or repair: the bin it goes to (default: where it is)"
    )


class ReturnDispose(Command):
    lines: list[DispositionLine] = Field(default_factory=list, max_length=MAX_LINES)
