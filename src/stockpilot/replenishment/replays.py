"""Replays of the database's own history: the calibration report (does the engine's promise hold
on this network's demand?) and the champion / challenger report of the active pilot.

Both read demand, receipts and master data as the planning run does (``replenishment.run``),
then call the pure replays (``planning.backtest``, ``planning.pilot``): the engine re-plans
after every period of the last ``holdout`` and its levels are replayed against what really
happened.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl
import sqlalchemy as sa

from stockpilot.persistence.db import Database
from stockpilot.persistence.tables import item
from stockpilot.planning.backtest import backtest_policies
from stockpilot.planning.engine import PilotSegment, PlanConfig
from stockpilot.planning.history import build_demand_history
from stockpilot.planning.pilot import PilotReport, PilotScope, run_pilot
from stockpilot.replenishment.run import load_demand, load_items, load_receipts, load_sites
from stockpilot.replenishment.setup import get_pilot
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import Forbidden, ValidationFailed

__all__ = ["ReplayRequest", "calibration_report", "pilot_report"]


@dataclass(frozen=True)
class ReplayRequest:
    """What to replay. Each replay re-plans ``holdout`` times: on a whole large network that is
    minutes, so ``site`` and ``skus`` narrow it to one site's or a few items' series."""

    holdout: int = 26
    period: str = "week"
    service_level: float | None = None
    service_type: str = "fill_rate"
    site: str | None = None
    skus: tuple[str, ...] = ()

    def config(self) -> PlanConfig:
        return PlanConfig(
            period=self.period,  # type: ignore[arg-type]
            service_level=self.service_level,
            service_type=self.service_type,
        )


def _frames(db: Database, actor: Actor, request: ReplayRequest) -> tuple[pl.DataFrame, ...]:
    if request.site is None and not actor.all_sites:
        raise Forbidden("a replay of every site needs access to every site: name one with site")
    with db.read() as conn:
        sites = load_sites(conn)
        demand = load_demand(conn, sites)
        items = load_items(conn, sites)
        receipts = load_receipts(conn, sites)
        if request.site is not None:
            known = sites.filter(pl.col("site") == request.site)
            if known.height == 0 or not actor.can_see_site(int(known["site_id"][0])):
                raise ValidationFailed(f"unknown site {request.site!r}", field="site")
            demand = demand.filter(pl.col("site") == request.site)
        if request.skus:
            ids = conn.execute(sa.select(item.c.id).where(item.c.sku.in_(request.skus))).scalars()
            demand = demand.filter(pl.col("item").is_in([str(i) for i in ids]))
    if demand.height == 0:
        raise ValidationFailed("no demand history to replay", field="holdout")
    periods = build_demand_history(demand, request.period).n_periods  # type: ignore[arg-type]
    if periods <= request.holdout + 8:
        raise ValidationFailed("not enough history before the holdout", field="holdout")
    return demand, receipts, items


def calibration_report(db: Database, actor: Actor, request: ReplayRequest) -> pl.DataFrame:
    """Per demand class (and ``all``): the share of protection periods whose demand exceeded
    forecast + k·σ (k = 0, 1, 1.645) against the normal's promise, with the replay's fill rate
    and inventory (``planning.calibration_report``; docs/planning.md, *Calibration report*)."""
    demand, receipts, items = _frames(db, actor, request)
    replayed = backtest_policies(
        demand, receipts, items, request.config(), request.holdout, replan_every=1,
        at_review=True,
    )  # fmt: skip
    assert replayed.calibration is not None
    return replayed.calibration


def pilot_report(db: Database, actor: Actor, pilot_id: int, request: ReplayRequest) -> PilotReport:
    """The pilot's challenger on its segment against the champion, replayed on the last
    ``holdout`` periods, with the verdict (``planning.pilot.pilot_verdict``)."""
    with db.read() as conn:
        pilot = get_pilot(conn, pilot_id)
    demand, receipts, items = _frames(db, actor, request)
    champion = request.config()
    challenger = replace(
        champion,
        pilot=PilotSegment(
            pilot.scope_field, pilot.scope_value, pilot.service_level, pilot.segment_policies
        ),
    )
    try:
        return run_pilot(
            demand, receipts, items, champion, challenger,
            PilotScope(pilot.scope_field, pilot.scope_value), request.holdout,
        )  # fmt: skip
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="scope_value") from exc
