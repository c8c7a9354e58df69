"""Cycle counts: create counts for bins or by the site's program, approve their variances,
read their accuracy, and edit the site's control policy. Routers parse, call, render."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, SettingsDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.controls import ControlPolicy, Count, CountAccuracy, CountProgram
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.counting import policy, programs
from stockpilot.counting import service as counting
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import ValidationFailed
from stockpilot.shared.fields import Code, Command, SiteCode

router = APIRouter(route_class=VisibleRoute, tags=["counts"])

Reader = Annotated[Actor, require("counts:read")]
Planner = Annotated[Actor, require("counts:write")]
Approver = Annotated[Actor, require("counts:approve")]
SiteQuery = Annotated[str, Query(min_length=1, max_length=40)]


class CountCreate(Command):
    site: SiteCode
    locations: list[Code] = Field(min_length=1, max_length=5000)
    skus: list[Code] | None = Field(default=None, min_length=1, max_length=5000)


class CountProgramCreate(Command):
    site: SiteCode


@router.post("/counts", status_code=201, responses=doc(Count, 201, "Created"))
def create_count(
    cmd: CountCreate, writer: WriterDep, settings: SettingsDep, actor: Planner
) -> Response:
    """A blind count of what the named bins hold: one count task per stock key."""
    if len(cmd.locations) > settings.max_batch_lines:
        raise ValidationFailed(
            f"at most {settings.max_batch_lines} locations per count", field="locations"
        )

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, counting.create_count(conn, actor, cmd.site, cmd.locations, cmd.skus)

    return writer.run(actor, work).response()


@router.post("/counts/program", status_code=201, responses=doc(CountProgram, 201, "Created"))
def run_program(cmd: CountProgramCreate, writer: WriterDep, actor: Planner) -> Response:
    """Today's count program of a site: every bin due by its items' ABC class or flagged by an
    exception (variance history, value over the threshold, not counted for N days)."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, programs.create_program(conn, actor, cmd.site)

    return writer.run(actor, work).response()


@router.get("/counts", responses=doc(Page[Count]))
def list_counts(
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    site: VisibleSite,
    status: Literal["open", "counted", "closed", "cancelled"] | None = None,
) -> Any:
    """Counts (without their lines; read one count for them)."""
    with db.read() as conn:
        rows = counting.list_counts(
            conn,
            actor,
            site_id=site.id if site else None,
            status=status,
            after_id=paging.after_id,
            limit=paging.fetch,
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/counts/accuracy", responses=doc(CountAccuracy))
def accuracy(db: DbDep, actor: Reader, site: SiteQuery) -> Any:
    """Count accuracy of a site and of each of its counters."""
    with db.read() as conn:
        return counting.count_accuracy(conn, actor, site)


@router.get("/counts/policy/{site_code}", responses=doc(ControlPolicy))
def get_policy(site_code: str, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return policy.get_policy(conn, actor, site_code)


@router.put("/counts/policy/{site_code}", responses=doc(ControlPolicy))
def set_policy(
    site_code: str,
    cmd: policy.ControlPolicyUpdate,
    writer: WriterDep,
    actor: Annotated[Actor, require("reference:write")],
) -> Response:
    """Replace a site's count frequencies, exceptions, tolerances and adjustment thresholds."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, policy.set_policy(conn, actor, site_code, cmd)

    return writer.run(actor, work).response()


@router.get("/counts/{count_id:int}", responses=doc(Count))
def get_count(count_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return counting.get_count(conn, actor, count_id)


@router.post("/counts/{count_id:int}/approve", responses=doc(Count))
def approve_count(count_id: int, writer: WriterDep, actor: Approver) -> Response:
    """Post the variances waiting for approval. The approver is neither the person who asked
    for the count nor one of its counters (403)."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, counting.approve_count(conn, actor, count_id)

    return writer.run(actor, work).response()


@router.post("/counts/{count_id:int}/cancel", responses=doc(Count))
def cancel_count(count_id: int, writer: WriterDep, actor: Planner) -> Response:
    """Cancel the open part of a count; what was posted stays."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, counting.cancel_count(conn, actor, count_id)

    return writer.run(actor, work).response()
