"""Valuation: inventory value at a date and cost of goods sold, by site and item."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.api.deps import DbDep, SettingsDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import doc
from stockpilot.api.models.valuation import (
    CostOfGoodsSold,
    DeadStock,
    InventoryValue,
    Journal,
    LandedCost,
    LayerAging,
    Revaluation,
)
from stockpilot.api.routing import VisibleRoute
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import Code, IsoDate, Money, PositiveId, SiteCode
from stockpilot.valuation import journal, reports
from stockpilot.valuation.landed import apply_landed_cost
from stockpilot.valuation.revaluation import (
    RevaluationRequest,
    approve_revaluation,
    request_revaluation,
)

router = APIRouter(route_class=VisibleRoute, tags=["valuation"])

Reader = Annotated[Actor, require("stock:read")]
Sku = Annotated[str | None, Query(min_length=1, max_length=60)]


def _filters(conn: Any, actor: Actor, site_id: int | None, sku: str | None) -> reports.Filters:
    sites = [site_id] if site_id is not None else queries.site_scope(actor)
    item_id = queries.item_id_by_sku(conn, sku) if sku else None
    return reports.Filters(sites, item_id)


@router.get("/valuation", responses=doc(InventoryValue))
def inventory_value(
    db: DbDep,
    actor: Reader,
    site: VisibleSite,
    sku: Sku = None,
    at: IsoDate | None = None,
    by_item: bool = False,
) -> Any:
    """Quantity and value of the company's stock at the end of ``at`` (default: now), on site
    and in transit; ``by_item`` breaks it down per item."""
    with db.read() as conn:
        flt = _filters(conn, actor, site.id if site else None, sku)
        body = reports.inventory_value(conn, flt, at, by_item=by_item and sku is None)
    return {"site": site.code if site else None, "sku": sku, **body}


@router.get("/valuation/cogs", responses=doc(CostOfGoodsSold))
def cost_of_goods_sold(
    db: DbDep,
    actor: Reader,
    site: VisibleSite,
    sku: Sku = None,
    date_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> Any:
    """Cost of goods sold of the shipments so far, or of a period (``from``/``to``, inclusive)."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationFailed("from must not be after to", field="from")
    with db.read() as conn:
        flt = _filters(conn, actor, site.id if site else None, sku)
        body = reports.cost_of_goods_sold(conn, flt, date_from, date_to)
    return {"site": site.code if site else None, "sku": sku, **body}


@router.get("/valuation/aging", responses=doc(LayerAging))
def layer_aging(db: DbDep, actor: Reader, site: VisibleSite, sku: Sku = None) -> Any:
    """What is left of each FIFO receipt layer on site, by the age of its first receipt
    (0-30, 31-90, 91-180, 181-365 and over 365 days), per bucket and per item."""
    with db.read() as conn:
        flt = _filters(conn, actor, site.id if site else None, sku)
        body = reports.aging(conn, flt, today())
    return {"site": site.code if site else None, "sku": sku, **body}


@router.get("/valuation/dead-stock", responses=doc(DeadStock))
def dead_stock(
    db: DbDep,
    actor: Reader,
    site: VisibleSite,
    days: Annotated[int, Query(ge=1, le=3650)] = 180,
) -> Any:
    """Items with value on site and no issue in the last ``days`` days, largest value first."""
    with db.read() as conn:
        flt = _filters(conn, actor, site.id if site else None, None)
        body = reports.dead_stock(conn, flt, today(), days)
    return {"site": site.code if site else None, **body}


@router.get("/valuation/journal", responses=doc(Journal))
def journal_totals(
    db: DbDep,
    actor: Annotated[Actor, require("cost:read")],
    settings: SettingsDep,
    site: VisibleSite,
    date_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> Any:
    """Debit and credit per company and account of every valued move in the period: inventory,
    in transit, goods received not invoiced, cost of goods sold, price variance, adjustment."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationFailed("from must not be after to", field="from")
    with db.read() as conn:
        flt = _filters(conn, actor, site.id if site else None, None)
        body = journal.journal_totals(conn, flt, date_from, date_to, settings.accounts)
    return {"site": site.code if site else None, **body}


class RevaluationCreate(BaseModel):
    """Set the value of one item's stock at a site to ``unit_cost`` a base unit."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    site: SiteCode
    sku: Code
    unit_cost: Money
    reason: str = Field(min_length=1, max_length=40, description="a configured reason code")


@router.post("/valuation/revaluations", status_code=201, responses=doc(Revaluation, 201, "Created"))
def create_revaluation(
    cmd: RevaluationCreate,
    writer: WriterDep,
    settings: SettingsDep,
    actor: Annotated[Actor, require("valuation:write")],
) -> Response:
    """A write-down, write-up or standard-cost change with its reason: posted at once up to
    the approval threshold, otherwise pending the approval of someone else."""
    request = RevaluationRequest(cmd.site, cmd.sku, cmd.unit_cost, cmd.reason)

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, request_revaluation(
            conn, actor, request, settings.revaluation_approval_threshold
        )

    return writer.run(actor, work).response()


@router.post("/valuation/revaluations/{revaluation_id}/approve", responses=doc(Revaluation))
def approve(
    revaluation_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    writer: WriterDep,
    actor: Annotated[Actor, require("valuation:approve")],
) -> Response:
    """Post a pending revaluation (someone other than who asked for it)."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, approve_revaluation(conn, actor, revaluation_id)

    return writer.run(actor, work).response()


class LandedCostCreate(BaseModel):
    """Freight, duty or handling of one receipt, shared over its lines."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    receipt: PositiveId
    amount: Money
    basis: Literal["quantity", "value", "weight"] = "quantity"
    reason: str = Field(default="LANDED", min_length=1, max_length=40)


@router.post("/valuation/landed-costs", status_code=201, responses=doc(LandedCost, 201, "Created"))
def add_landed_cost(
    cmd: LandedCostCreate,
    writer: WriterDep,
    actor: Annotated[Actor, require("valuation:write")],
) -> Response:
    """Allocate a landed cost to a receipt's lines by quantity, value or weight: into the
    stock still on hand from it, the rest as price variance."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, apply_landed_cost(conn, actor, cmd.receipt, cmd.amount, cmd.basis, cmd.reason)

    return writer.run(actor, work).response()
