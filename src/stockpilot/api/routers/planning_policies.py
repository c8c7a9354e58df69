"""Planning checks beside the planning run, read-only, for whoever may read planning: the
master-data health report (``GET /data-quality``) and alternate sources for failing suppliers
(``GET /alternate-sources``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from stockpilot.api.deps import DbDep, require
from stockpilot.api.models import doc
from stockpilot.api.models.planning_policies import AlternateSources, DataQualityReport
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.planning.data_quality import data_quality_findings
from stockpilot.planning.sourcing import alternate_sources
from stockpilot.replenishment.queries import data_quality_inputs, sourcing_inputs
from stockpilot.shared.actor import Actor

router = APIRouter(route_class=VisibleRoute, tags=["planning"])

Reader = Annotated[Actor, require("planning:read")]


@router.get("/data-quality", responses=doc(DataQualityReport))
def data_quality(
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    rule: Annotated[str | None, Query(max_length=40)] = None,
    owner: Annotated[str | None, Query(max_length=40)] = None,
) -> Any:
    with db.read() as conn:
        findings = data_quality_findings(data_quality_inputs(conn))
    counts = findings.group_by("rule", "owner").len("findings").sort("rule").to_dicts()
    rows = [
        {"id": i + 1, "sku": r.pop("item"), **r}
        for i, r in enumerate(findings.to_dicts())
        if (rule is None or r["rule"] == rule) and (owner is None or r["owner"] == owner)
    ]
    start = paging.after_id or 0
    shown = [r for r in rows if r["id"] > start][: paging.fetch]
    return {"counts": counts, **page(shown, paging, lambda r: int(r["id"]))}


@router.get("/alternate-sources", responses=doc(AlternateSources))
def list_alternate_sources(
    db: DbDep,
    actor: Reader,
    disrupted: Annotated[
        str | None,
        Query(max_length=400, description="supplier codes out of action, comma-separated"),
    ] = None,
) -> Any:
    with db.read() as conn:
        primaries, candidates = sourcing_inputs(conn)
    codes = [c.strip() for c in (disrupted or "").split(",") if c.strip()]
    found = alternate_sources(primaries, candidates, codes)
    return {"items": [{"sku": r.pop("item"), **r} for r in found.to_dicts()]}
