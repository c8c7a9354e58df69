"""Warehouse screens for phone-sized scanners (360 × 640): my next task, confirm it by
scanning the bin (put away to the directed bin or another with a reason; pick, short if the
bin holds less), and receive against a purchase order or an ASN by scanning GS1 labels.

Every action is one form with a focused scan field: a keyboard-wedge scanner types the scan
and presses Enter. The screens call the task queue and receiving services the API calls.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from sqlalchemy.engine import Connection

from stockpilot.api import queries
from stockpilot.catalog import reference
from stockpilot.inbound import receiving
from stockpilot.inbound.scan import ScanError, parse_scan
from stockpilot.inbound.schemas import ReceiptCreate
from stockpilot.network.service import SiteRef, site_in_scope
from stockpilot.shared.errors import StockpilotError, ValidationFailed
from stockpilot.tasks import service as tasks
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

router = APIRouter(route_class=PageRoute, include_in_schema=False)

QUEUE = 20


def parsed(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """A command model from form data; its first error named by field, as the API does."""
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        raise ValidationFailed(f"{where}: {first['msg']}", field=where) from None


def _site(conn: Connection, viewer: Viewer, code: str) -> SiteRef | None:
    """The site the screen works at: the one asked for, else the person's only site."""
    if code:
        return site_in_scope(conn, viewer.actor, code)
    sites = queries.list_sites(conn, viewer.actor, after_id=None, limit=2)
    if len(sites) == 1:
        return site_in_scope(conn, viewer.actor, sites[0]["code"])
    return None


def _screen(
    request: Request,
    db: DbPage,
    viewer: Viewer,
    site_code: str,
    *,
    task: dict[str, Any] | None = None,
    message: str | None = None,
    problem: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    viewer.need("tasks:read")
    with db.read() as conn:
        st = _site(conn, viewer, site_code)
        sites = queries.list_sites(conn, viewer.actor, after_id=None, limit=200)
        queue = (
            tasks.list_tasks(
                conn,
                viewer.actor,
                tasks.TaskFilter(site_id=st.id, status="open"),
                after_id=None,
                limit=QUEUE,
            )
            if st is not None
            else []
        )
        reasons = reference.list_reason_codes(conn) if task is not None else []
    return render(
        request,
        "tasks.html",
        viewer,
        status_code=status_code,
        site=st.code if st else "",
        sites=sites,
        queue=queue,
        task=task,
        reasons=reasons,
        message=message,
        error=problem,
    )


@router.get("/tasks")
def task_screen(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    site: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    return _screen(request, db, viewer, site.strip())


@router.post("/tasks/next")
def next_task(request: Request, db: DbPage, viewer: ViewerDep, form: FormDep) -> HTMLResponse:
    viewer.need("tasks:write")
    code = form.get("site")
    try:
        found = _next(request, db, viewer, form, code)
    except StockpilotError as exc:
        return _screen(request, db, viewer, code, problem=exc.problem(), status_code=exc.status)
    if found is None:
        return _screen(request, db, viewer, code, message="No task is waiting for you here.")
    return _screen(request, db, viewer, found["site"], task=found)


def _next(
    request: Request, db: DbPage, viewer: Viewer, form: Form, code: str
) -> dict[str, Any] | None:
    if not code:
        raise ValidationFailed("say which site you work at", field="site")
    task_type = form.get("type") or None

    def work(conn: Connection) -> tuple[int, Any]:
        st = site_in_scope(conn, viewer.actor, code)
        return 200, {"task": tasks.next_task(conn, viewer.actor, st.id, task_type=task_type)}

    # No form key: asking again is meant to answer again (the queue keeps my assigned task).
    found: dict[str, Any] | None = form_write(db, viewer, request, Form(()), work)["task"]
    return found


@router.post("/tasks/{task_id:int}/confirm")
def confirm(
    request: Request, db: DbPage, viewer: ViewerDep, form: FormDep, task_id: int
) -> HTMLResponse:
    viewer.need("tasks:write")
    with db.read() as conn:
        task = tasks.get_task(conn, viewer.actor, task_id)
    try:
        done = _confirm(request, db, viewer, form, task)
    except StockpilotError as exc:
        return _screen(
            request,
            db,
            viewer,
            task["site"],
            task=task,
            problem=exc.problem(),
            status_code=exc.status,
        )
    quantity = done.get("confirmed_quantity", done.get("quantity"))
    where = form.get("scan")
    return _screen(
        request,
        db,
        viewer,
        task["site"],
        message=f"Task {task_id} done: {quantity} × {task['sku']} at {where}.",
    )


def _confirm(
    request: Request, db: DbPage, viewer: Viewer, form: Form, task: dict[str, Any]
) -> dict[str, Any]:
    scanned = form.get("scan")
    if not scanned:
        raise ValidationFailed("scan the bin", field="scan")
    quantity_text = form.get("quantity")
    quantity: int | None = None
    if quantity_text:
        if not quantity_text.isdigit():
            raise ValidationFailed("the quantity is a whole number", field="quantity")
        quantity = int(quantity_text)
    short = form.get("short") == "1" or (
        task["type"] == "pick" and quantity is not None and quantity < task["quantity"]
    )
    directed = task["to_location"] if task["type"] in ("putaway", "replenish", "move") else None
    if task["type"] == "pick":
        directed = task["from_location"]
    reason = form.get("reason") or None
    if directed is not None and scanned != directed and reason is None:
        raise ValidationFailed(
            f"this is not bin {directed}: scan {directed}, or choose why you used another bin",
            field="scan",
        )
    confirmation = tasks.Confirmation(
        location=scanned,
        quantity=quantity,
        reason=reason,
        exception="short" if short and task["type"] == "pick" else None,
    )

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, tasks.confirm_task(conn, viewer.actor, int(task["id"]), confirmation)

    result: dict[str, Any] = form_write(db, viewer, request, form, work)
    return result


# --- receiving ---------------------------------------------------------------------------------


def _receive_screen(
    request: Request,
    db: DbPage,
    viewer: Viewer,
    site_code: str,
    *,
    receipt: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    problem: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    viewer.need("stock:write")
    with db.read() as conn:
        st = _site(conn, viewer, site_code)
        sites = queries.list_sites(conn, viewer.actor, after_id=None, limit=200)
    return render(
        request,
        "receive.html",
        viewer,
        status_code=status_code,
        site=st.code if st else "",
        sites=sites,
        receipt=receipt,
        values=values or {},
        error=problem,
    )


@router.get("/receive")
def receive_screen(
    request: Request,
    db: DbPage,
    viewer: ViewerDep,
    site: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    return _receive_screen(request, db, viewer, site.strip())


def number_or_text(text: str) -> int | str:
    """A form's digits as the number the command expects (anything else is left for the
    command's own validation to refuse, naming the field)."""
    return int(text) if text.isdigit() else text


def receipt_command(form: Form) -> ReceiptCreate:
    """The receipt a scanner's form asks for: a pallet label (SSCC) receives its ASN lines;
    an item label (GTIN with lot, expiry, serial, count) is one line, against the purchase
    order or ASN given."""
    scan_text = form.get("scan")
    if not scan_text:
        raise ValidationFailed("scan the label", field="scan")
    data: dict[str, Any] = {"site": form.get("site") or None}
    for name in ("purchase_order", "asn"):
        if form.get(name):
            data[name] = number_or_text(form.get(name))
    try:
        label = parse_scan(scan_text)
    except ScanError as exc:
        where = exc.field if exc.field == "scan" else f"scan.{exc.field}"
        raise ValidationFailed(exc.detail, field=where) from None
    if label.is_pallet_label:
        data["sscc"] = scan_text
    else:
        line: dict[str, Any] = {"scan": scan_text}
        if form.get("quantity"):
            line["quantity"] = number_or_text(form.get("quantity"))
        if form.get("location"):
            line["location"] = form.get("location")
        data["lines"] = [line]
    command: ReceiptCreate = parsed(ReceiptCreate, data)
    return command


@router.post("/receive")
def receive(request: Request, db: DbPage, viewer: ViewerDep, form: FormDep) -> HTMLResponse:
    viewer.need("stock:write")
    code = form.get("site")
    settings = request.app.state.settings
    try:
        command = receipt_command(form)

        def work(conn: Connection) -> tuple[int, Any]:
            return 201, receiving.receive_goods(
                conn, viewer.actor, command, max_lines=settings.max_batch_lines
            )

        receipt = form_write(db, viewer, request, form, work)
    except StockpilotError as exc:
        kept = {k: form.get(k) for k in ("purchase_order", "asn", "quantity", "location")}
        return _receive_screen(
            request,
            db,
            viewer,
            code,
            values=kept,
            problem=exc.problem(),
            status_code=exc.status,
        )
    kept = {k: form.get(k) for k in ("purchase_order", "asn")}
    return _receive_screen(request, db, viewer, code, receipt=receipt, values=kept)
