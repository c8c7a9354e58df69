"""The planner workbench: the latest run's proposals filtered and grouped per supplier (or
source site) and site with their order value; each proposal's explanation and inputs; accept,
override with a reason, approve and reject, one by one or in bulk; and the item-location page
with its demand history, forecast with interval and the s / S lines as a chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.catalog import reference
from stockpilot.network.service import site_in_scope
from stockpilot.replenishment import actions
from stockpilot.replenishment import queries as planning
from stockpilot.shared.clock import today
from stockpilot.shared.errors import StockpilotError, ValidationFailed
from stockpilot.web.frame import DbPage, FormDep, PageRoute, Viewer, ViewerDep, form_write, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 200
STATUSES = ("proposed", "pending_approval", "accepted", "rejected", "superseded")
KINDS = ("purchase", "transfer")
FILTERS = ("status", "site", "supplier", "kind", "sku", "trigger", "abc", "min_value")
CLASSES = ("A", "B", "C")
INTERVAL_Z = 1.645  # the chart's band: a two-sided 90 % interval of a normal forecast error


@dataclass
class Group:
    """Proposals that become one document: per supplier (or source site) and site."""

    key: str
    source: str
    site: str
    kind: str
    proposals: list[dict[str, Any]] = field(default_factory=list)
    value: Decimal | None = None


def group_proposals(rows: Sequence[dict[str, Any]]) -> list[Group]:
    """Group a page of proposals by their document group, in the page's order; the order value
    is summed only where unit costs are shown (a role without cost access sees none)."""
    groups: dict[str, Group] = {}
    for r in rows:
        source = r["supplier"] if r["kind"] == "purchase" else r["from_site"]
        g = groups.get(r["group"])
        if g is None:
            g = groups[r["group"]] = Group(r["group"], source or "", r["site"], r["kind"])
        g.proposals.append(r)
        if "unit_cost" in r:
            cost = Decimal(r["unit_cost"]) if r["unit_cost"] is not None else Decimal(0)
            g.value = (g.value or Decimal(0)) + cost * r["quantity"]
    return list(groups.values())


@dataclass(frozen=True)
class Filters:
    status: str = "proposed"
    site: str = ""
    supplier: str = ""
    kind: str = ""
    sku: str = ""
    trigger: str = ""
    abc: str = ""
    min_value: str = ""

    def value(self) -> Decimal | None:
        if not self.min_value:
            return None
        try:
            found = Decimal(self.min_value)
        except ArithmeticError:
            found = Decimal("NaN")
        if not found.is_finite() or found < 0:
            raise ValidationFailed("the order value is a number, 0 or more", field="min_value")
        return found

    def check(self) -> None:
        if self.abc and self.abc not in CLASSES:
            raise ValidationFailed("class must be A, B or C", field="abc")
        if self.status and self.status not in STATUSES:
            raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}", field="status")
        if self.kind and self.kind not in KINDS:
            raise ValidationFailed("kind must be purchase or transfer", field="kind")

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FILTERS}


def _workbench(
    request: Request,
    db: DbPage,
    viewer: Viewer,
    flt: Filters,
    after: int | None = None,
    *,
    message: str | None = None,
    problem: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    viewer.need("planning:read")
    flt.check()
    with db.read() as conn:
        site_code = site_in_scope(conn, viewer.actor, flt.site).code if flt.site else None
        rows = planning.list_proposals(
            conn,
            viewer.actor,
            after_id=after,
            limit=PAGE + 1,
            status=flt.status or None,
            kind=flt.kind or None,
            site_code=site_code,
            sku=flt.sku or None,
            supplier_code=flt.supplier or None,
            trigger=flt.trigger or None,
            abc=flt.abc or None,
            # a value filter is a cost question: only for those who may see costs
            min_value=flt.value() if viewer.sees_cost else None,
        )
        sites = queries.list_sites(conn, viewer.actor, after_id=None, limit=200)
        reasons = reference.list_reason_codes(conn)
    more = len(rows) > PAGE
    rows = viewer.shown(rows[:PAGE])
    return render(
        request,
        "proposals.html",
        viewer,
        status_code=status_code,
        filters=flt,
        groups=group_proposals(rows),
        count=len(rows),
        next_after=rows[-1]["id"] if more else None,
        sites=sites,
        reasons=reasons,
        statuses=STATUSES,
        message=message,
        error=problem,
    )


@router.get("/proposals")
def workbench(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    status: Annotated[str, Query(max_length=20)] = "proposed",
    site: Annotated[str, Query(max_length=40)] = "",
    supplier: Annotated[str, Query(max_length=40)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    sku: Annotated[str, Query(max_length=60)] = "",
    trigger: Annotated[str, Query(max_length=100)] = "",
    abc: Annotated[str, Query(max_length=1)] = "",
    min_value: Annotated[str, Query(max_length=20)] = "",
    after: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    flt = Filters(
        status, site.strip(), supplier.strip(), kind, sku.strip(), trigger.strip(), abc,
        min_value.strip(),
    )  # fmt: skip
    return _workbench(request, db, viewer, flt, after)


def _ids(values: Sequence[str]) -> list[int]:
    if not values:
        raise ValidationFailed("tick at least one proposal", field="proposal_ids")
    try:
        ids = [int(v) for v in values]
    except ValueError:
        raise ValidationFailed("proposal ids are whole numbers", field="proposal_ids") from None
    if len(ids) > 5000 or min(ids) < 1:
        raise ValidationFailed("1 to 5000 proposals at a time", field="proposal_ids")
    return ids


def _act(request: Request, db: DbPage, viewer: Viewer, form: Any) -> str:
    """Run the action the form asks for, through the planner services; returns what happened
    in words."""
    action = form.get("action")
    ids = _ids(form.all("proposal_ids"))
    settings = request.app.state.settings
    if action == "accept":
        viewer.need("planning:write")
        limits = actions.Thresholds(
            settings.approval_value_threshold, settings.approval_override_ratio
        )
        body = form_write(
            db, viewer, request, form, lambda c: (200, actions.accept(c, viewer.actor, ids, limits))
        )
        made, waiting = len(body["documents"]), len(body["pending_approval"])
        return (
            f"Accepted: {made} draft document{'s' if made != 1 else ''} created; "
            f"{waiting} proposal{'s wait' if waiting != 1 else ' waits'} for a second "
            "person's approval."
        )
    if action == "approve":
        viewer.need("planning:approve")
        body = form_write(
            db, viewer, request, form, lambda c: (200, actions.approve(c, viewer.actor, ids))
        )
        return f"Approved: {len(body['documents'])} draft document(s) created."
    if action == "reject":
        viewer.need("planning:write")
        reason = form.get("reason_code") or None
        body = form_write(
            db,
            viewer,
            request,
            form,
            lambda c: (200, actions.reject(c, viewer.actor, ids, reason)),
        )
        return f"Rejected {len(body['rejected'])} proposal(s)."
    raise ValidationFailed("action must be accept, approve or reject", field="action")


@router.post("/proposals/act")
def act(request: Request, db: DbPage, viewer: ViewerDep, form: FormDep) -> HTMLResponse:
    flt = Filters(**{name: form.get(name) for name in FILTERS})
    back = form.get("back")
    try:
        message = _act(request, db, viewer, form)
    except StockpilotError as exc:  # shown beside the form it concerns, the page kept
        if back.isdigit():
            return _proposal_page(
                request, db, viewer, int(back), problem=exc.problem(), status_code=exc.status
            )
        return _workbench(request, db, viewer, flt, problem=exc.problem(), status_code=exc.status)
    if back.isdigit():
        return _proposal_page(request, db, viewer, int(back), message=message)
    return _workbench(request, db, viewer, flt, message=message)


def _proposal_page(
    request: Request,
    db: DbPage,
    viewer: Viewer,
    proposal_id: int,
    *,
    message: str | None = None,
    problem: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    viewer.need("planning:read")
    with db.read() as conn:
        found = viewer.shown(planning.get_proposal(conn, viewer.actor, proposal_id))
        reasons = reference.list_reason_codes(conn)
    return render(
        request,
        "proposal.html",
        viewer,
        status_code=status_code,
        p=found,
        reasons=reasons,
        message=message,
        error=problem,
    )


@router.get("/proposals/{proposal_id:int}")
def proposal_page(
    request: Request, db: DbPage, viewer: ViewerDep, proposal_id: int
) -> HTMLResponse:
    return _proposal_page(request, db, viewer, proposal_id)


@router.post("/proposals/{proposal_id:int}/override")
def override(
    request: Request, db: DbPage, viewer: ViewerDep, form: FormDep, proposal_id: int
) -> HTMLResponse:
    viewer.need("planning:write")
    try:
        quantity = _override(request, db, viewer, form, proposal_id)
    except StockpilotError as exc:
        return _proposal_page(
            request, db, viewer, proposal_id, problem=exc.problem(), status_code=exc.status
        )
    reason = form.get("reason_code")
    return _proposal_page(
        request, db, viewer, proposal_id, message=f"Quantity set to {quantity} ({reason})."
    )


def _override(request: Request, db: DbPage, viewer: Viewer, form: Any, proposal_id: int) -> int:
    try:
        quantity = int(form.get("quantity"))
    except ValueError:
        quantity = -1
    if quantity < 0:
        raise ValidationFailed("the quantity is a whole number, 0 or more", field="quantity")
    reason = form.get("reason_code")
    if not reason:
        raise ValidationFailed("choose a reason for the override", field="reason_code")
    comment = form.get("comment")[:400] or None

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, actions.override(conn, viewer.actor, proposal_id, quantity, reason, comment)

    form_write(db, viewer, request, form, work)
    return quantity


@router.get("/proposals/scores")
def override_scores(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """Was the override or the suggestion right? Each override whose horizon has passed,
    against the order hindsight would have placed."""
    viewer.need("planning:read")
    with db.read() as conn:
        scored = actions.score_overrides(conn, viewer.actor, after_id=after, limit=PAGE)
    verdicts = {
        v: sum(1 for r in scored.items if r.verdict == v) for v in ("better", "same", "worse")
    }
    return render(
        request,
        "override_scores.html",
        viewer,
        rows=scored.items,
        verdicts=verdicts,
        next_after=scored.after_id,
    )


# --- the item-location page ----------------------------------------------------------------------


def weekly_history(days: Sequence[tuple[date, int]], period: str) -> list[tuple[date, int]]:
    """Daily demand summed into periods (weeks start on Monday; months on the 1st), every
    period between the first and the last present (a period without demand is a zero)."""
    if not days:
        return []

    def start(d: date) -> date:
        return d - timedelta(days=d.weekday()) if period == "week" else d.replace(day=1)

    def following(d: date) -> date:
        if period == "week":
            return d + timedelta(days=7)
        return date(d.year + d.month // 12, d.month % 12 + 1, 1)

    sums: dict[date, int] = {}
    for d, q in days:
        sums[start(d)] = sums.get(start(d), 0) + q
    out, cursor, last = [], min(sums), max(sums)
    while cursor <= last:
        out.append((cursor, sums.get(cursor, 0)))
        cursor = following(cursor)
    return out


@router.get("/item-locations/{site}/{sku:path}")
def item_location(
    request: Request, db: DbPage, viewer: ViewerDep, site: str, sku: str
) -> HTMLResponse:
    viewer.need("planning:read")
    with db.read() as conn:
        ref = site_in_scope(conn, viewer.actor, site)
        found = planning.list_policies(
            conn, viewer.actor, after_id=None, limit=1, sku=sku, site_code=ref.code
        )
        policy = found[0] if found else None
        runs = planning.list_runs(conn, after_id=None, limit=50)
        days = planning.daily_demand(conn, viewer.actor, sku, ref.id)
    period = next((r["period"] for r in runs if policy and r["id"] == policy["run_id"]), "week")
    history = weekly_history(days, period)
    chart = _chart(history, policy, period)
    return render(
        request,
        "item_location.html",
        viewer,
        site=ref.code,
        sku=sku,
        policy=policy,
        period=period,
        history=history[-26:],
        chart=chart,
        forecast_rows=_forecast_rows(chart),
    )


HORIZON = 12


def _chart(history: list[tuple[date, int]], policy: dict[str, Any] | None, period: str) -> Any:
    """The chart's series as plain lists (x in seconds since the epoch), for uPlot."""
    step = timedelta(days=7) if period == "week" else timedelta(days=30)
    start = history[-1][0] + step if history else today()
    future = [start + i * step for i in range(HORIZON)]
    xs = [d for d, _ in history] + future
    n_hist = len(history)
    level = (policy or {}).get("forecast_per_period")
    sigma = (policy or {}).get("forecast_sigma") or 0.0

    def line(value: Any) -> list[float | None]:
        return [round(float(value), 3)] * len(xs) if value is not None else [None] * len(xs)

    def forecast(offset: float) -> list[float | None]:
        if level is None:
            return [None] * len(xs)
        return [None] * n_hist + [round(max(level + offset, 0.0), 3)] * HORIZON

    s = (policy or {}).get("reorder_point")
    big_s = (policy or {}).get("order_up_to")
    finite = [v if v is not None and v != float("inf") else None for v in (s, big_s)]
    return {
        "x": [int(_epoch(d)) for d in xs],
        "dates": [d.isoformat() for d in xs],
        "unit": "units per " + period,
        "series": [
            {"label": "demand", "stroke": "#1f5fbf",
             "values": [float(q) for _, q in history] + [None] * HORIZON},
            {"label": "forecast", "stroke": "#b35900", "values": forecast(0.0)},
            {"label": "forecast low (90 %)", "stroke": "#e0a060", "dash": [4, 4],
             "values": forecast(-INTERVAL_Z * sigma)},
            {"label": "forecast high (90 %)", "stroke": "#e0a060", "dash": [4, 4],
             "values": forecast(INTERVAL_Z * sigma)},
            {"label": "reorder point s", "stroke": "#8a1414", "values": line(finite[0])},
            {"label": "order-up-to S", "stroke": "#2d7a3a", "values": line(finite[1])},
        ],
    }  # fmt: skip


def _forecast_rows(chart: dict[str, Any]) -> list[dict[str, Any]]:
    series = chart["series"]
    rows = []
    for i, when in enumerate(chart["dates"]):
        if series[1]["values"][i] is None:
            continue
        rows.append(
            {
                "date": when,
                "forecast": series[1]["values"][i],
                "low": series[2]["values"][i],
                "high": series[3]["values"][i],
            }
        )
    return rows


def _epoch(d: date) -> float:
    return (d - date(1970, 1, 1)).total_seconds()
