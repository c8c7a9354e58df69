"""Scenarios: run a what-if (supplier disruption, demand spike, lead-time delay) against the
baseline replay and compare them side by side (fill rate, inventory, stockouts), as a table and
a chart; earlier runs stay listed. Through the scenario service the API calls."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection

from stockpilot.replenishment import queries as planning
from stockpilot.replenishment.scenarios import ScenarioRequest, compute_scenarios, store_scenario
from stockpilot.shared.errors import StockpilotError
from stockpilot.web.frame import (
    DbPage,
    Form,
    FormDep,
    PageRoute,
    Viewer,
    ViewerDep,
    form_write,
    render,
)
from stockpilot.web.warehouse import parsed

router = APIRouter(route_class=PageRoute, include_in_schema=False)

KINDS = ("supplier_disruption", "demand_spike", "lead_time_delay")


def _number(text: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text)
    except ValueError:
        return text  # left for the command's validation to refuse, naming the field


def scenario_request(form: Form) -> ScenarioRequest:
    """The request a scenario form asks for (one what-if against the baseline)."""
    spec: dict[str, Any] = {"name": form.get("name") or form.get("kind"), "kind": form.get("kind")}
    for name, kind in (
        ("start", int),
        ("length", int),
        ("delay_periods", int),
        ("lead_time_factor", float),
        ("demand_change_pct", float),
    ):
        if form.get(name):
            spec[name] = _number(form.get(name), kind)
    data: dict[str, Any] = {"name": form.get("name") or "what-if", "scenarios": [spec]}
    if form.get("holdout"):
        data["holdout"] = _number(form.get("holdout"), int)
    if form.get("site"):
        data["site"] = form.get("site")
    request: ScenarioRequest = parsed(ScenarioRequest, data)
    return request


def _page(
    request: Request,
    db: DbPage,
    viewer: Viewer,
    *,
    shown: dict[str, Any] | None = None,
    problem: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    viewer.need("planning:read")
    with db.read() as conn:
        earlier = planning.list_scenarios(conn, viewer.actor, after_id=None, limit=100)
    return render(
        request,
        "scenarios.html",
        viewer,
        status_code=status_code,
        earlier=earlier,
        shown=shown,
        chart=_chart(shown["result"]) if shown else None,
        kinds=KINDS,
        error=problem,
    )


@router.get("/scenarios")
def scenarios(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    show: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    viewer.need("planning:read")
    shown = None
    if show is not None:
        with db.read() as conn:
            shown = planning.get_scenario(conn, viewer.actor, show)
    return _page(request, db, viewer, shown=shown)


@router.post("/scenarios")
def run(request: Request, db: DbPage, viewer: ViewerDep, form: FormDep) -> HTMLResponse:
    viewer.need("planning:write")
    try:
        command = scenario_request(form)
        result = compute_scenarios(db, command, viewer.actor)

        def work(conn: Connection) -> tuple[int, Any]:
            return 201, {**result.body(), "id": store_scenario(conn, viewer.actor, command, result)}

        stored = form_write(db, viewer, request, form, work)
    except StockpilotError as exc:
        return _page(request, db, viewer, problem=exc.problem(), status_code=exc.status)
    shown = {"id": stored["id"], "name": stored["name"], "result": stored}
    return _page(request, db, viewer, shown=shown)


def _chart(result: dict[str, Any]) -> dict[str, Any]:
    """Fill rate and average on hand per scenario, as bars (x = the scenario's position)."""
    rows = result.get("results", [])
    return {
        "bars": True,
        "names": [r["scenario"] for r in rows],
        "x": list(range(len(rows))),
        "unit": "fill rate",
        "series": [
            {"label": "fill rate", "stroke": "#1f5fbf", "fill": "#1f5fbf88", "scale": "rate",
             "values": [r["fill_rate"] for r in rows]},
            {"label": "average on hand", "stroke": "#b35900", "fill": "#b3590088", "scale": "units",
             "values": [r["average_on_hand"] for r in rows]},
        ],
    }  # fmt: skip
