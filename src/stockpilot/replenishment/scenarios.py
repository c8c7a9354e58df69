"""Scenarios: test a policy against what-ifs before they happen.

The engine plans on the history before the last ``holdout`` periods; the held-out actual demand
is then replayed against those policies under the baseline and under each scenario (supplier
disruption, lead time × k, lead-time delay, demand spike, warehouse capacity: inbound lines per
period and storage room), side by side. Results are stored in
the ``scenario`` table with their parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Annotated, Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from stockpilot.persistence import journal
from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import scenario
from stockpilot.persistence.tables import item
from stockpilot.planning.engine import PlanConfig, plan
from stockpilot.planning.history import build_demand_history
from stockpilot.planning.simulation import Policy, Scenario, compare_scenarios, scenario_buffers
from stockpilot.planning.sourcing import contingency_buffers
from stockpilot.replenishment.run import load_demand, load_items, load_receipts, load_sites
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import NotFound, ValidationFailed
from stockpilot.shared.fields import StrictFloat, StrictInt
from stockpilot.shared.sql import insert_id

CONTINGENCY_ROWS = 200  # item-locations listed with their buffer (totals cover all of them)


class ScenarioSpec(BaseModel):
    """One what-if. Windows are in periods from the start of the replayed horizon."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str = Field(min_length=1, max_length=60)
    kind: str = Field(
        pattern="^(supplier_disruption|demand_spike|lead_time_delay|warehouse_capacity)$"
    )
    start: StrictInt = Field(default=0, ge=0, le=520)
    length: StrictInt = Field(default=4, ge=0, le=104)
    lead_time_factor: StrictFloat = Field(default=1.0, gt=0, le=10)
    delay_periods: StrictInt = Field(default=0, ge=0, le=52)
    demand_change_pct: StrictFloat = Field(default=0.0, ge=-100, le=1000)
    inbound_lines_per_period: StrictInt = Field(default=0, ge=0, le=10_000_000)
    storage_capacity: StrictFloat = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _capacity_named(self) -> ScenarioSpec:
        if self.kind == "warehouse_capacity" and not (
            self.inbound_lines_per_period or self.storage_capacity
        ):
            raise ValueError(
                "a warehouse_capacity scenario needs inbound_lines_per_period or storage_capacity"
            )
        return self

    def to_scenario(self) -> Scenario:
        if self.kind == "supplier_disruption":
            return Scenario(
                name=self.name,
                disruption_start=self.start,
                disruption_length=self.length,
                lead_time_factor=self.lead_time_factor,
            )
        if self.kind == "warehouse_capacity":
            return Scenario(
                name=self.name,
                inbound_lines_per_period=self.inbound_lines_per_period,
                storage_capacity=self.storage_capacity,
            )
        if self.kind == "demand_spike":
            return Scenario(
                name=self.name,
                demand_spike_pct=self.demand_change_pct,
                spike_start=self.start,
                spike_length=self.length,
            )
        return Scenario(
            name=self.name,
            lead_time_delay=self.delay_periods,
            lead_time_factor=self.lead_time_factor,
        )


class ScenarioRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str = Field(min_length=1, max_length=120)
    scenarios: list[ScenarioSpec] = Field(min_length=1, max_length=10)
    holdout: StrictInt = Field(default=26, ge=4, le=52)
    period: str = Field(default="week", pattern="^(week|month)$")
    service_level: StrictFloat | None = Field(default=None, gt=0.5, lt=1.0)
    service_type: str = Field(default="cycle", pattern="^(cycle|fill_rate)$")
    site: str | None = Field(default=None, min_length=1, max_length=40)
    skus: list[Annotated[str, Field(min_length=1, max_length=60)]] | None = Field(
        default=None, max_length=5000
    )


@dataclass(frozen=True)
class ScenarioResult:
    """The replayed horizon under one scenario, totalled over the series (the first row of an
    outcome is the baseline)."""

    scenario: str
    fill_rate: float
    cycle_service_level: float
    average_on_hand: float
    stockout_periods: int
    fill_rate_vs_baseline: float
    on_hand_vs_baseline: float
    contingency_units: float = 0.0  # buffers that bring the scenario back to the baseline
    contingency_holding_cost: float = 0.0  # their holding cost a year


@dataclass(frozen=True)
class ContingencyBuffer:
    """The stock one item-location needs against one scenario (``planning.sourcing``)."""

    scenario: str
    sku: str
    site: str
    buffer: float
    holding_cost: float


@dataclass(frozen=True)
class ScenarioOutcome:
    """The side-by-side replay: one row of ``results`` per scenario (the baseline first), with
    the fill rate, cycle service, inventory and stockouts of the replay; ``id`` once stored."""

    name: str
    series: int
    holdout_periods: int
    period: str
    replayed_from: str
    results: list[ScenarioResult]
    contingency: list[ContingencyBuffer]  # the dearest first, at most CONTINGENCY_ROWS
    id: int | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body of the API (and the stored ``scenario.result``)."""
        out = asdict(self)
        if self.id is None:
            out.pop("id")
        return out


def run_scenarios(db: Database, request: ScenarioRequest, *, actor: Actor) -> ScenarioOutcome:
    """Plan on the history before the holdout, replay it under each scenario, store the result."""
    outcome = compute_scenarios(db, request, actor)
    sid = db.run(lambda conn: store_scenario(conn, actor, request, outcome))
    return replace(outcome, id=sid)


def compute_scenarios(db: Database, request: ScenarioRequest, actor: Actor) -> ScenarioOutcome:
    """The side-by-side comparison, without storing it."""
    with db.read() as conn:
        sites = load_sites(conn)
        demand = load_demand(conn, sites)
        items = load_items(conn, sites)
        receipts = load_receipts(conn, sites)
        if request.site is not None:
            if request.site not in sites["site"].to_list():
                raise ValidationFailed(f"unknown site {request.site!r}", field="site")
            site_id = sites.filter(pl.col("site") == request.site)["site_id"][0]
            if not actor.can_see_site(int(site_id)):
                raise NotFound(f"site {request.site} not found", field="site")
        if request.skus:
            ids = conn.execute(sa.select(item.c.id).where(item.c.sku.in_(request.skus))).scalars()
            wanted = [str(i) for i in ids]
            demand = demand.filter(pl.col("item").is_in(wanted))
    allowed = [
        s
        for s, i in zip(sites["site"], sites["site_id"], strict=True)
        if actor.can_see_site(int(i))
    ]
    demand = demand.filter(pl.col("site").is_in([request.site] if request.site else allowed))
    if demand.height == 0:
        raise ValidationFailed("no demand history for this selection", field="skus")
    full = build_demand_history(demand, request.period)  # type: ignore[arg-type]
    if full.n_periods <= request.holdout + 8:
        raise ValidationFailed("not enough history before the holdout", field="holdout")
    cut = full.period_starts[-request.holdout].astype(object)
    config = PlanConfig(
        period=request.period,  # type: ignore[arg-type]
        service_level=request.service_level,
        service_type=request.service_type,
        start=full.period_starts[0].astype(object),
        end=cut - timedelta(days=1),
    )
    result = plan(demand, receipts, items, config)
    keys = result.policies.select("item", "site").with_row_index("row")
    idx = full.series.join(keys, on=["item", "site"], how="inner", maintain_order="left")
    test = full.demand[idx["series_index"].to_numpy(), -request.holdout :]
    pol = result.policies[idx["row"].to_numpy()]
    policy = Policy(
        pol["reorder_point"].to_numpy(),
        pol["order_up_to"].to_numpy(),
        np.ceil(pol["lead_time_periods"].to_numpy() - 1e-9).astype(np.int64),
        np.ones(pol.height, dtype=np.int64),
    )
    whatifs = [s.to_scenario() for s in request.scenarios]
    table = compare_scenarios(test, policy, whatifs)
    cost = pol.select("item", "site").join(
        items.select("item", "site", "unit_cost").unique(["item", "site"], keep="last"),
        on=["item", "site"],
        how="left",
        maintain_order="left",
    )["unit_cost"]
    buffers, holding = contingency_buffers(
        scenario_buffers(test, policy, whatifs),
        cost.fill_null(0.0).to_numpy()[:, None],
        config.holding_rate,
    )
    with db.read() as conn:
        skus: dict[str, str] = dict(
            conn.execute(sa.select(sa.cast(item.c.id, sa.String), item.c.sku)).all()
        )
    item_ids, site_codes = [str(v) for v in pol["item"]], [str(v) for v in pol["site"]]
    contingency = sorted(
        (
            ContingencyBuffer(
                whatifs[k].name,
                skus.get(item_ids[i], item_ids[i]),
                site_codes[i],
                float(buffers[i, k]),
                round(float(holding[i, k]), 6),
            )
            for i, k in zip(*np.nonzero(buffers), strict=True)
        ),
        key=lambda b: (-b.holding_cost, -b.buffer, b.scenario, b.sku, b.site),
    )[:CONTINGENCY_ROWS]
    units = [0.0, *buffers.sum(axis=0).tolist()]  # the baseline needs none
    costs = [0.0, *holding.sum(axis=0).tolist()]
    return ScenarioOutcome(
        name=request.name,
        series=int(pol.height),
        holdout_periods=request.holdout,
        period=request.period,
        replayed_from=str(cut),
        results=[
            ScenarioResult(
                scenario=str(row["scenario"]),
                fill_rate=round(float(row["fill_rate"]), 6),
                cycle_service_level=round(float(row["cycle_service_level"]), 6),
                average_on_hand=round(float(row["average_on_hand"]), 6),
                stockout_periods=int(row["stockout_periods"]),
                fill_rate_vs_baseline=round(float(row["fill_rate_vs_baseline"]), 6),
                on_hand_vs_baseline=round(float(row["on_hand_vs_baseline"]), 6),
                contingency_units=float(units[r]),
                contingency_holding_cost=round(float(costs[r]), 6),
            )
            for r, row in enumerate(table.to_dicts())
        ],
        contingency=contingency,
    )


def store_scenario(
    conn: sa.Connection, actor: Actor, request: ScenarioRequest, outcome: ScenarioOutcome
) -> int:
    sid = insert_id(
        conn,
        scenario.insert().values(
            name=request.name,
            parameters=request.model_dump(),
            result=outcome.body(),
            created_at=utcnow(),
            user_id=actor.user_id,
        ),
    )
    journal.record(
        conn,
        actor,
        action="scenario.run",
        entity_type="scenario",
        entity_id=sid,
        detail={"name": request.name, "series": outcome.series},
        topic="scenario.completed",
    )
    return sid
