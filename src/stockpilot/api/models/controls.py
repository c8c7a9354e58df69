"""Response bodies of the inventory controls: counts, adjustments held for approval, the
sites' control policies, and returns."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out


class CountLine(Out):
    """One stock key of a count: what was expected when it was counted, what was found."""

    line_no: int
    sku: str
    location: str
    lot: str | None
    stock_status: str
    state: Literal["open", "recount", "review", "accepted", "posted", "cancelled"]
    trigger: str | None = Field(description="why it is counted: manual, A/B/C, an exception")
    task: int | None = Field(description="the open count task of this line")
    quantity_expected: int | None = Field(description="the ledger's quantity when counted")
    quantity_counted: int | None
    counted_by: int | None
    quantity_recount_expected: int | None
    quantity_recounted: int | None
    recounted_by: int | None
    quantity_variance: int | None = Field(description="found minus expected (the last count)")
    variance_value: Decimal | None = None
    approved_by: int | None
    adjustment: int | None = Field(description="the adjustment the variance posted as")


class Count(Out):
    """A cycle count: open (tasks to do) → counted (variances wait for approval) → closed."""

    id: int
    site: str
    status: Literal["open", "counted", "closed", "cancelled"]
    source: Literal["manual", "program", "exception"]
    blind: bool
    created_at: datetime
    created_by: int | None
    closed_at: datetime | None
    lines_total: int
    quantity_variance: int
    tasks: list[int] = Field(description="the open count tasks")
    lines: list[CountLine]


class CountProgram(Out):
    """Counts created by a site's program: the bins due by ABC class and by exception."""

    site: str
    count: int | None = Field(description="the count created (null: nothing was due)")
    lines: int
    by_trigger: dict[str, int]


class OperatorAccuracy(Out):
    user_id: int | None
    lines_counted: int
    lines_exact: int
    accuracy: float | None


class CountAccuracy(Out):
    """Lines whose first count matched the ledger, over lines counted (site and operator)."""

    site: str
    lines_counted: int
    lines_exact: int
    accuracy: float | None
    operators: list[OperatorAccuracy]


class ControlPolicy(Out):
    """A site's count frequencies, exceptions, tolerances and adjustment thresholds."""

    site: str
    count_days_a: int
    count_days_b: int
    count_days_c: int
    not_counted_days: int | None
    value_threshold: Decimal | None = None
    recount_quantity: int | None
    recount_value: Decimal | None = None
    approval_quantity: int | None
    approval_value: Decimal | None = None
    adjustment_quantity: int | None
    adjustment_value: Decimal | None = None


class Adjustment(Out):
    """An adjustment document: pending approval, posted, or rejected."""

    id: int
    site: str
    status: Literal["pending", "posted", "rejected"]
    reason: str
    source: Literal["api", "count"]
    source_id: int | None
    quantity: int = Field(description="total absolute base units")
    value: Decimal | None = None
    lines: int
    requested_by: int | None
    requested_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    note: str | None


class ReturnLine(Out):
    line_no: int
    sku: str
    lot: str | None
    quantity: int
    disposition: str | None = Field(description="as authorised (may change at inspection)")
    quantity_received: int
    disposed_as: str | None
    disposed_location: str | None
    reason_code: str | None


class Return(Out):
    """A return (RMA): authorised → received (into inspection) → closed (every line disposed)."""

    id: int
    site: str
    customer: str
    sales_order: int | None
    shipment: int | None
    reason: str | None
    status: Literal["authorised", "received", "closed", "cancelled"]
    receipt: int | None
    location: str | None = Field(description="where the goods wait for inspection")
    created_at: datetime
    received_at: datetime | None
    closed_at: datetime | None
    lines: list[ReturnLine]
