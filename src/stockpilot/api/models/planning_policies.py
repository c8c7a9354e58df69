"""Response bodies of api/routers/planning_policies.py: the master-data health report, events,
order terms, pilots and the calibration report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out

DataQualityRule = Literal[
    "lead_time_drift",
    "missing_dimensions",
    "implausible_dimensions",
    "pack_without_unit",
    "demand_without_supplier",
    "supplier_without_receipts",
]
DataQualityOwner = Literal["buyer", "master_data", "purchasing"]


class DataQualityFinding(Out):
    """One finding of the master-data health report and the role that fixes it."""

    id: int = Field(description="position in the report (the cursor key)")
    rule: DataQualityRule
    owner: DataQualityOwner
    sku: str | None
    supplier: str | None
    detail: str
    value: float | None = Field(description="the measured value (days, g/cm³, pack size)")
    expected: float | None = Field(description="what the master data says, where it says one")


class DataQualityCount(Out):
    rule: DataQualityRule
    owner: DataQualityOwner
    findings: int


class DataQualityReport(Out):
    """Counts per rule over the whole report, and one page of its findings."""

    counts: list[DataQualityCount]
    items: list[DataQualityFinding]
    next_cursor: str | None


class AlternateSource(Out):
    """An item whose supplier fails and the supplier chosen in its place (null: none)."""

    sku: str
    primary: str
    reason: str = Field(description="disrupted, or the lead time drift that triggered it")
    alternate: str | None
    unit_cost: float | None
    lead_time_days: float | None
    on_time_share: float | None
    score: float | None = Field(description="cost, lead time and reliability, lower is better")


class AlternateSources(Out):
    items: list[AlternateSource]


# --- what a planner sets for the run: events, order terms, pilots ---------------------------


class PlanningEventOut(Out):
    """A known event or promotion: the forecast of the item (null: every item) at the site
    (null: every site) is raised by ``uplift_pct`` over the window."""

    id: int
    name: str
    sku: str | None
    site: str | None
    start_date: date
    end_date: date
    uplift_pct: float
    family: str | None = Field(default=None, description="every item of this family")


class PlanningEventDeleted(Out):
    id: int
    deleted: Literal[True]


class OrderTermsOut(Out):
    """A supplier's minimum order value and free-freight threshold (shown with ``cost:read``)."""

    supplier: str
    min_order_value: Decimal | None = None
    free_freight_value: Decimal | None = None


class OrderTermsList(Out):
    items: list[OrderTermsOut]


class PilotOut(Out):
    """A challenger policy set on one segment (``scope_field = scope_value``)."""

    id: int
    name: str
    scope_field: Literal["demand_class", "abc"]
    scope_value: str
    service_level: float | None
    segment_policies: bool
    status: Literal["active", "ended"]


class PilotGroup(Out):
    group: Literal["pilot", "rest"]
    arm: Literal["champion", "challenger"]
    series: int
    fill_rate: float | None
    average_on_hand: float
    turns: float | None


class PilotReportOut(Out):
    """The pilot segment under both arms and the rest under the champion, replayed on the last
    ``holdout`` periods, with the verdict."""

    pilot: PilotOut
    holdout: int
    groups: list[PilotGroup]
    verdict: Literal["roll out", "keep champion"]
    reason: str


class CalibrationRow(Out):
    demand_class: str
    series: int
    protection_periods: int
    exceeded_k0: float | None
    exceeded_k1: float | None
    exceeded_k1645: float | None
    normal_k0: float
    normal_k1: float
    normal_k1645: float
    fill_rate: float | None
    median_inventory_to_demand: float | None


class CalibrationReport(Out):
    holdout: int
    period: str
    items: list[CalibrationRow]
