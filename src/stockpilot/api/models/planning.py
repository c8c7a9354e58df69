"""Response bodies of the planning routes (api/routers/planning.py).

Planning outputs (forecasts, safety stocks, reorder points, lead times in periods) are floats:
the engine computes them as such and the policy table stores them as such. Proposal and order
quantities are whole units. The only money fields are ``unit_cost`` (a decimal string, as
everywhere) and a drafted document's ``value`` (a number); both are absent without ``cost:read``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from stockpilot.api.models import Out
from stockpilot.replenishment.scenarios import ScenarioRequest

PlanningPeriod = Literal["week", "month"]
ServiceType = Literal["cycle", "fill_rate"]
DemandClass = Literal["smooth", "erratic", "intermittent", "lumpy", "no_demand"]
ProposalKind = Literal["purchase", "transfer"]
ProposalStatus = Literal["proposed", "pending_approval", "accepted", "rejected", "superseded"]
DraftDocumentType = Literal["purchase_order", "transfer_order"]


# --- planning runs -------------------------------------------------------------------------


class PlanningRunPilot(Out):
    """The challenger a run applied to one segment."""

    field: Literal["demand_class", "abc"]
    value: str
    service_level: float | None
    segment_policies: bool


class PlanningRunParameters(Out):
    """What a planning run was asked for."""

    service_level: float | None = Field(
        description="the service level forced on every item-location; null: per segment"
    )
    service_type: ServiceType
    period: PlanningPeriod
    segment_policies: bool = Field(
        default=False, description="the default segment rules applied (make-to-order, …)"
    )
    pilot: PlanningRunPilot | None = Field(
        default=None, description="the pilot in force when the run planned"
    )


class PlanningRunCreated(Out):
    """A planning run just written: how much it planned and how long each step took."""

    id: int
    item_locations: int
    proposals: int
    timings: dict[str, float] = Field(description="seconds per step, the write included")


class PlanningRun(Out):
    """A planning run."""

    id: int
    status: Literal["running", "done"]
    period: PlanningPeriod
    as_of: date
    started_at: datetime
    finished_at: datetime | None
    item_locations: int
    proposals: int
    parameters: PlanningRunParameters
    timings: dict[str, float] | None = Field(description="seconds per step, the write included")


# --- policies and forecasts ----------------------------------------------------------------


class PlanningPolicyForecast(Out):
    """The forecast a policy was computed from."""

    method: str = Field(description="forecasting method chosen, e.g. ses, holt, croston, sba")
    parameters: str | None = Field(description="the method's smoothing parameters, as text")
    mase: float | None = Field(description="mean absolute scaled error on the holdout")
    outliers: int = Field(description="history periods treated as outliers")


class PlanningPolicy(Out):
    """The inventory policy of one item at one site, from one planning run (in periods)."""

    id: int
    run_id: int
    sku: str
    site: str
    demand_class: DemandClass
    abc: Literal["A", "B", "C"]
    xyz: Literal["X", "Y", "Z"]
    service_level: float
    service_type: ServiceType
    forecast_per_period: float
    forecast_sigma: float
    lead_time_periods: float
    lead_time_std_periods: float
    lead_time_source: Literal["history", "supplier", "master_data", "default"] | None = Field(
        description="where the lead time came from: this lane's receipts, the supplier's, "
        "the quoted lead time, or the default"
    )
    safety_stock: float
    reorder_point: float
    order_up_to: float
    order_quantity: float
    policy_type: Literal["stock", "make_to_order", "transfer_fulfilled", "phase_out"] | None = (
        Field(default=None, description="the segment policy (docs/planning.md)")
    )
    policy_reason: str | None = Field(default=None, description="the rule or override")
    excess_flag: bool | None = Field(default=None, description="phase-out: stock is excess")
    event_uplift: float | None = Field(
        default=None, description="largest event uplift over the protection interval (share)"
    )
    in_pilot: bool | None = Field(default=None, description="planned by the active pilot")
    forecast: PlanningPolicyForecast


class Forecast(Out):
    """The demand forecast of one item at one site, from the latest planning run."""

    id: int = Field(description="the id of the policy the forecast belongs to")
    run_id: int
    sku: str
    site: str
    demand_class: DemandClass
    method: str = Field(description="forecasting method chosen, e.g. ses, holt, croston, sba")
    parameters: str | None = Field(description="the method's smoothing parameters, as text")
    forecast_per_period: float
    forecast_sigma: float
    mase: float | None = Field(description="mean absolute scaled error on the holdout")
    outliers: int = Field(description="history periods treated as outliers")


class PolicyOverridden(Out):
    """The override now set on one item-location's policy."""

    sku: str
    site: str
    service_level: float | None
    criticality: str | None
    reason_code: str
    comment: str | None
    policy_type: str | None = None


# --- proposals -----------------------------------------------------------------------------


class _ProposalInputs(Out):
    """The numbers a proposal was computed from (units and periods, rounded to 3 places)."""

    inventory_position: float | None
    reorder_point: float | None
    order_up_to: float | None
    safety_stock: float | None
    forecast_per_period: float | None
    lead_time_periods: float | None
    service_level: float | None
    forecast_method: str | None
    demand_class: DemandClass | None


class TransferProposalInputs(_ProposalInputs):
    """The numbers behind a transfer proposal, with the sending site's."""

    source_free_on_hand: float | None
    source_inventory_position: float | None


class PurchaseProposalInputs(_ProposalInputs):
    """The numbers behind a purchase proposal, with order rounding."""

    inventory_position_after_transfers: float | None
    moq: float | None
    pack_size: float | None


class TransferProposalExplanation(Out):
    """Why a transfer was proposed."""

    inputs: TransferProposalInputs
    formula: str
    source: str = Field(description="code of the sending site")


class PurchaseProposalExplanation(Out):
    """Why a purchase was proposed."""

    inputs: PurchaseProposalInputs
    formula: str
    supplier: str | None = Field(description="the supplier's id, as text (not its code)")


class ProposalDocument(Out):
    """The draft document an accepted proposal became."""

    type: DraftDocumentType
    id: int


class Proposal(Out):
    """A replenishment proposal: a purchase from a supplier or a transfer between sites."""

    id: int
    run_id: int
    kind: ProposalKind
    sku: str
    site: str = Field(description="the receiving site")
    from_site: str | None = Field(description="the sending site of a transfer")
    supplier: str | None = Field(description="the supplier's code, for a purchase")
    group: str = Field(description="proposals of one group become one document")
    quantity_suggested: int
    quantity: int = Field(description="the suggested quantity, or the planner's override")
    unit_cost: Decimal | None = None
    due_date: date | None
    status: ProposalStatus
    reason_code: str | None = Field(description="reason of the latest override or rejection")
    trigger: str
    explanation: TransferProposalExplanation | PurchaseProposalExplanation
    document: ProposalDocument | None
    version: int


class ProposalAction(Out):
    """One planner action on a proposal."""

    action: Literal["override", "accept", "accepted", "reject"] = Field(
        description="accept: sent for approval; accepted: drafted into a document"
    )
    quantity_before: int | None
    quantity_after: int | None
    reason_code: str | None
    comment: str | None
    at: datetime
    user_id: int | None


class ProposalDetail(Proposal):
    """A proposal with every action taken on it, oldest first."""

    actions: list[ProposalAction]


class ProposalOverridden(Out):
    """A proposal after its quantity was overridden."""

    id: int
    quantity: int
    status: Literal["proposed"]
    reason_code: str


class DraftedDocument(Out):
    """A draft purchase or transfer order created from one group of proposals."""

    document_type: DraftDocumentType
    id: int
    group: str
    lines: int = Field(description="number of lines (proposals with a quantity above zero)")
    value: float | None = Field(
        default=None, description="quantity × unit cost over the group, as a number"
    )


class ProposalsAccepted(Out):
    """Accepted proposals: the documents drafted now and the proposals left for approval."""

    documents: list[DraftedDocument]
    pending_approval: list[int] = Field(description="ids of proposals awaiting approval")


class ProposalsApproved(Out):
    """Approved proposals: the documents drafted from them."""

    documents: list[DraftedDocument]


class ProposalsRejected(Out):
    """Rejected proposals."""

    rejected: list[int] = Field(description="ids of the rejected proposals")


class ProposalOverrideScore(Out):
    """An override judged against the demand that followed (in units)."""

    proposal_id: int
    reason_code: str
    quantity_suggested: int
    quantity_override: int
    actual_demand: float
    hindsight_quantity: float = Field(description="what hindsight says should have been ordered")
    error_suggested: float
    error_override: float
    verdict: Literal["better", "worse", "same"] = Field(
        description="the override compared with the suggestion"
    )
    site: str


# --- scenarios -----------------------------------------------------------------------------


class ScenarioOutcome(Out):
    """The replayed horizon under one scenario, totalled over the series."""

    scenario: str = Field(description="the scenario's name; the first row is the baseline")
    fill_rate: float
    cycle_service_level: float
    average_on_hand: float
    stockout_periods: int
    fill_rate_vs_baseline: float
    on_hand_vs_baseline: float
    contingency_units: float = Field(
        default=0.0, description="buffer stock that brings this scenario back to the baseline"
    )
    contingency_holding_cost: float | None = Field(
        default=None, description="its holding cost a year (shown with cost:read)"
    )


class ContingencyBufferOut(Out):
    """The stock one item-location needs against one scenario: the smallest addition to s and
    S that brings its unserved demand back to the baseline's."""

    scenario: str
    sku: str
    site: str
    buffer: float
    holding_cost: float | None = Field(default=None, description="a year (cost:read)")


class ScenarioComparison(Out):
    """Scenarios side by side with the baseline over the held-out periods."""

    name: str
    series: int = Field(description="item-locations replayed")
    holdout_periods: int
    period: PlanningPeriod
    replayed_from: date
    results: list[ScenarioOutcome]
    contingency: list[ContingencyBufferOut] = Field(
        default_factory=list, description="the dearest buffers first (at most 200)"
    )


class ScenarioRun(ScenarioComparison):
    """A scenario comparison just run and stored."""

    id: int


class Scenario(Out):
    """A stored scenario comparison with the request it ran."""

    id: int
    name: str
    created_at: datetime
    parameters: ScenarioRequest
    result: ScenarioComparison | None


# --- draft orders --------------------------------------------------------------------------


class PurchaseOrderLine(Out):
    """A line of a purchase order."""

    line_no: int
    sku: str
    quantity: int
    due_date: date | None
    proposal_id: int | None
    unit_cost: Decimal | None = None


class PurchaseOrder(Out):
    """A purchase order drafted from proposals."""

    id: int
    status: str = Field(description="draft when created from proposals")
    version: int
    created_at: datetime
    lines: list[PurchaseOrderLine]
    site: str
    supplier_id: int
