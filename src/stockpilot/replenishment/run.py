"""A planning run on the database: read history, positions and master data as frames, call the
pure engine and the proposal rule, write policies and proposals back — all in bulk.

Branches replenished from a hub plan with the transfer lead time (``TRANSFER_LEAD_TIME_DAYS``)
and learn nothing from supplier receipts; sites that buy learn lead times from their receipts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.inbound.purchase_orders import OPEN_STATES as PO_OPEN_STATES
from stockpilot.persistence import journal
from stockpilot.persistence.db import Database
from stockpilot.persistence.planning_tables import (
    item_location_policy,
    planning_event,
    planning_pilot,
    planning_run,
    policy_override,
    proposal,
    supplier_order_terms,
)
from stockpilot.persistence.tables import (
    balance,
    demand_history,
    item,
    location,
    receipt_history,
    sales_order,
    sales_order_line,
    site,
    stock_status,
    supplier,
    supplier_item,
)
from stockpilot.persistence.warehouse_tables import (
    purchase_order,
    purchase_order_line,
    transfer_order,
    transfer_order_line,
)
from stockpilot.planning.engine import PilotSegment, PlanConfig, plan
from stockpilot.planning.order_terms import apply_order_terms
from stockpilot.planning.proposals import propose
from stockpilot.replenishment import queries
from stockpilot.replenishment.frames import read_frame, write_frame
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import today, utcnow
from stockpilot.transfers.transfer_orders import OPEN_STATES as TO_OPEN_STATES

TRANSFER_LEAD_TIME_DAYS = 3.0
TRANSFER_LEAD_TIME_STD_DAYS = 1.0
# What is on order: the open states of the documents, as their packages define them.
OPEN_ORDER_STATUSES = tuple(sorted({*PO_OPEN_STATES, *TO_OPEN_STATES}))


@dataclass
class RunSummary:
    run_id: int
    item_locations: int
    proposals: int
    purchase_value: float
    timings: dict[str, float] = field(default_factory=dict)


def _day(conn: Connection, column: Any) -> Any:
    """The calendar date of a timestamp column, on either backend."""
    if conn.dialect.name == "postgresql":
        return sa.cast(column, sa.Date)
    return sa.func.date(column)


def load_demand(conn: Connection, sites: pl.DataFrame) -> pl.DataFrame:
    history = sa.select(
        demand_history.c.item_id,
        demand_history.c.site_id,
        demand_history.c.requested_date,
        demand_history.c.quantity,
    ).where(demand_history.c.source != "order")  # live order lines are read below, once
    live = (
        sa.select(
            sales_order_line.c.item_id,
            sales_order.c.site_id,
            sa.func.coalesce(sales_order.c.requested_date, _day(conn, sales_order.c.created_at)),
            sales_order_line.c.quantity,
        )
        .join(sales_order, sales_order.c.id == sales_order_line.c.order_id)
        .where(sales_order.c.status != "cancelled")
    )
    frame = read_frame(
        conn,
        sa.union_all(history, live),  # type: ignore[arg-type]
        {"item": pl.Int64, "site": pl.Int64, "date": pl.Date, "quantity": pl.Float64},
    )
    return _site_codes(frame.with_columns(pl.col("item").cast(pl.String)), sites)


def load_sites(conn: Connection) -> pl.DataFrame:
    """Sites by code (the planning frames name sites by code, so explanations read well)."""
    rows = conn.execute(sa.select(site.c.id, site.c.code, site.c.replenished_from_site_id)).all()
    codes = {r.id: r.code for r in rows}
    return pl.DataFrame(
        {
            "site_id": [r.id for r in rows],
            "site": [r.code for r in rows],
            "replenished_from": [codes.get(r.replenished_from_site_id) for r in rows],
        },
        schema={"site_id": pl.Int64, "site": pl.String, "replenished_from": pl.String},
    )


def _site_codes(frame: pl.DataFrame, sites: pl.DataFrame, column: str = "site") -> pl.DataFrame:
    """Replace integer site ids in ``column`` by site codes."""
    mapping = sites.select(pl.col("site_id").alias(column), pl.col("site").alias("_code"))
    return (
        frame.with_columns(pl.col(column).cast(pl.Int64))
        .join(mapping, on=column, how="left", maintain_order="left")
        .with_columns(pl.col("_code").alias(column))
        .drop("_code")
    )


def load_items(conn: Connection, sites: pl.DataFrame) -> pl.DataFrame:
    """Per item-location master data: cost, MOQ, pack, supplier, quoted lead time, overrides."""
    master = read_frame(
        conn,
        sa.select(
            item.c.id,
            item.c.unit_cost,
            item.c.moq,
            item.c.pack_size,
            item.c.supplier_id,
            item.c.criticality,
            sa.func.coalesce(item.c.family, "").label("family"),
            sa.func.coalesce(supplier_item.c.lead_time_days, supplier.c.lead_time_days),
            supplier.c.lead_time_std_days,
        )
        .outerjoin(supplier, supplier.c.id == item.c.supplier_id)
        .outerjoin(
            supplier_item,
            sa.and_(
                supplier_item.c.item_id == item.c.id,
                supplier_item.c.supplier_id == item.c.supplier_id,
            ),
        )
        .where(item.c.active.is_(True)),
        {
            "item": pl.Int64,
            "unit_cost": pl.Float64,
            "moq": pl.Float64,
            "pack_size": pl.Float64,
            "supplier": pl.Int64,
            "criticality": pl.String,
            "family": pl.String,
            "lead_time_days": pl.Float64,
            "lead_time_std_days": pl.Float64,
        },
    ).with_columns(pl.col("item").cast(pl.String), pl.col("supplier").cast(pl.String))
    per_site = master.join(sites.select("site", "site_id", "replenished_from"), how="cross")
    branch = pl.col("replenished_from").is_not_null()
    per_site = per_site.with_columns(
        pl.when(branch)
        .then(pl.lit(TRANSFER_LEAD_TIME_DAYS))
        .otherwise(pl.col("lead_time_days"))
        .alias("lead_time_days"),
        pl.when(branch)
        .then(pl.lit(TRANSFER_LEAD_TIME_STD_DAYS))
        .otherwise(pl.col("lead_time_std_days"))
        .alias("lead_time_std_days"),
        pl.when(branch)
        .then(pl.concat_str([pl.lit("transfer:"), pl.col("replenished_from")]))
        .otherwise(pl.col("supplier"))
        .alias("supplier"),
    )
    overrides = read_frame(
        conn,
        sa.select(
            policy_override.c.item_id,
            policy_override.c.site_id,
            policy_override.c.service_level,
            policy_override.c.policy_type,
        ),
        {"item": pl.Int64, "site": pl.Int64, "service_level": pl.Float64, "policy_type": pl.String},
    ).with_columns(pl.col("item").cast(pl.String))
    overrides = _site_codes(overrides, sites)
    # replenished_from stays: the segment rules send slow C items at a branch to its hub
    return per_site.join(overrides, on=["item", "site"], how="left").drop("site_id")


def load_events(conn: Connection, as_of: date) -> pl.DataFrame:
    """The known events still to come or running (``planning/events.py`` frame: ``item, family,
    site, start, end, uplift_pct``; blank item or site: every)."""
    rows = conn.execute(
        sa.select(
            planning_event.c.item_id,
            planning_event.c.family,
            site.c.code,
            planning_event.c.start_date,
            planning_event.c.end_date,
            planning_event.c.uplift_pct,
        )
        .outerjoin(site, site.c.id == planning_event.c.site_id)
        .where(planning_event.c.end_date >= as_of)
        .order_by(planning_event.c.id)
    ).all()  # a handful of rows: the engine loops over events
    frame = pl.DataFrame(
        {
            "item": [None if r.item_id is None else str(r.item_id) for r in rows],
            "family": [r.family for r in rows],
            "site": [r.code for r in rows],
            "start": [r.start_date for r in rows],
            "end": [r.end_date for r in rows],
            "uplift_pct": [float(r.uplift_pct) for r in rows],
        },
        schema={
            "item": pl.String,
            "family": pl.String,
            "site": pl.String,
            "start": pl.Date,
            "end": pl.Date,
            "uplift_pct": pl.Float64,
        },
    )
    return frame.select(
        pl.col("item").fill_null(""),
        pl.col("family").fill_null(""),
        pl.col("site").fill_null(""),
        pl.col("start").cast(pl.String),
        pl.col("end").cast(pl.String),
        "uplift_pct",
    )


def load_order_terms(conn: Connection) -> pl.DataFrame:
    """Per supplier: minimum order value and free-freight threshold (``order_terms.py``)."""
    return read_frame(
        conn,
        sa.select(
            supplier_order_terms.c.supplier_id,
            supplier_order_terms.c.min_order_value,
            supplier_order_terms.c.free_freight_value,
        ),
        {"supplier": pl.Int64, "min_order_value": pl.Float64, "free_freight_value": pl.Float64},
    ).with_columns(pl.col("supplier").cast(pl.String))


def load_pilot(conn: Connection) -> PilotSegment | None:
    """The active pilot (at most one is active at a time), as the engine takes it."""
    row = conn.execute(
        sa.select(planning_pilot)
        .where(planning_pilot.c.status == "active")
        .order_by(planning_pilot.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return PilotSegment(
        row.scope_field, row.scope_value, row.service_level, bool(row.segment_policies)
    )


def load_receipts(conn: Connection, sites: pl.DataFrame) -> pl.DataFrame:
    buyers = sites.filter(pl.col("replenished_from").is_null())["site_id"].to_list()
    frame = read_frame(
        conn,
        sa.select(
            receipt_history.c.item_id,
            receipt_history.c.site_id,
            receipt_history.c.supplier_id,
            receipt_history.c.order_date,
            receipt_history.c.receipt_date,
            receipt_history.c.quantity,
        ).where(receipt_history.c.site_id.in_(buyers or [-1])),
        {
            "item": pl.Int64,
            "site": pl.Int64,
            "supplier": pl.Int64,
            "order_date": pl.Date,
            "receipt_date": pl.Date,
            "quantity": pl.Float64,
        },
    )
    frame = frame.with_columns(pl.col(c).cast(pl.String) for c in ("item", "supplier"))
    return _site_codes(frame, sites)


def _open_document_lines(
    conn: Connection,
    head: sa.Table,
    lines: sa.Table,
    site_column: Any,
    done_column: Any,
    name: str,
) -> pl.DataFrame:
    """What open purchase or transfer documents still bring, per item and receiving site."""
    return read_frame(
        conn,
        sa.select(lines.c.item_id, site_column, sa.func.sum(lines.c.quantity - done_column))
        .join(head, head.c.id == lines.c.order_id)
        .where(head.c.status.in_(OPEN_ORDER_STATUSES))
        .group_by(lines.c.item_id, site_column),
        {"item": pl.Int64, "site": pl.Int64, name: pl.Float64},
    )


def load_positions(conn: Connection, sites: pl.DataFrame) -> pl.DataFrame:
    """On hand and allocated (allocatable statuses), backorders, on order and in transit."""
    key = {"item": pl.Int64, "site": pl.Int64}
    stock = read_frame(
        conn,
        sa.select(
            balance.c.item_id,
            location.c.site_id,
            sa.func.sum(balance.c.quantity_on_hand),
            sa.func.sum(balance.c.quantity_allocated),
        )
        .join(location, location.c.id == balance.c.location_id)
        .join(stock_status, stock_status.c.code == balance.c.status)
        .where(location.c.is_virtual.is_(False), stock_status.c.allocatable.is_(True))
        .group_by(balance.c.item_id, location.c.site_id),
        {**key, "on_hand": pl.Float64, "allocated": pl.Float64},
    )
    backorders = read_frame(
        conn,
        sa.select(
            sales_order_line.c.item_id,
            sales_order.c.site_id,
            sa.func.sum(
                sales_order_line.c.quantity
                - sales_order_line.c.quantity_allocated
                - sales_order_line.c.quantity_picked
            ),
        )
        .join(sales_order, sales_order.c.id == sales_order_line.c.order_id)
        .where(sales_order.c.status.notin_(("cancelled", "closed")))
        .group_by(sales_order_line.c.item_id, sales_order.c.site_id),
        {**key, "backorders": pl.Float64},
    )
    on_order = _open_document_lines(
        conn,
        purchase_order,
        purchase_order_line,
        purchase_order.c.site_id,
        purchase_order_line.c.quantity_received,
        "on_order",
    )
    travelling = read_frame(
        conn,
        sa.select(balance.c.item_id, location.c.to_site_id, sa.func.sum(balance.c.quantity_on_hand))
        .join(location, location.c.id == balance.c.location_id)
        .where(location.c.kind == "in_transit")
        .group_by(balance.c.item_id, location.c.to_site_id),
        {**key, "in_transit": pl.Float64},
    )
    planned_transfers = _open_document_lines(
        conn,
        transfer_order,
        transfer_order_line,
        transfer_order.c.to_site_id,
        transfer_order_line.c.quantity_shipped,
        "in_transit",
    )
    transit = (
        pl.concat([travelling, planned_transfers])
        .group_by("item", "site")
        .agg(pl.col("in_transit").sum())
    )
    out = stock
    for frame in (backorders, on_order, transit):
        out = out.join(frame, on=["item", "site"], how="full", coalesce=True)
    values = ["on_hand", "allocated", "backorders", "on_order", "in_transit"]
    out = out.with_columns(pl.col(values).fill_null(0.0), pl.col("item").cast(pl.String))
    return _site_codes(out, sites)


@dataclass
class PlanComputation:
    """Everything a run computed, ready to be written in one transaction."""

    policies: pl.DataFrame
    proposals: pl.DataFrame
    period: str
    as_of: date
    config: PlanConfig
    timings: dict[str, float]

    def write(self, conn: Connection, actor: Actor) -> RunSummary:
        started = time.perf_counter()
        summary = _write(
            conn,
            actor,
            self.policies,
            self.proposals,
            self.period,
            self.as_of,
            self.config,
            self.timings,
        )
        self.timings["write"] = round(time.perf_counter() - started, 3)
        # The run row keeps the write's own time too (same transaction, one more statement).
        conn.execute(
            sa.update(planning_run)
            .where(planning_run.c.id == summary.run_id)
            .values(timings=self.timings)
        )
        summary.timings = self.timings
        return summary


def compute_plan(
    db: Database,
    *,
    period: str = "week",
    service_level: float | None = None,
    service_type: str = "cycle",
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
    segment_policies: bool = False,
) -> PlanComputation:
    """Read history, positions, master data, events, order terms and the active pilot; run the
    engine and the proposal rule, then the suppliers' order-value terms on the purchase
    groups."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        if progress is not None:
            progress(name)

    as_of = as_of or today()
    with db.read() as conn:
        sites = load_sites(conn)
        demand = load_demand(conn, sites)
        # Storage caps come from the bins that hold each item (their capacity, summed).
        items = load_items(conn, sites).join(
            queries.storage_capacity(conn), on=["item", "site"], how="left"
        )
        receipts = load_receipts(conn, sites)
        positions = load_positions(conn, sites)
        events = load_events(conn, as_of)
        terms = load_order_terms(conn)
        pilot = load_pilot(conn)
    mark("read")
    config = PlanConfig(
        period=period,  # type: ignore[arg-type]
        service_level=service_level,
        service_type=service_type,
        end=as_of,
        segment_policies=segment_policies,
        pilot=pilot,
    )
    result = plan(demand, receipts, items, config, events=events)
    timings.update({f"engine.{k}": round(v, 3) for k, v in result.timings.items()})
    mark("engine")
    sourcing = (
        items.filter(pl.col("supplier").is_not_null())
        .select("item", "supplier", "moq", "pack_size", "unit_cost")
        .unique("item", keep="first")
    )
    sourcing = sourcing.filter(~pl.col("supplier").str.starts_with("transfer:"))
    proposals = propose(
        result.policies, positions, sites.select("site", "replenished_from"), sourcing
    )
    if terms.height:
        proposals = apply_order_terms(
            proposals, terms, sourcing.select("item", pl.col("pack_size").fill_null(1.0))
        )
    site_ids = sites.select("site", "site_id")
    policies = result.policies.join(site_ids, on="site", how="left", maintain_order="left")
    proposals = proposals.join(site_ids, on="site", how="left", maintain_order="left").join(
        site_ids.rename({"site": "from_site", "site_id": "from_site_id"}),
        on="from_site",
        how="left",
        maintain_order="left",
    )
    mark("proposals")
    return PlanComputation(policies, proposals, period, as_of, config, timings)


def run_plan(
    db: Database,
    *,
    period: str = "week",
    service_level: float | None = None,
    service_type: str = "cycle",
    as_of: date | None = None,
    actor: Actor,
    progress: Callable[[str], None] | None = None,
    segment_policies: bool = False,
) -> RunSummary:
    """Plan every item-location with demand and write policies and proposals (reads first,
    then one transaction for all the writes)."""
    computation = compute_plan(
        db,
        period=period,
        service_level=service_level,
        service_type=service_type,
        as_of=as_of,
        progress=progress,
        segment_policies=segment_policies,
    )
    summary = db.run(lambda conn: computation.write(conn, actor))
    if progress is not None:
        progress("write")
    return summary


def _write(
    conn: Connection,
    actor: Actor,
    policies: pl.DataFrame,
    proposals: pl.DataFrame,
    period: str,
    as_of: date,
    config: PlanConfig,
    timings: dict[str, float],
) -> RunSummary:
    params = {
        "service_level": config.service_level,
        "service_type": config.service_type,
        "period": period,
        "segment_policies": config.segment_policies,
        "pilot": None if config.pilot is None else asdict(config.pilot),
    }
    run_id = int(
        conn.execute(
            planning_run.insert()
            .values(
                started_at=utcnow(),
                period=period,
                as_of=as_of,
                parameters=params,
                user_id=actor.user_id,
            )
            .returning(planning_run.c.id)
        ).scalar_one()
    )
    policy_rows = policies.select(
        pl.lit(run_id).alias("run_id"),
        pl.col("item").cast(pl.Int64).alias("item_id"),
        "site_id",
        "demand_class",
        "abc",
        "xyz",
        "method",
        pl.format(
            "alpha={} beta={} phi={} gamma={}",
            *(pl.col(c).round(4) for c in ("alpha", "beta", "phi", "gamma")),
        ).alias("method_params"),
        "forecast_per_period",
        "forecast_sigma",
        pl.col("mase").alias("forecast_mase"),
        "lead_time_periods",
        "lead_time_std_periods",
        "lead_time_source",
        "service_level",
        "service_type",
        "safety_stock",
        "reorder_point",
        "order_up_to",
        "order_quantity",
        pl.col("outlier_count").alias("outliers"),
        "policy_type",
        pl.col("policy_reason").str.slice(0, 80),
        "excess_flag",
        "event_uplift",
        "in_pilot",
    )
    write_frame(conn, item_location_policy, policy_rows)
    conn.execute(
        sa.update(proposal).where(proposal.c.status == "proposed").values(status="superseded")
    )
    lead_days = policies.select(
        "item",
        "site_id",
        (pl.col("lead_time_periods") * (7 if period == "week" else 30.4375)).alias("lead_days"),
    )
    rows = proposals.join(lead_days, on=["item", "site_id"], how="left").select(
        pl.lit(run_id).alias("run_id"),
        "kind",
        pl.col("item").cast(pl.Int64).alias("item_id"),
        "site_id",
        "from_site_id",
        pl.col("supplier").cast(pl.Int64, strict=False).alias("supplier_id"),
        "group_key",
        pl.col("quantity").alias("quantity_suggested"),
        "quantity",
        "unit_cost",
        (
            pl.lit(as_of) + pl.duration(days=pl.col("lead_days").fill_null(0).ceil().cast(pl.Int64))
        ).alias("due_date"),
        "trigger",
        "explanation",
        pl.lit("proposed").alias("status"),
        pl.lit(1).alias("version"),
    )
    write_frame(conn, proposal, rows)
    purchase_value = float(
        proposals.filter(pl.col("kind") == "purchase")["value"].fill_null(0.0).sum()
    )
    conn.execute(
        sa.update(planning_run)
        .where(planning_run.c.id == run_id)
        .values(
            finished_at=utcnow(),
            status="done",
            item_locations=policies.height,
            proposals=rows.height,
            timings=timings,
        )
    )
    journal.record(
        conn,
        actor,
        action="planning.run",
        entity_type="planning_run",
        entity_id=run_id,
        detail={"item_locations": policies.height, "proposals": rows.height, **params},
        topic="planning.run.completed",
    )
    return RunSummary(run_id, policies.height, rows.height, purchase_value)
