"""What a planner sets for the planning run, and the replays that check it: known events
(``/planning-events``), suppliers' order-value terms (``/order-terms``), the champion /
challenger pilot (``/pilots``, its replayed report) and the calibration report of the
engine on this database's history (``/calibration``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.planning_policies import (
    CalibrationReport,
    OrderTermsList,
    OrderTermsOut,
    PilotOut,
    PilotReportOut,
    PlanningEventDeleted,
    PlanningEventOut,
)
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.replenishment import setup
from stockpilot.replenishment.replays import ReplayRequest, calibration_report, pilot_report
from stockpilot.shared.actor import Actor
from stockpilot.shared.fields import Boolean, IsoDate, Money, StrictFloat

router = APIRouter(route_class=VisibleRoute, tags=["planning"])

Reader = Annotated[Actor, require("planning:read")]
Planner = Annotated[Actor, require("planning:write")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class PlanningEventCreate(_Body):
    name: str = Field(min_length=1, max_length=120)
    sku: str | None = Field(default=None, min_length=1, max_length=60)
    family: str | None = Field(
        default=None, min_length=1, max_length=60, description="every item of this family"
    )
    site: str | None = Field(default=None, min_length=1, max_length=40)
    start_date: IsoDate
    end_date: IsoDate
    uplift_pct: StrictFloat = Field(gt=-100, le=1000)


class OrderTermsSet(_Body):
    min_order_value: Money | None = None
    free_freight_value: Money | None = None


class PilotCreate(_Body):
    name: str = Field(min_length=1, max_length=120)
    scope_field: Literal["demand_class", "abc", "family"]
    scope_value: str = Field(min_length=1, max_length=40)
    service_level: StrictFloat | None = Field(default=None, gt=0.5, lt=1.0)
    segment_policies: Boolean = False


# Each replay re-plans once per held-out period: a quarter by default, half a year at most
# over HTTP (the CLI replays longer).
Holdout = Annotated[int, Query(ge=4, le=26, description="periods replayed (one plan each)")]
PeriodQ = Annotated[Literal["week", "month"], Query()]
ServiceTypeQ = Annotated[Literal["cycle", "fill_rate"], Query()]
ServiceLevelQ = Annotated[float | None, Query(gt=0.5, lt=1.0)]
SiteQ = Annotated[
    str | None, Query(min_length=1, max_length=40, description="replay one site's series")
]
SkusQ = Annotated[
    str | None,
    Query(max_length=4000, description="replay these items only, comma-separated SKUs"),
]


def _skus(value: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in (value or "").split(",") if s.strip())


@router.post("/planning-events", status_code=201, responses=doc(PlanningEventOut, 201, "Created"))
def create_event(body: PlanningEventCreate, writer: WriterDep, actor: Planner) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        event = setup.create_event(
            conn,
            actor,
            name=body.name,
            start_date=body.start_date,
            end_date=body.end_date,
            uplift_pct=body.uplift_pct,
            sku=body.sku,
            site_code=body.site,
            family=body.family,
        )
        return 201, {**asdict(event), "start_date": str(event.start_date),
                     "end_date": str(event.end_date)}  # fmt: skip

    return writer.run(actor, work).response()


@router.get("/planning-events", responses=doc(Page[PlanningEventOut]))
def list_events(db: DbDep, actor: Reader, paging: PageDep) -> Any:
    with db.read() as conn:
        rows = setup.list_events(conn, actor, after_id=paging.after_id, limit=paging.fetch)
    return page([asdict(r) for r in rows], paging, lambda r: int(r["id"]))


@router.delete("/planning-events/{event_id:int}", responses=doc(PlanningEventDeleted))
def delete_event(event_id: int, writer: WriterDep, actor: Planner) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        setup.delete_event(conn, actor, event_id)
        return 200, {"id": event_id, "deleted": True}

    return writer.run(actor, work).response()


@router.put("/order-terms/{supplier_code}", responses=doc(OrderTermsOut))
def set_order_terms(
    supplier_code: str, body: OrderTermsSet, writer: WriterDep, actor: Planner
) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        terms = setup.set_order_terms(
            conn,
            actor,
            supplier_code,
            min_order_value=body.min_order_value,
            free_freight_value=body.free_freight_value,
        )
        return 200, _terms(terms)

    return writer.run(actor, work).response()


def _terms(terms: setup.OrderTerms) -> dict[str, Any]:
    return {
        "supplier": terms.supplier,
        "min_order_value": None if terms.min_order_value is None else str(terms.min_order_value),
        "free_freight_value": (
            None if terms.free_freight_value is None else str(terms.free_freight_value)
        ),
    }


@router.get("/order-terms", responses=doc(OrderTermsList))
def list_order_terms(db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return {"items": [_terms(t) for t in setup.list_order_terms(conn)]}


@router.post("/pilots", status_code=201, responses=doc(PilotOut, 201, "Created"))
def create_pilot(body: PilotCreate, writer: WriterDep, actor: Planner) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        pilot = setup.create_pilot(
            conn,
            actor,
            name=body.name,
            scope_field=body.scope_field,
            scope_value=body.scope_value,
            service_level=body.service_level,
            segment_policies=body.segment_policies,
        )
        return 201, asdict(pilot)

    return writer.run(actor, work).response()


@router.get("/pilots", responses=doc(Page[PilotOut]))
def list_pilots(db: DbDep, actor: Reader, paging: PageDep) -> Any:
    with db.read() as conn:
        rows = setup.list_pilots(conn, after_id=paging.after_id, limit=paging.fetch)
    return page([asdict(r) for r in rows], paging, lambda r: int(r["id"]))


@router.post("/pilots/{pilot_id:int}/end", responses=doc(PilotOut))
def end_pilot(pilot_id: int, writer: WriterDep, actor: Planner) -> Response:
    def work(conn: Connection) -> tuple[int, Any]:
        return 200, asdict(setup.end_pilot(conn, actor, pilot_id))

    return writer.run(actor, work).response()


@router.get("/pilots/{pilot_id:int}/report", responses=doc(PilotReportOut))
def get_pilot_report(
    pilot_id: int,
    db: DbDep,
    actor: Reader,
    holdout: Holdout = 13,
    period: PeriodQ = "week",
    service_type: ServiceTypeQ = "fill_rate",
    service_level: ServiceLevelQ = None,
    site: SiteQ = None,
    skus: SkusQ = None,
) -> Any:
    request = ReplayRequest(holdout, period, service_level, service_type, site, _skus(skus))
    report = pilot_report(db, actor, pilot_id, request)
    with db.read() as conn:
        pilot = setup.get_pilot(conn, pilot_id)
    return {
        "pilot": asdict(pilot),
        "holdout": holdout,
        "groups": report.groups.to_dicts(),
        "verdict": report.verdict,
        "reason": report.reason,
    }


@router.get("/calibration", responses=doc(CalibrationReport))
def get_calibration(
    db: DbDep,
    actor: Reader,
    holdout: Holdout = 13,
    period: PeriodQ = "week",
    service_type: ServiceTypeQ = "fill_rate",
    service_level: ServiceLevelQ = None,
    site: SiteQ = None,
    skus: SkusQ = None,
) -> Any:
    """The calibration report on this database's history: the engine re-planned every period
    of the last ``holdout`` (``holdout`` plans: narrow a large network with ``site`` or
    ``skus``)."""
    request = ReplayRequest(holdout, period, service_level, service_type, site, _skus(skus))
    table = calibration_report(db, actor, request)
    return {"holdout": holdout, "period": period, "items": table.to_dicts()}
