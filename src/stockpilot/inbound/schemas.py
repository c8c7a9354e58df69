"""Commands of the inbound documents (API bodies and CSV rows validated the same way)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stockpilot.shared.fields import (
    MAX_LINES,
    Code,
    Command,
    IsoDate,
    Money,
    PositiveId,
    Quantity,
    Serials,
    SiteCode,
)

_Body = Command


class PurchaseOrderLineCreate(_Body):
    sku: Code
    quantity: Quantity
    uom: str | None = Field(default=None, max_length=20)
    expected_date: IsoDate | None = None
    unit_price: Money | None = None


class PurchaseOrderCreate(_Body):
    site: SiteCode
    supplier: Code
    number: str | None = Field(default=None, min_length=1, max_length=40)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    order_date: IsoDate | None = None
    status: Literal["draft", "confirmed"] = Field(
        default="confirmed",
        description="confirmed: sent to the supplier and receivable; draft: still being edited",
    )
    lines: list[PurchaseOrderLineCreate] = Field(min_length=1, max_length=MAX_LINES, fail_fast=True)


class OverReceiptApproval(_Body):
    line_no: PositiveId
    quantity: Quantity = Field(description="units allowed beyond the supplier's tolerance")
    reason: str = Field(min_length=1, max_length=200)


class ReceiptLineCreate(_Body):
    sku: Code | None = None
    quantity: Quantity | None = None
    uom: str | None = Field(default=None, max_length=20)
    location: Code | None = Field(
        default=None, description="a bin to receive straight into; without it, the dock"
    )
    lot: str | None = Field(default=None, max_length=60)
    expiry_date: IsoDate | None = None
    status: str = Field(default="available", min_length=1, max_length=20)
    owner: str | None = Field(default=None, max_length=40)
    unit_cost: Money | None = None
    serials: Serials = Field(default_factory=list)
    purchase_order_line: PositiveId | None = Field(
        default=None, description="the PO line number; by default the first open line of the SKU"
    )
    scan: str | None = Field(
        default=None,
        max_length=400,
        description="a GS1-128 / DataMatrix scan: GTIN, lot, expiry, serial and count",
    )


class ReceiptCreate(_Body):
    site: SiteCode
    purchase_order: PositiveId | None = None
    asn: PositiveId | None = None
    sscc: str | None = Field(
        default=None, max_length=60, description="receive every line of this ASN pallet"
    )
    lines: list[ReceiptLineCreate] = Field(
        default_factory=list, max_length=MAX_LINES, fail_fast=True
    )
