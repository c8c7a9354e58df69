"""The task queue for scanners: my next task, confirm it, list what is open."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.tasks import ConfirmedTask, NextTask, Task
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.network.service import zone_in_site
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import BaseQuantity
from stockpilot.tasks import service as tasks

router = APIRouter(route_class=VisibleRoute, tags=["tasks"])

Reader = Annotated[Actor, require("tasks:read")]
Worker = Annotated[Actor, require("tasks:write")]
TaskType = Literal["putaway", "pick", "replenish", "count", "move"]
TaskStatus = Literal["open", "assigned", "done", "cancelled"]


class TaskConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    location: str | None = Field(
        default=None, min_length=1, max_length=60, description="the bin used (code)"
    )
    quantity: BaseQuantity | None = Field(default=None, description="base units; default all")
    reason: str | None = Field(
        default=None, min_length=1, max_length=40, description="why another bin or quantity"
    )
    exception: Literal["short", "damaged", "wrong_bin"] | None = None


@router.get("/tasks", responses=doc(Page[Task]))
def list_tasks(
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    site: VisibleSite,
    type: TaskType | None = None,
    status: TaskStatus | None = None,
    wave: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    flt = tasks.TaskFilter(
        site_id=site.id if site else None, type=type, status=status, wave_id=wave
    )
    with db.read() as conn:
        rows = tasks.list_tasks(conn, actor, flt, after_id=paging.after_id, limit=paging.fetch)
    return page(rows, paging, lambda r: int(r["id"]))


@router.post("/tasks/next", responses=doc(NextTask))
def next_task(
    writer: WriterDep,
    actor: Worker,
    site: VisibleSite,
    type: TaskType | None = None,
    zone: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
) -> Response:
    """The caller's next task at ``site``: one already assigned to them, else the most urgent
    open one (of ``type``, in ``zone``), now assigned to them."""
    if site is None:
        raise ValidationFailed("say which site you work at", field="site")

    def work(conn: Connection) -> tuple[int, Any]:
        zone_id = zone_in_site(conn, site.id, zone) if zone else None
        found = tasks.next_task(conn, actor, site.id, task_type=type, zone_id=zone_id)
        return 200, {"task": found}

    return writer.run(actor, work).response()


@router.get("/tasks/{task_id:int}", responses=doc(Task))
def get_task(task_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return tasks.get_task(conn, actor, task_id)


@router.post("/tasks/{task_id:int}/confirm", responses=doc(ConfirmedTask))
def confirm_task(task_id: int, body: TaskConfirm, writer: WriterDep, actor: Worker) -> Response:
    """Confirm a task with the bin used and the quantity; a bin other than the directed one
    needs a ``reason``. Confirming a task twice is a 409 and posts nothing."""
    confirmation = tasks.Confirmation(
        location=body.location, quantity=body.quantity, reason=body.reason, exception=body.exception
    )

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, tasks.confirm_task(conn, actor, task_id, confirmation)

    return writer.run(actor, work).response()
