"""Supervisor views: plan the site's open orders into waves (by route and/or ship date) and
release a wave to the floor, through the outbound wave services the API calls."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.counting import service as counting
from stockpilot.inbound import purchase_orders
from stockpilot.inbound.schemas import OverReceiptApproval
from stockpilot.outbound import waves
from stockpilot.outbound.schemas import WavePlan
from stockpilot.replenishment import queries as planning
from stockpilot.shared.errors import Forbidden, StockpilotError, ValidationFailed
from stockpilot.shared.quantities import to_base_units
from stockpilot.web.frame import DbPage, FormDep, PageRoute, Viewer, ViewerDep, form_write, render
from stockpilot.web.warehouse import number_or_text, parsed

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


# --- approvals -----------------------------------------------------------------------------------


def _approvals(
    request: Request,
    db: DbPage,
    viewer: Viewer,
    *,
    message: str | None = None,
    problem: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if not any(viewer.can(p) for p in ("receipts:approve", "planning:approve", "counts:approve")):
        raise Forbidden(f"role {viewer.actor.role} approves nothing")
    waiting = []
    counts: list[dict[str, Any]] = []
    with db.read() as conn:
        if viewer.can("planning:approve"):
            waiting = planning.list_proposals(
                conn, viewer.actor, after_id=None, limit=101, status="pending_approval"
            )
        if viewer.can("counts:approve"):
            # Counted, with variances above the site's tolerance waiting for a second person.
            counts = counting.list_counts(
                conn, viewer.actor, site_id=None, status="counted", after_id=None, limit=50
            )
    return render(
        request,
        "approvals.html",
        viewer,
        status_code=status_code,
        waiting=len(waiting),
        counts=counts,
        message=message,
        error=problem,
        values=values or {},
    )


@router.get("/approvals")
def approvals(request: Request, db: DbPage, viewer: ViewerDep) -> HTMLResponse:
    return _approvals(request, db, viewer)


@router.post("/approvals/over-receipt")
def allow_over_receipt(
    request: Request, db: DbPage, viewer: ViewerDep, form: FormDep
) -> HTMLResponse:
    """A supervisor allows units beyond the supplier's tolerance on one purchase-order line;
    someone else must receive them."""
    from fractions import Fraction

    viewer.need("receipts:approve")
    kept = {k: form.get(k) for k in ("purchase_order", "line_no", "quantity", "reason")}
    try:
        order_id = number_or_text(form.get("purchase_order"))
        if not isinstance(order_id, int) or order_id < 1:
            raise ValidationFailed(
                "the purchase order number is a whole number", field="purchase_order"
            )
        fields = {
            "line_no": number_or_text(form.get("line_no")),
            "quantity": number_or_text(form.get("quantity")),
            "reason": form.get("reason"),
        }
        body = parsed(OverReceiptApproval, fields)
        quantity = to_base_units(body.quantity, Fraction(1), field="quantity")

        def work(conn: Connection) -> tuple[int, Any]:
            return 200, purchase_orders.approve_over_receipt(
                conn, viewer.actor, order_id, body.line_no, quantity, body.reason
            )

        form_write(db, viewer, request, form, work)
    except StockpilotError as exc:
        return _approvals(
            request, db, viewer, problem=exc.problem(), values=kept, status_code=exc.status
        )
    return _approvals(
        request,
        db,
        viewer,
        message=(
            f"Purchase order {order_id} line {body.line_no}: {quantity} more allowed "
            "(someone else receives them)."
        ),
    )


@router.post("/approvals/count/{count_id:int}")
def approve_count(
    count_id: int, request: Request, db: DbPage, viewer: ViewerDep, form: FormDep
) -> HTMLResponse:
    """A supervisor approves a count's variances — never the one who asked for the count or
    counted it (the counting service decides, as for the API); the adjustment posts."""
    viewer.need("counts:approve")

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, counting.approve_count(conn, viewer.actor, count_id)

    try:
        done = form_write(db, viewer, request, form, work)
    except StockpilotError as exc:
        return _approvals(request, db, viewer, problem=exc.problem(), status_code=exc.status)
    return _approvals(
        request,
        db,
        viewer,
        message=f"Count {count_id} approved: its variance of {done['quantity_variance']:+,} "
        f"unit(s) is posted ({done['status']}).",
    )
