"""Consigned (supplier-owned) stock: what was used, per owner, for their invoice."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from stockpilot.api.deps import DbDep, require
from stockpilot.api.models import doc
from stockpilot.api.models.consignment import Consumption
from stockpilot.api.routing import VisibleRoute
from stockpilot.consignment import service
from stockpilot.shared.actor import Actor
from stockpilot.shared.fields import IsoDate

router = APIRouter(route_class=VisibleRoute, prefix="/consignment", tags=["consignment"])

Reader = Annotated[Actor, require("stock:read")]


def _report(
    db: Any,
    actor: Actor,
    owner: str | None,
    site: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> dict[str, Any]:
    with db.read() as conn:
        return service.consumption(
            conn, actor, owner=owner, site_code=site, date_from=date_from, date_to=date_to
        )


@router.get("/consumption", responses=doc(Consumption))
def consumption(
    db: DbDep,
    actor: Reader,
    owner: str | None = None,
    site: str | None = None,
    date_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> Any:
    """Consigned units shipped (used) between ``from`` and ``to`` (inclusive), per owner."""
    return _report(db, actor, owner, site, date_from, date_to)


@router.get(
    "/consumption.csv",
    responses={
        200: {
            "model": Consumption,
            "description": "The same records as CSV, one row per record",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def consumption_csv(
    db: DbDep,
    actor: Reader,
    owner: str | None = None,
    site: str | None = None,
    date_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> Response:
    report = _report(db, actor, owner, site, date_from, date_to)
    return Response(
        service.consumption_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="consignment-consumption.csv"'},
    )
