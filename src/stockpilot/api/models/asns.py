"""Response bodies of advance shipping notices (ASNs)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from stockpilot.api.models import Out


class AsnLine(Out):
    """One announced line; quantities in the item's base unit."""

    id: int
    line_no: int
    purchase_order: int | None = Field(description="the purchase order's id")
    purchase_order_number: str | None
    po_line: int | None = Field(description="the PO line number it ships against")
    sku: str
    quantity: int
    quantity_received: int = Field(description="0 until its pallet (or the ASN) is received")
    lot: str | None
    expiry_date: date | None
    serials: list[str]
    sscc: str | None = Field(description="the pallet (or carton) it travels on")


class AsnPallet(Out):
    """One SSCC of the ASN: scan it at the dock to receive every line on it."""

    sscc: str
    lines: int
    quantity: int
    received: bool


class Asn(Out):
    """An advance shipping notice: open → receiving → received."""

    id: int
    number: str
    site: str
    supplier: str
    status: str
    source: str = Field(description="api, x12 or csv")
    ship_date: date | None
    expected_date: date | None
    created_at: datetime
    quantity: int
    quantity_received: int
    pallets: list[AsnPallet]
    lines: list[AsnLine]
    receipts: list[int] = Field(description="the receipts posted against it")


class AsnsCreated(Out):
    """The ASNs an X12 interchange created, in the order of its transaction sets."""

    ids: list[int]
    asns: list[Asn]
