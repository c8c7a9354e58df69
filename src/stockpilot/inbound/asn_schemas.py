"""The command that creates an advance shipping notice (ASN) from a JSON body.

An X12 856 or an ASN CSV file becomes the same command (`AsnCreate.from_parsed`), so every
source is checked by one service (`inbound.asns`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from stockpilot.inbound.edi_x12 import Asn
from stockpilot.inbound.schemas import Code, Serials, SiteCode
from stockpilot.shared.fields import MAX_LINES, IsoDate, PositiveId, Quantity

AsnNumber = Annotated[str, Field(min_length=1, max_length=40)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class AsnLineCreate(_Body):
    purchase_order: PositiveId | Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="the purchase order: its id (a number) or its number"
    )
    po_line: PositiveId | None = Field(
        default=None, description="the PO line number; by default the first open line of the SKU"
    )
    sku: Code | None = None
    gtin: str | None = Field(
        default=None, max_length=14, description="instead of (or beside) the SKU"
    )
    quantity: Quantity
    uom: str | None = Field(default=None, max_length=20, description="default: the base unit")
    lot: str | None = Field(default=None, max_length=60)
    expiry_date: IsoDate | None = None
    serials: Serials = Field(default_factory=list)
    sscc: str | None = Field(
        default=None, max_length=20, description="the 18-digit SSCC of the pallet it travels on"
    )


class AsnCreate(_Body):
    number: AsnNumber = Field(description="the supplier's shipment number")
    supplier: Code | None = Field(
        default=None, description="the supplier's code; by default the supplier of the POs"
    )
    site: SiteCode | None = Field(
        default=None, description="the receiving site; by default the site of the POs"
    )
    ship_date: IsoDate | None = None
    expected_date: IsoDate | None = None
    lines: list[AsnLineCreate] = Field(min_length=1, max_length=MAX_LINES, fail_fast=True)


def from_parsed(parsed: Asn) -> tuple[AsnCreate, list[str | None]]:
    """An ASN read from X12 or CSV as the command, and where each line stands in its file
    (``HL 4, segment 18`` or ``row 3``) so that a refusal can point there.

    The command is validated like a JSON body (lengths, quantities): a file is held to the
    same limits as the API. The sender's reference becomes the supplier only when it is one
    of our supplier codes (the service decides); PO numbers stay numbers, never ids.
    Raises pydantic's ``ValidationError``.
    """
    lines = [
        {
            "purchase_order": ln.po_number,
            "po_line": ln.po_line,
            "sku": ln.sku,
            "gtin": ln.gtin,
            "quantity": Decimal(ln.quantity),
            "uom": ln.uom,
            "lot": ln.lot,
            "expiry_date": ln.expiry_date,
            "serials": list(ln.serials),
            "sscc": ln.sscc or ln.carton_sscc,
        }
        for ln in parsed.lines
    ]
    cmd = AsnCreate.model_validate(
        {
            "number": parsed.number,
            "supplier": parsed.supplier_ref,
            "ship_date": parsed.ship_date,
            "expected_date": parsed.expected_date,
            "lines": lines,
        }
    )
    return cmd, [ln.source for ln in parsed.lines]
