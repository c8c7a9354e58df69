"""Response bodies of the inbound documents: purchase orders, receipts, ASNs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from stockpilot.api.models import Out


class PurchaseOrderLine(Out):
    """A line of a purchase order; quantities in the item's base unit."""

    id: int
    line_no: int
    sku: str
    quantity: int
    quantity_received: int
    quantity_open: int = Field(description="still expected: 0 once received or closed short")
    expected_date: date | None
    closed: bool
    over_receipt_allowed: int = Field(description="units a supervisor allowed over tolerance")
    proposal_id: int | None
    unit_cost: Decimal | None = None


class PurchaseOrder(Out):
    """A purchase order: draft → confirmed → partially_received → received / closed, or
    cancelled."""

    id: int
    number: str | None
    site: str
    supplier: str
    status: str
    currency: str
    order_date: date | None
    created_at: datetime
    confirmed_at: datetime | None
    closed_at: datetime | None
    version: int
    lines: list[PurchaseOrderLine]


class ReceiptLine(Out):
    line_no: int
    sku: str
    quantity: int
    lot: str | None
    status: str
    location: str = Field(description="where the stock waits: the dock, or the bin given")
    purchase_order_line: int | None
    sscc: str | None
    putaway_task: int | None = Field(description="the task that puts this line away")


class Receipt(Out):
    """A posted receipt: its stock waits at the dock with putaway tasks, or sits in the bins
    given."""

    id: int
    document_type: str = Field(description="receipt")
    site: str
    moves: int = Field(description="number of lines posted")
    quantity: int = Field(description="units received, in the base unit")
    purchase_order: int | None
    asn: int | None
    supplier: str | None
    arrived_at: datetime
    lines: list[ReceiptLine]
    putaway_tasks: list[int]
    purchase_order_status: str | None
