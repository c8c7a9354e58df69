"""Response bodies of api/routers/planning_policies.py: the master-data health report."""

from __future__ import annotations

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
