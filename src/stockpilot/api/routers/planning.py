"""Planning resources: planning runs, policies, forecasts, proposals (with planner actions),
scenarios, and the draft purchase and transfer orders that accepted proposals become."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, SettingsDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.planning import (
    Forecast,
    PlanningPolicy,
    PlanningRun,
    PlanningRunCreated,
    PolicyOverridden,
    Proposal,
    ProposalDetail,
    ProposalOverridden,
    ProposalOverrideScore,
    ProposalsAccepted,
    ProposalsApproved,
    ProposalsRejected,
    Scenario,
    ScenarioRun,
)
from stockpilot.api.pagination import PageDep, encode_cursor, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.network.service import site_in_scope
from stockpilot.replenishment import actions, queries
from stockpilot.replenishment.run import compute_plan
from stockpilot.replenishment.scenarios import ScenarioRequest, compute_scenarios, store_scenario
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Forbidden
from stockpilot.shared.fields import BaseQuantity, Boolean, PositiveId, StrictFloat

router = APIRouter(route_class=VisibleRoute, tags=["planning"])

Reader = Annotated[Actor, require("planning:read")]
Planner = Annotated[Actor, require("planning:write")]
Approver = Annotated[Actor, require("planning:approve")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


PolicyType = Literal["stock", "make_to_order", "transfer_fulfilled", "phase_out"]


class PlanningRunCreate(_Body):
    period: str = Field(default="week", pattern="^(week|month)$")
    service_level: StrictFloat | None = Field(default=None, gt=0.5, lt=1.0)
    service_type: str = Field(default="cycle", pattern="^(cycle|fill_rate)$")
    segment_policies: Boolean = Field(
        default=False,
        description="apply the default make-to-order, transfer-fulfilled and phase-out rules "
        "(per item-location policy types always apply)",
    )


class ProposalIds(_Body):
    proposal_ids: list[PositiveId] = Field(min_length=1, max_length=5000)


class ProposalReject(ProposalIds):
    reason_code: str | None = Field(default=None, max_length=40)


class ProposalOverride(_Body):
    quantity: BaseQuantity
    reason_code: str = Field(min_length=1, max_length=40)
    comment: str | None = Field(default=None, max_length=400)


class PolicyOverride(_Body):
    sku: str = Field(min_length=1, max_length=60)
    site: str = Field(min_length=1, max_length=40)
    service_level: StrictFloat | None = Field(default=None, gt=0.5, lt=1.0)
    criticality: str | None = Field(default=None, max_length=20)
    policy_type: PolicyType | None = None
    reason_code: str = Field(min_length=1, max_length=40)
    comment: str | None = Field(default=None, max_length=400)


@router.post("/planning-runs", status_code=201, responses=doc(PlanningRunCreated, 201, "Created"))
def create_run(body: PlanningRunCreate, db: DbDep, writer: WriterDep, actor: Planner) -> Response:
    """Plan every item-location of the network. A run is network-wide (a hub's transfer
    proposals answer its branches' needs) and supersedes the open proposals of every site, so
    only a user with access to all sites may start one: a user bound to sites is refused."""
    if not actor.all_sites:
        raise Forbidden("a planning run covers every site; a user bound to sites may not start one")
    # The computation reads in its own snapshots; only the write joins the idempotent
    # transaction, so a replayed key computes but writes nothing.
    computation = compute_plan(
        db,
        period=body.period,
        service_level=body.service_level,
        service_type=body.service_type,
        segment_policies=body.segment_policies,
    )

    def work(conn: Connection) -> tuple[int, Any]:
        summary = computation.write(conn, actor)
        return 201, {
            "id": summary.run_id,
            "item_locations": summary.item_locations,
            "proposals": summary.proposals,
            "timings": summary.timings,
        }

    return writer.run(actor, work).response()


@router.get("/planning-runs", responses=doc(Page[PlanningRun]))
def list_runs(db: DbDep, actor: Reader, paging: PageDep) -> Any:
    with db.read() as conn:
        rows = queries.list_runs(conn, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/policies", responses=doc(Page[PlanningPolicy]))
def list_policies(
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    site: VisibleSite,
    sku: str | None = None,
    run_id: int | None = None,
) -> Any:
    with db.read() as conn:
        rows = queries.list_policies(
            conn,
            actor,
            after_id=paging.after_id,
            limit=paging.fetch,
            sku=sku,
            site_code=site.code if site else None,
            run_id=run_id,
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.post(
    "/policies/overrides", status_code=201, responses=doc(PolicyOverridden, 201, "Created")
)
def override_policy(body: PolicyOverride, writer: WriterDep, actor: Planner) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        return 201, asdict(
            actions.set_policy_override(
                conn,
                actor,
                body.sku,
                body.site,
                service_level=body.service_level,
                criticality=body.criticality,
                reason=body.reason_code,
                comment=body.comment,
                policy_type=body.policy_type,
            )
        )

    return writer.run(actor, work).response()


@router.get("/forecasts", responses=doc(Page[Forecast]))
def list_forecasts(
    db: DbDep, actor: Reader, paging: PageDep, site: VisibleSite, sku: str | None = None
) -> Any:
    with db.read() as conn:
        rows = queries.list_policies(
            conn,
            actor,
            after_id=paging.after_id,
            limit=paging.fetch,
            sku=sku,
            site_code=site.code if site else None,
        )
    forecasts = [
        {
            "id": r["id"],
            "run_id": r["run_id"],
            "sku": r["sku"],
            "site": r["site"],
            "demand_class": r["demand_class"],
            "method": r["forecast"]["method"],
            "parameters": r["forecast"]["parameters"],
            "forecast_per_period": r["forecast_per_period"],
            "forecast_sigma": r["forecast_sigma"],
            "mase": r["forecast"]["mase"],
            "outliers": r["forecast"]["outliers"],
        }
        for r in rows
    ]
    return page(forecasts, paging, lambda r: int(r["id"]))


@router.get("/proposals", responses=doc(Page[Proposal]))
def list_proposals(
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    site: VisibleSite,
    status: str | None = None,
    kind: str | None = None,
    sku: str | None = None,
) -> Any:
    with db.read() as conn:
        rows = queries.list_proposals(
            conn,
            actor,
            after_id=paging.after_id,
            limit=paging.fetch,
            status=status,
            kind=kind,
            site_code=site.code if site else None,
            sku=sku,
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/proposals/override-scores", responses=doc(Page[ProposalOverrideScore]))
def override_scores(db: DbDep, actor: Reader, paging: PageDep) -> Any:
    with db.read() as conn:
        scored = actions.score_overrides(conn, actor, after_id=paging.after_id, limit=paging.limit)
    after = scored.after_id
    return {
        "items": [asdict(s) for s in scored.items],
        "next_cursor": None if after is None else encode_cursor(after),
    }


@router.get("/proposals/{proposal_id:int}", responses=doc(ProposalDetail))
def get_proposal(proposal_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return queries.get_proposal(conn, actor, proposal_id)


@router.post("/proposals/{proposal_id:int}/override", responses=doc(ProposalOverridden))
def override_proposal(
    proposal_id: int, body: ProposalOverride, writer: WriterDep, actor: Planner
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        return 200, asdict(
            actions.override(
                conn, actor, proposal_id, body.quantity, body.reason_code, body.comment
            )
        )

    return writer.run(actor, work).response()


@router.post("/proposals/accept", responses=doc(ProposalsAccepted))
def accept_proposals(
    body: ProposalIds, writer: WriterDep, settings: SettingsDep, actor: Planner
) -> Response:
    limits = actions.Thresholds(settings.approval_value_threshold, settings.approval_override_ratio)

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, asdict(actions.accept(conn, actor, body.proposal_ids, limits))

    return writer.run(actor, work).response()


@router.post("/proposals/approve", responses=doc(ProposalsApproved))
def approve_proposals(body: ProposalIds, writer: WriterDep, actor: Approver) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        return 200, asdict(actions.approve(conn, actor, body.proposal_ids))

    return writer.run(actor, work).response()


@router.post("/proposals/reject", responses=doc(ProposalsRejected))
def reject_proposals(body: ProposalReject, writer: WriterDep, actor: Planner) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        return 200, asdict(actions.reject(conn, actor, body.proposal_ids, body.reason_code))

    return writer.run(actor, work).response()


@router.post("/scenarios", status_code=201, responses=doc(ScenarioRun, 201, "Created"))
def create_scenario(
    body: ScenarioRequest, db: DbDep, writer: WriterDep, actor: Planner
) -> Response:
    if body.site is not None:
        with db.read() as conn:
            site_in_scope(conn, actor, body.site)
    result = compute_scenarios(db, body, actor)

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, {**result.body(), "id": store_scenario(conn, actor, body, result)}

    return writer.run(actor, work).response()


@router.get("/scenarios", responses=doc(Page[Scenario]))
def list_scenarios(db: DbDep, actor: Reader, paging: PageDep) -> Any:
    with db.read() as conn:
        rows = queries.list_scenarios(conn, actor, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/scenarios/{scenario_id:int}", responses=doc(Scenario))
def get_scenario(scenario_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return queries.get_scenario(conn, actor, scenario_id)
