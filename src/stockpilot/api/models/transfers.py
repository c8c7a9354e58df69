"""Response bodies of the transfer-order routes (api/routers/transfers.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from stockpilot.api.models import Out


class TransferOrderLine(Out):
    line_no: int
    sku: str
    quantity: int
    quantity_allocated: int = Field(description="reserved at the origin, not yet shipped")
    quantity_shipped: int
    quantity_received: int
    quantity_in_transit: int = Field(
        description="shipped and not yet received nor written off (this order's share)"
    )
    due_date: date | None
    short_cause: str | None = Field(description="why the origin could not allocate it all")
    transfer_price: Decimal | None = Field(
        default=None, description="intercompany price per base unit (cost field)"
    )
    proposal_id: int | None = Field(
        default=None, description="the planning proposal the line was drafted from"
    )


class TransferDiscrepancy(Out):
    id: int
    line_no: int | None
    kind: str = Field(description="short, over or damaged")
    quantity: int
    status: str = Field(description="open until a supervisor resolves it")
    resolution: str | None = Field(description="write_off, found or accept")
    reason: str | None
    receipt: int | None


class TransferMargin(Out):
    """What the receiving company paid against what the goods cost the shipping one (cost
    fields: absent without cost:read)."""

    price_value: str | None = Field(default=None, description="transfer price × received")
    cost_value: str | None = Field(default=None, description="the shipping company's cost")
    margin_value: str | None = Field(default=None, description="price less cost")


class TransferOrder(Out):
    """A transfer order: confirmed → partially_shipped / shipped → partially_received →
    received; cancelled before anything ships."""

    id: int
    from_site: str
    to_site: str
    status: str
    priority: int | None = Field(description="1 (highest) … 5; null: the default 2")
    intercompany: bool
    margin: TransferMargin | None = Field(
        default=None, description="intercompany only: the shipping company's margin so far"
    )
    created_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None
    version: int
    lines: list[TransferOrderLine]
    receipts: list[int] = Field(description="receipts at the destination (putaway follows)")
    discrepancies: list[TransferDiscrepancy]
