"""Response bodies of the outbound routes: waves, routes, shipments and packing lists
(api/routers/waves.py, shipping.py and the ship action of sales_orders.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out
from stockpilot.api.models.sales_orders import SalesOrder


class WaveSlot(Out):
    """Batch picking: the cart (pick list) an order rides on and its sort-to-order slot."""

    sales_order: int
    pick_list: int | None
    slot: int | None


class WavePickList(Out):
    """One pick list of a released wave."""

    number: int | None
    zone: str | None = Field(description="zone picking: the zone the list covers")
    orders: list[int]
    tasks: int


class TaskCounts(Out):
    open: int
    assigned: int
    done: int
    cancelled: int


class Wave(Out):
    """A wave: orders released together to the floor as pick tasks."""

    id: int
    site: str
    status: Literal["planned", "released", "done", "cancelled"]
    method: Literal["discrete", "batch", "zone"]
    cart_size: int | None
    created_at: dt.datetime
    released_at: dt.datetime | None
    sales_orders: list[int]
    slots: list[WaveSlot]
    pick_lists: list[WavePickList]
    tasks: TaskCounts = Field(description="pick tasks by status")


class WaveReleased(Wave):
    """A wave after its release."""

    pick_tasks: int = Field(description="pick tasks created by this release")
    pick_lists_created: int = Field(description="pick lists they form")
    replenish_tasks: int = Field(description="pick-face replenishments created for them")
    quantity_allocated_now: int = Field(description="units allocated by this release")
    lines_short: int = Field(description="order lines still short after the release")


class WavesPlanned(Out):
    """The waves a plan created, one per group (route, ship date)."""

    items: list[Wave]


class TasksCreated(Out):
    """Tasks created by a request (a top-off of the pick faces)."""

    site: str
    task_ids: list[int]


class PicksConfirmed(Out):
    """A pick list confirmed in one request."""

    confirmed: int
    quantity_picked: int
    quantity_short: int
    count_tasks: list[int] = Field(description="count tasks raised for bins that came up short")


class Route(Out):
    """A route (truck) of a site with its cut-off time."""

    id: int
    site: str
    code: str
    name: str
    cutoff_time: str | None = Field(description="HH:MM")


class ShipmentLine(Out):
    line_no: int
    sku: str
    description: str
    lot: str | None
    expiry_date: dt.date | None
    quantity: int = Field(description="base units")
    uom: str


class Shipment(Out):
    """A shipment of a sales order: what left, when, and whether it was on time."""

    id: int
    sales_order: int
    order_number: str | None
    site: str
    customer: str
    customer_name: str
    shipped_at: dt.datetime
    promised_date: dt.date | None
    on_time: bool | None = Field(description="shipped on or before the promised date")
    cartons: int | None
    lines: list[ShipmentLine]


class SalesOrderShipped(SalesOrder):
    """A sales order after shipping, with the shipment it produced."""

    shipment: Shipment
