"""Waves and pick lists: plan a wave, release it to the floor, confirm a pick list at once,
and top off the pick faces when the warehouse is quiet."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import doc
from stockpilot.api.models.outbound import (
    PicksConfirmed,
    TasksCreated,
    Wave,
    WaveReleased,
    WavesPlanned,
)
from stockpilot.api.routing import VisibleRoute
from stockpilot.outbound import picking, replenishment, waves
from stockpilot.outbound.schemas import PickBatch, SiteRequest, WaveCreate, WavePlan
from stockpilot.shared.actor import Actor

router = APIRouter(route_class=VisibleRoute, tags=["waves"])

Planner = Annotated[Actor, require("sales_orders:write")]
Picker = Annotated[Actor, require("sales_orders:pick")]


@router.post("/waves", status_code=201, responses=doc(Wave, 201, "Created"))
def create_wave(cmd: WaveCreate, writer: WriterDep, actor: Planner) -> Response:
    """Plan a wave of sales orders of one site (discrete, batch or zone picking)."""

    def work(conn: Connection) -> tuple[int, Any]:
        wave_id = waves.create_wave(conn, actor, cmd)
        return 201, waves.get_wave(conn, actor, wave_id)

    return writer.run(actor, work).response()


@router.post("/waves/plan", status_code=201, responses=doc(WavesPlanned, 201, "Created"))
def plan_waves(cmd: WavePlan, writer: WriterDep, actor: Planner) -> Response:
    """Plan waves of the site's open orders that ride in no wave, by route and/or ship date."""

    def work(conn: Connection) -> tuple[int, Any]:
        ids = waves.plan_waves(conn, actor, cmd)
        return 201, {"items": [waves.get_wave(conn, actor, i) for i in ids]}

    return writer.run(actor, work).response()


@router.get("/waves/{wave_id:int}", responses=doc(Wave))
def get_wave(wave_id: int, db: DbDep, actor: Annotated[Actor, require("sales_orders:read")]) -> Any:
    with db.read() as conn:
        return waves.get_wave(conn, actor, wave_id)


@router.post("/waves/{wave_id:int}/release", responses=doc(WaveReleased))
def release_wave(wave_id: int, writer: WriterDep, actor: Planner) -> Response:
    """Allocate what the wave's orders lack and create their pick tasks (once)."""

    def work(conn: Connection) -> tuple[int, Any]:
        summary = waves.release_wave(conn, actor, wave_id)
        return 200, {**waves.get_wave(conn, actor, wave_id), **summary}

    return writer.run(actor, work).response()


@router.post("/tasks/confirm-batch", responses=doc(PicksConfirmed))
def confirm_picks(cmd: PickBatch, writer: WriterDep, actor: Picker) -> Response:
    """Confirm a whole pick list in one transaction: every task or none (a task already
    confirmed is a 409 and nothing is posted)."""

    def work(conn: Connection) -> tuple[int, Any]:
        done = picking.confirm_picks(conn, actor, [(p.task_id, p.quantity) for p in cmd.picks])
        return 200, done

    return writer.run(actor, work).response()


@router.post("/tasks/top-off", status_code=201, responses=doc(TasksCreated, 201, "Created"))
def top_off(cmd: SiteRequest, writer: WriterDep, actor: Planner) -> Response:
    """Create replenishment tasks for every pick face of the site below its min."""

    def work(conn: Connection) -> tuple[int, Any]:
        ids = replenishment.top_off(conn, actor, cmd.site)
        return 201, {"site": cmd.site, "task_ids": ids}

    return writer.run(actor, work).response()
