"""Supervisor views: plan the site's open orders into waves (by route and/or ship date) and
release a wave to the floor, through the outbound wave services the API calls."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.outbound import waves
from stockpilot.outbound.schemas import WavePlan
from stockpilot.shared.errors import StockpilotError
from stockpilot.web.frame import DbPage, FormDep, PageRoute, Viewer, ViewerDep, form_write, render
from stockpilot.web.warehouse import parsed

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _page(
    request: Request,
    db: DbPage,
    viewer: Viewer,
    *,
    shown_waves: list[dict[str, Any]] | None = None,
    message: str | None = None,
    problem: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    viewer.need("sales_orders:write")
    with db.read() as conn:
        sites = queries.list_sites(conn, viewer.actor, after_id=None, limit=200)
    return render(
        request,
        "waves.html",
        viewer,
        status_code=status_code,
        sites=sites,
        waves=viewer.shown(shown_waves or []),
        message=message,
        error=problem,
    )


@router.get("/waves")
def wave_screen(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    wave: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    viewer.need("sales_orders:write")
    shown_waves = []
    if wave is not None:
        with db.read() as conn:
            shown_waves = [waves.get_wave(conn, viewer.actor, wave)]
    return _page(request, db, viewer, shown_waves=shown_waves)


@router.post("/waves/plan")
def plan(request: Request, db: DbPage, viewer: ViewerDep, form: FormDep) -> HTMLResponse:
    viewer.need("sales_orders:write")
    try:
        command = parsed(
            WavePlan,
            {"site": form.get("site"), "by": form.all("by") or ["route", "ship_date"],
             "method": form.get("method") or "discrete"},
        )  # fmt: skip

        def work(conn: Connection) -> tuple[int, Any]:
            ids = waves.plan_waves(conn, viewer.actor, command)
            return 201, {"items": [waves.get_wave(conn, viewer.actor, i) for i in ids]}

        planned = form_write(db, viewer, request, form, work)["items"]
    except StockpilotError as exc:
        return _page(request, db, viewer, problem=exc.problem(), status_code=exc.status)
    count = len(planned)
    message = (
        f"{count} wave{'s' if count != 1 else ''} planned." if count else "No open order waits."
    )
    return _page(request, db, viewer, shown_waves=planned, message=message)


@router.post("/waves/{wave_id:int}/release")
def release(
    request: Request, db: DbPage, viewer: ViewerDep, form: FormDep, wave_id: int
) -> HTMLResponse:
    viewer.need("sales_orders:write")

    def work(conn: Connection) -> tuple[int, Any]:
        summary = waves.release_wave(conn, viewer.actor, wave_id)
        return 200, {**waves.get_wave(conn, viewer.actor, wave_id), **summary}

    try:
        released = form_write(db, viewer, request, form, work)
    except StockpilotError as exc:
        with db.read() as conn:
            current = [waves.get_wave(conn, viewer.actor, wave_id)]
        return _page(
            request, db, viewer, shown_waves=current, problem=exc.problem(), status_code=exc.status
        )
    tasks = sum(p["tasks"] for p in released.get("pick_lists", []))
    return _page(
        request,
        db,
        viewer,
        shown_waves=[released],
        message=f"Wave {wave_id} released: {tasks} pick task(s) on the floor.",
    )
