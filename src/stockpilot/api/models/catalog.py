"""Response bodies of the master-data routes (api/routers/catalog.py)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from stockpilot.api.models import Out


class ItemUnit(Out):
    """A unit of measure of an item and its exact size in the item's base unit."""

    uom: str
    factor: str = Field(
        description='base units per one of this unit, exact: an integer ("12") or a fraction '
        '("1/2")'
    )


class Item(Out):
    """An item (SKU); ``version`` is its ETag, sent back in ``If-Match`` to change it."""

    id: int
    sku: str
    description: str
    base_uom: str = Field(description="the unit every quantity of this item is counted in")
    lot_tracked: bool
    serial_tracked: bool
    shelf_life_days: int | None
    hazard_class: str | None
    temperature_class: str | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    weight_g: int | None
    pack_size: int = Field(description="base units per pack")
    moq: int = Field(description="minimum order quantity, in base units")
    unit_cost: Decimal | None = Field(
        default=None, description="cost of one base unit; absent without cost:read"
    )
    supplier: str | None = Field(description="code of the usual supplier")
    criticality: str | None
    family: str | None = Field(default=None, description="the item family (product group)")
    cross_dock: bool = Field(
        default=False, description="inbound goods may go from the dock to a waiting order"
    )
    active: bool
    version: int
    cost_method: str = Field(default="fifo", description="fifo, average or standard")
    standard_cost: Decimal | None = Field(
        default=None, description="standard cost of one base unit; absent without cost:read"
    )
    units: list[ItemUnit] = Field(description="alternative units of measure, by uom")


class Supplier(Out):
    """A supplier."""

    id: int
    code: str
    name: str
    lead_time_days: float | None
    lead_time_std_days: float | None = Field(description="standard deviation of the lead time")
    receipt_tolerance_pct: Decimal | None = Field(
        description="over/under receipt tolerance in percent (5 when not set)"
    )
    version: int


class Customer(Out):
    """A customer."""

    id: int
    code: str
    name: str
    priority: int = Field(description="1 = most important")
    ship_complete: bool = Field(description="ship an order only when every line is picked")
    min_shelf_life_days: int | None = Field(description="days of shelf life a lot must have left")
    allow_substitutes: bool
    cross_dock: bool = Field(
        default=False, description="inbound goods may go from the dock straight to its orders"
    )
    version: int
