"""The stock explorer: search items, and an item's page (positions by site, bin, lot and status;
in-transit; available-to-promise by date; recent moves, paged; its policy per site)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from stockpilot.api import queries
from stockpilot.ledger import positions
from stockpilot.network.service import site_in_scope
from stockpilot.replenishment import queries as planning
from stockpilot.shared.clock import today
from stockpilot.shared.errors import ValidationFailed
from stockpilot.web.frame import DbPage, PageRoute, ViewerDep, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50
MOVES_PAGE = 20


@router.get("/items")
def search(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    q: Annotated[str, Query(max_length=100)] = "",
    after: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    viewer.need("items:read")
    rows: list[dict[str, Any]] = []
    if q.strip():
        with db.read() as conn:
            rows = queries.search_items(conn, q, after_id=after, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = viewer.shown(rows[:PAGE])
    return render(
        request,
        "items.html",
        viewer,
        q=q,
        rows=rows,
        next_after=rows[-1]["id"] if more else None,
    )


def _per_site(breakdown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sums: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"on_hand": 0, "allocated": 0, "available": 0, "in_transit": 0}
    )
    for line in breakdown:
        s = sums[line["site"]]
        s["on_hand"] += line["quantity_on_hand"]
        s["allocated"] += line["quantity_allocated"]
        s["available"] += line["quantity_available"]
        s["in_transit"] += line["quantity_in_transit"]
    return [{"site": code, **values} for code, values in sorted(sums.items())]


@router.get("/items/{sku:path}/moves")
def item_moves(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    sku: str,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """One page of the item's moves, newest first (an htmx fragment of the item page)."""
    viewer.need("moves:read")
    with db.read() as conn:
        moves, older = _moves(conn, viewer, sku, before)
    return render(request, "_moves.html", viewer, sku=sku, moves=moves, older=older)


def _moves(conn: Any, viewer: Any, sku: str, before: int | None) -> tuple[Any, int | None]:
    item_id = queries.item_id_by_sku(conn, sku)
    rows = queries.list_moves(
        conn, viewer.actor, after_id=before, limit=MOVES_PAGE + 1, item_id=item_id,
        newest_first=True,
    )  # fmt: skip
    older = rows[MOVES_PAGE - 1]["id"] if len(rows) > MOVES_PAGE else None
    return viewer.shown(rows[:MOVES_PAGE]), older


@router.get("/items/{sku:path}")
def item_page(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    sku: str,
    site: Annotated[str | None, Query(max_length=40)] = None,
    on: Annotated[str | None, Query(alias="date", max_length=10)] = None,
) -> HTMLResponse:
    viewer.need("items:read")
    viewer.need("stock:read")
    atp_date = _date(on)
    with db.read() as conn:
        item = viewer.shown(queries.get_item(conn, sku))
        position = positions.stock_position(conn, viewer.actor, sku)
        sites = queries.list_sites(conn, viewer.actor, after_id=None, limit=200)
        atp = None
        atp_site = site or (sites[0]["code"] if sites else None)
        if atp_site is not None:
            site_in_scope(conn, viewer.actor, atp_site)
            atp = positions.available_to_promise(conn, viewer.actor, sku, atp_site, atp_date)
        moves, older = _moves(conn, viewer, sku, None) if viewer.can("moves:read") else ([], None)
        policies = (
            planning.list_policies(conn, viewer.actor, after_id=None, limit=200, sku=sku)
            if viewer.can("planning:read")
            else []
        )
    return render(
        request,
        "item.html",
        viewer,
        item=item,
        position=position,
        per_site=_per_site(position["breakdown"]),
        sites=sites,
        atp=atp,
        atp_site=atp_site,
        atp_date=atp_date.isoformat(),
        moves=moves,
        older=older,
        policies=viewer.shown(policies),
        sku=sku,
    )


def _date(text: str | None) -> date:
    if not text:
        return today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("a date is written YYYY-MM-DD", field="date") from None
