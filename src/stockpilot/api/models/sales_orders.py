"""Response bodies of the sales-order routes (api/routers/sales_orders.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out


class SalesOrderLine(Out):
    """One line of a sales order; quantities in the item's base unit."""

    line_no: int
    sku: str
    quantity: int
    uom: str = Field(description="the unit the quantity was entered in")
    quantity_entered: Decimal = Field(description="the quantity as entered, in `uom`")
    quantity_allocated: int = Field(description="allocated and not yet picked")
    quantity_picked: int
    quantity_shipped: int
    quantity_open: int = Field(description="neither allocated nor picked")
    short_cause: ShortCause | None = Field(
        description="why the line was last short: the immediate cause (null if never short)"
    )


ShortCause = Literal[
    "no_stock_at_site",
    "blocking_status_only",
    "pick_face_empty_reserve_has_stock",
    "taken_by_higher_priority",
    "waited_receipt_late",
]

SalesOrderStatus = Literal[
    "open",
    "partially_allocated",
    "allocated",
    "partially_picked",
    "picked",
    "partially_shipped",
    "shipped",
]


class _SalesOrderHeader(Out):
    """The header of a sales order."""

    id: int
    number: str | None
    site: str
    customer: str
    status: SalesOrderStatus = Field(
        description="from the lines after every action: shipped (every unit left), "
        "partially_shipped (the rest is a backorder), picked (every unit), allocated (all "
        "not picked is reserved), partially_picked, partially_allocated, open"
    )
    requested_date: dt.date | None
    promised_date: dt.date | None
    route: str | None = Field(description="the route (truck) code, if any")
    channel: Literal["field_sales", "branch_counter", "ecommerce", "edi"]
    priority: int | None = Field(
        description="the order's own priority (1 highest); else the customer's"
    )
    shipped_at: dt.datetime | None = Field(description="when it last shipped")
    created_at: dt.datetime
    version: int


class SalesOrder(_SalesOrderHeader):
    """A sales order and its lines."""

    lines: list[SalesOrderLine]


class SubstituteOffer(Out):
    sku: str
    quantity_available: int


class SalesOrderAllocatedLine(SalesOrderLine):
    """A sales-order line after allocation, with what is still short."""

    quantity_short: int = Field(description="neither allocated nor picked after this request")
    quantity_allocated_now: int = Field(description="allocated by this request")
    substitutes_offered: list[SubstituteOffer] = Field(
        description="items that could cover the short part (the customer does not take "
        "substitutes unasked)"
    )


class SalesOrderAllocated(_SalesOrderHeader):
    """A sales order after allocation: each line reports what it got and what is short."""

    lines: list[SalesOrderAllocatedLine]


class SalesOrderReleased(SalesOrder):
    """A sales order after its open allocations were released."""

    quantity_released: int = Field(description="units released by this request")


class SalesOrderPicked(SalesOrder):
    """A sales order after picking."""

    quantity_posted: int = Field(description="units picked and shipped to the customer")
    quantity_released: int = Field(description="units released by short picks")


class SalesOrderAllocation(Out):
    """One allocation of a sales order: stock reserved at a bin (and lot) for a line."""

    id: int
    line_no: int | None = Field(description="the order line served; null if none")
    sku: str
    location: str
    lot: str | None
    quantity: int
    quantity_posted: int = Field(description="picked")
    quantity_released: int
    quantity_open: int = Field(description="neither picked nor released")
    state: Literal["open", "closed"]
    created_at: dt.datetime
    closed_at: dt.datetime | None = Field(description="when it was last picked or released")
