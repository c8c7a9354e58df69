"""Response bodies of the stock routes (api/routers/stock.py): positions, available-to-promise,
the ledger's moves, posted stock documents and the ledger check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out
from stockpilot.persistence.tables import PhysicalLocationKind

# The kinds of location stock is reported in: the physical bins, and in-transit locations
# (stock on its way between sites counts once, at the destination, with its origin named).
PositionLocationType = PhysicalLocationKind | Literal["in_transit"]

_ENTERED = "as entered; absent when left at its default"


class StockBreakdown(Out):
    """One stock key of a position: the item's stock at a bin, lot, status and owner."""

    site: str
    location: str
    location_type: PositionLocationType
    lot: str | None
    expiry_date: dt.date | None
    status: str
    owner: str = Field(description="code of the company that owns the stock")
    quantity_on_hand: int = Field(description="0 for stock in transit")
    quantity_allocated: int
    quantity_available: int = Field(
        description="on hand less allocated when the status is allocatable, else 0"
    )
    quantity_in_transit: int = Field(description="on hand at an in-transit location, else 0")
    from_site: str | None = Field(
        default=None,
        description="stock in transit: the site it was shipped from (`site` is where it goes)",
    )


class StockPosition(Out):
    """Totals of one item (at one site, or every visible site) and their breakdown."""

    sku: str
    site: str | None = Field(description="the site asked for; null for every visible site")
    quantity_on_hand: int
    quantity_allocated: int
    quantity_available: int
    quantity_in_transit: int
    breakdown: list[StockBreakdown]


class AtpBucket(Out):
    """Open demand and expected receipts on one date, and what is left to promise after them."""

    date: dt.date | None = Field(description="promised (else requested) date; null if neither")
    demand: int = Field(description="unallocated sales-order quantity due on this date")
    receipts: int = Field(description="open purchase-order quantity expected on this date")
    quantity_atp: int = Field(description="available to promise after this demand")


class AvailableToPromise(Out):
    """Time-phased available-to-promise of one item at one site up to a date."""

    sku: str
    site: str
    date: dt.date
    quantity_available: int
    quantity_in_transit: int = Field(description="stock in transit to the site")
    quantity_committed: int = Field(description="open demand due on or before `date`")
    quantity_on_order: int = Field(description="purchase-order receipts expected by `date`")
    quantity_atp: int
    buckets: list[AtpBucket]


class LedgerMove(Out):
    """One move of the ledger, with codes instead of ids and the sites of both ends."""

    id: int
    effective_at: dt.datetime
    recorded_at: dt.datetime
    document_type: str
    document_id: int | None
    line_no: int | None
    sku: str
    from_site: str
    from_location: str
    to_site: str
    to_location: str
    lot: str | None
    from_status: str
    to_status: str
    owner: str
    quantity: int = Field(description="in the base unit, always positive")
    uom: str | None
    quantity_entered: Decimal | None = Field(description="the quantity as entered, in `uom`")
    unit_cost: Decimal | None = None
    reason_code: str | None
    reverses_move_id: int | None
    user_id: int | None


class _PostedDocument(Out):
    """What a stock operation posted."""

    site: str
    moves: int = Field(description="number of moves posted")
    quantity: int = Field(description="units moved, in the base unit")


class ReceiptLinePosted(Out):
    """A receipt line as entered (fields left at their default are absent)."""

    sku: str
    quantity: Decimal
    location: str
    uom: str | None = Field(default=None, description=_ENTERED)
    lot: str | None = Field(default=None, description=_ENTERED)
    expiry_date: dt.date | None = Field(default=None, description=_ENTERED)
    status: str | None = Field(default=None, description=_ENTERED)
    owner: str | None = Field(default=None, description=_ENTERED)
    unit_cost: Decimal | None = None
    serials: list[str] | None = Field(default=None, description=_ENTERED)


class ReceiptPosted(_PostedDocument):
    """A posted receipt."""

    document_type: Literal["receipt"]
    lines: list[ReceiptLinePosted]


class StockMoveLinePosted(Out):
    """A bin-to-bin or status move line as entered (fields left at their default are absent)."""

    sku: str
    quantity: Decimal
    location: str
    uom: str | None = Field(default=None, description=_ENTERED)
    to_location: str | None = Field(default=None, description=_ENTERED)
    status: str | None = Field(default=None, description=_ENTERED)
    to_status: str | None = Field(default=None, description=_ENTERED)
    lot: str | None = Field(default=None, description=_ENTERED)
    owner: str | None = Field(default=None, description=_ENTERED)
    serials: list[str] | None = Field(default=None, description=_ENTERED)


class StockMovePosted(_PostedDocument):
    """Posted moves: ``status_change`` when no line changes bin, else ``move``."""

    document_type: Literal["move", "status_change"]
    lines: list[StockMoveLinePosted]


class AdjustmentLinePosted(Out):
    """An adjustment line as entered (fields left at their default are absent)."""

    sku: str
    quantity: Decimal = Field(description="signed: positive added stock, negative removed it")
    location: str
    uom: str | None = Field(default=None, description=_ENTERED)
    lot: str | None = Field(default=None, description=_ENTERED)
    status: str | None = Field(default=None, description=_ENTERED)
    owner: str | None = Field(default=None, description=_ENTERED)


class AdjustmentPosted(_PostedDocument):
    """A posted adjustment and its reason code."""

    document_type: Literal["adjustment"]
    lines: list[AdjustmentLinePosted]
    reason: str
    adjustment: int | None = Field(default=None, description="the adjustment document's id")
    status: Literal["posted"] | None = None


class LedgerDrift(Out):
    """A balance counter that differs from what the moves or allocations add up to."""

    item_id: int
    location_id: int
    lot_id: int = Field(description="0 when the stock has no lot")
    status: str
    owner_id: int
    field: Literal["quantity_on_hand", "quantity_allocated"]
    expected: int
    actual: int


class ValueDrift(Out):
    """A value balance that differs from its value-ledger entries or its FIFO cost layers
    (values in micro-units of the currency)."""

    item_id: int
    site_id: int
    transit_location_id: int
    field: str = Field(description="quantity, value, layer_quantity or layer_value")
    expected: int
    actual: int


class LedgerCheck(Out):
    """The ledger check: every balance recomputed from the moves and allocations."""

    ok: bool = Field(description="true when nothing drifted")
    balances_checked: int
    moves_checked: int
    drifts: list[LedgerDrift] = Field(description="only those at the caller's sites")
    value_areas_checked: int = 0
    value_drifts: list[ValueDrift] = Field(
        default_factory=list, description="valuation drift, only at the caller's sites"
    )
