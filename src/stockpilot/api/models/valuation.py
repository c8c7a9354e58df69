"""Response bodies of the valuation routes. Values are exact decimal strings in the named
currency, absent for roles without ``cost:read``."""

from __future__ import annotations

from pydantic import Field

from stockpilot.api.models import Out


class ItemValue(Out):
    sku: str
    quantity_on_hand: int
    value: str | None = None


class InventoryValue(Out):
    """Quantity and value of the company's own stock (consigned stock carries none)."""

    site: str | None = Field(description="the site, or null for every site in scope")
    sku: str | None
    at: str | None = Field(description="end of this day (ISO date), or null for now")
    currency: str
    quantity_on_hand: int = Field(description="valued units at the site, base units")
    value: str | None = None
    quantity_in_transit: int = Field(description="units shipped from the site, not arrived")
    in_transit_value: str | None = None
    items: list[ItemValue] | None = Field(
        default=None, description="per item, when no sku is asked for (by_item=true)"
    )


class CostOfGoodsSold(Out):
    """What shipments to customers took out of stock at cost (returns give it back)."""

    site: str | None
    sku: str | None
    from_: str | None = Field(default=None, alias="from")
    to: str | None
    currency: str
    quantity: int = Field(description="units shipped net of returns, base units")
    cogs: str | None = None


class AgeBucket(Out):
    age_days: str = Field(description="0-30, 31-90, 91-180, 181-365 or >365")
    quantity: int
    value: str | None = None


class ItemAge(AgeBucket):
    sku: str


class LayerAging(Out):
    """Open FIFO layers on site by the age of their first receipt."""

    site: str | None
    sku: str | None
    as_of: str
    currency: str
    buckets: list[AgeBucket]
    items: list[ItemAge]


class DeadItem(Out):
    sku: str
    quantity_on_hand: int
    value: str | None = None


class DeadStock(Out):
    """Items holding value with no issue within ``days`` days, largest value first."""

    site: str | None
    as_of: str
    days: int
    currency: str
    value: str | None = None
    items: list[DeadItem]


class AccountTotal(Out):
    company: str
    account: str
    debit: str
    credit: str


class Journal(Out):
    """Journal totals of a period per company and account (needs cost:read); they balance."""

    site: str | None
    from_: str | None = Field(default=None, alias="from")
    to: str | None
    currency: str
    accounts: list[AccountTotal]


class Revaluation(Out):
    """A revaluation of one item at one site: posted, or pending approval."""

    id: int
    site: str
    sku: str
    unit_cost: str | None = None
    reason: str
    status: str = Field(description="pending or posted")
    value_change: str | None = Field(
        default=None, description="what the stock's value changed by (estimated while pending)"
    )
    requested_by: int | None
    approved_by: int | None


class LandedCostLine(Out):
    sku: str
    line_no: int | None
    allocated: str | None = None
    on_hand_value: str | None = None
    price_variance: str | None = None


class LandedCost(Out):
    """A landed cost shared over a receipt's lines."""

    receipt: int
    amount: str | None = None
    basis: str
    lines: list[LandedCostLine]
