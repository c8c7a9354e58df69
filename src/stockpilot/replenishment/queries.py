"""Read side of planning: policies, forecasts, proposals, runs, scenarios, draft orders.

Lists are keyset pages on the table's id with site scope applied in SQL.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.persistence.planning_tables import (
    item_location_policy,
    planning_run,
    proposal,
    proposal_action,
    scenario,
)
from stockpilot.persistence.tables import demand_history, item, site, supplier
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import NotFound
from stockpilot.shared.fields import iso_utc

_from_site = site.alias("from_site")


def latest_run_id(conn: Connection) -> int | None:
    found = conn.execute(
        sa.select(sa.func.max(planning_run.c.id)).where(planning_run.c.status == "done")
    ).scalar()
    return None if found is None else int(found)


def _scoped(stmt: Any, column: Any, actor: Actor) -> Any:
    return stmt if actor.all_sites else stmt.where(column.in_(sorted(actor.site_ids)))


def list_policies(
    conn: Connection,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    sku: str | None = None,
    site_code: str | None = None,
    run_id: int | None = None,
) -> list[dict[str, Any]]:
    run = run_id if run_id is not None else latest_run_id(conn)
    if run is None:
        return []
    p = item_location_policy
    stmt = (
        sa.select(p, item.c.sku, site.c.code.label("site"))
        .join(item, item.c.id == p.c.item_id)
        .join(site, site.c.id == p.c.site_id)
        .where(p.c.run_id == run)
        .order_by(p.c.id)
        .limit(limit)
    )
    if after_id is not None:
        stmt = stmt.where(p.c.id > after_id)
    if sku is not None:
        stmt = stmt.where(item.c.sku == sku)
    if site_code is not None:
        stmt = stmt.where(site.c.code == site_code)
    stmt = _scoped(stmt, p.c.site_id, actor)
    return [
        {
            "id": r.id,
            "run_id": r.run_id,
            "sku": r.sku,
            "site": r.site,
            "demand_class": r.demand_class,
            "abc": r.abc,
            "xyz": r.xyz,
            "service_level": r.service_level,
            "service_type": r.service_type,
            "forecast_per_period": r.forecast_per_period,
            "forecast_sigma": r.forecast_sigma,
            "lead_time_periods": r.lead_time_periods,
            "lead_time_std_periods": r.lead_time_std_periods,
            "lead_time_source": r.lead_time_source,
            "safety_stock": r.safety_stock,
            "reorder_point": r.reorder_point,
            "order_up_to": r.order_up_to,
            "order_quantity": r.order_quantity,
            "policy_type": r.policy_type,
            "policy_reason": r.policy_reason,
            "excess_flag": r.excess_flag,
            "event_uplift": r.event_uplift,
            "in_pilot": r.in_pilot,
            "forecast": {
                "method": r.method,
                "parameters": r.method_params,
                "mase": r.forecast_mase,
                "outliers": r.outliers,
            },
        }
        for r in conn.execute(stmt)
    ]


def _proposal_select() -> Any:
    return (
        sa.select(
            proposal,
            item.c.sku,
            site.c.code.label("site"),
            _from_site.c.code.label("from_site"),
            supplier.c.code.label("supplier"),
        )
        .join(item, item.c.id == proposal.c.item_id)
        .join(site, site.c.id == proposal.c.site_id)
        .outerjoin(_from_site, _from_site.c.id == proposal.c.from_site_id)
        .outerjoin(supplier, supplier.c.id == proposal.c.supplier_id)
    )


def _render_proposal(r: Any) -> dict[str, Any]:
    explanation = r.explanation
    if isinstance(explanation, str):
        import json

        explanation = json.loads(explanation)
    return {
        "id": r.id,
        "run_id": r.run_id,
        "kind": r.kind,
        "sku": r.sku,
        "site": r.site,
        "from_site": r.from_site,
        "supplier": r.supplier,
        "group": r.group_key,
        "quantity_suggested": r.quantity_suggested,
        "quantity": r.quantity,
        "unit_cost": None if r.unit_cost is None else str(r.unit_cost),
        "due_date": r.due_date.isoformat() if r.due_date else None,
        "status": r.status,
        "reason_code": r.reason_code,
        "trigger": r.trigger,
        "explanation": explanation,
        "document": (
            {"type": r.document_type, "id": r.document_id} if r.document_id is not None else None
        ),
        "version": r.version,
    }


def list_proposals(
    conn: Connection,
    actor: Actor,
    *,
    after_id: int | None,
    limit: int,
    status: str | None = None,
    kind: str | None = None,
    site_code: str | None = None,
    sku: str | None = None,
    supplier_code: str | None = None,
    trigger: str | None = None,
    abc: str | None = None,
    min_value: Decimal | None = None,
) -> list[dict[str, Any]]:
    """One keyset page of proposals; ``trigger`` matches words of the trigger sentence,
    ``abc`` the item-location's class in the proposal's run, ``min_value`` the line's value
    (quantity × unit cost) from below."""
    stmt = _proposal_select().order_by(proposal.c.id).limit(limit)
    if abc is not None:
        p = item_location_policy
        stmt = stmt.where(
            sa.exists().where(
                p.c.run_id == proposal.c.run_id,
                p.c.item_id == proposal.c.item_id,
                p.c.site_id == proposal.c.site_id,
                p.c.abc == abc,
            )
        )
    if min_value is not None:
        stmt = stmt.where(proposal.c.quantity * proposal.c.unit_cost >= min_value)
    if supplier_code is not None:
        stmt = stmt.where(supplier.c.code == supplier_code)
    if trigger is not None:
        words = trigger.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(proposal.c.trigger.ilike(f"%{words}%", escape="\\"))
    if after_id is not None:
        stmt = stmt.where(proposal.c.id > after_id)
    if status is not None:
        stmt = stmt.where(proposal.c.status == status)
    if kind is not None:
        stmt = stmt.where(proposal.c.kind == kind)
    if site_code is not None:
        stmt = stmt.where(site.c.code == site_code)
    if sku is not None:
        stmt = stmt.where(item.c.sku == sku)
    stmt = _scoped(stmt, proposal.c.site_id, actor)
    return [_render_proposal(r) for r in conn.execute(stmt)]


def get_proposal(conn: Connection, actor: Actor, proposal_id: int) -> dict[str, Any]:
    row = conn.execute(_proposal_select().where(proposal.c.id == proposal_id)).first()
    if row is None or not actor.can_see_site(row.site_id):
        raise NotFound(f"proposal {proposal_id} not found")
    body = _render_proposal(row)
    body["actions"] = [
        {
            "action": a.action,
            "quantity_before": a.quantity_before,
            "quantity_after": a.quantity_after,
            "reason_code": a.reason_code,
            "comment": a.comment,
            "at": iso_utc(a.at),
            "user_id": a.user_id,
        }
        for a in conn.execute(
            sa.select(proposal_action)
            .where(proposal_action.c.proposal_id == proposal_id)
            .order_by(proposal_action.c.id)
        )
    ]
    return body


def daily_demand(conn: Connection, actor: Actor, sku: str, site_id: int) -> list[tuple[date, int]]:
    """The demand history of one item-location, summed per requested date (nothing for a
    site outside the caller's scope)."""
    if not actor.can_see_site(site_id):
        return []
    rows = conn.execute(
        sa.select(demand_history.c.requested_date, sa.func.sum(demand_history.c.quantity))
        .join(item, item.c.id == demand_history.c.item_id)
        .where(item.c.sku == sku, demand_history.c.site_id == site_id)
        .group_by(demand_history.c.requested_date)
        .order_by(demand_history.c.requested_date)
    ).all()
    return [(r[0], int(r[1])) for r in rows]


def list_runs(conn: Connection, *, after_id: int | None, limit: int) -> list[dict[str, Any]]:
    stmt = sa.select(planning_run).order_by(planning_run.c.id.desc()).limit(limit)
    if after_id is not None:
        stmt = stmt.where(planning_run.c.id < after_id)
    return [
        {
            "id": r.id,
            "status": r.status,
            "period": r.period,
            "as_of": r.as_of.isoformat(),
            "started_at": iso_utc(r.started_at),
            "finished_at": iso_utc(r.finished_at),
            "item_locations": r.item_locations,
            "proposals": r.proposals,
            "parameters": r.parameters,
            "timings": r.timings,
        }
        for r in conn.execute(stmt)
    ]


def list_scenarios(
    conn: Connection, actor: Actor, *, after_id: int | None, limit: int
) -> list[dict[str, Any]]:
    stmt = sa.select(scenario).order_by(scenario.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(scenario.c.id > after_id)
    if not actor.all_sites:  # site-bound users see the scenarios they ran
        stmt = stmt.where(scenario.c.user_id == actor.user_id)
    return [
        {
            "id": r.id,
            "name": r.name,
            "created_at": iso_utc(r.created_at),
            "parameters": r.parameters,
            "result": r.result,
        }
        for r in conn.execute(stmt)
    ]


def get_scenario(conn: Connection, actor: Actor, scenario_id: int) -> dict[str, Any]:
    rows = list_scenarios(conn, actor, after_id=scenario_id - 1, limit=1)
    if not rows or rows[0]["id"] != scenario_id:
        raise NotFound(f"scenario {scenario_id} not found")
    return rows[0]


def data_quality_inputs(conn: Connection) -> Any:
    """The master data and history the data-quality rules read
    (:class:`stockpilot.planning.data_quality.DataQualityInputs`), keyed by SKU and supplier
    code. Demand is reduced to the items that have any."""
    import polars as pl

    from stockpilot.persistence.tables import (
        demand_history,
        item_uom,
        receipt_history,
        supplier_item,
    )
    from stockpilot.planning.data_quality import DataQualityInputs
    from stockpilot.replenishment.frames import read_frame

    item_supplier = supplier.alias("item_supplier")
    items = read_frame(
        conn,
        sa.select(
            item.c.sku, sa.cast(item.c.active, sa.Integer), item.c.length_mm, item.c.width_mm,
            item.c.height_mm, item.c.weight_g, sa.cast(item.c.pack_size, sa.Float),
            item_supplier.c.code,
        )
        .select_from(item.outerjoin(item_supplier, item_supplier.c.id == item.c.supplier_id))
        .order_by(item.c.sku),
        {"item": pl.String, "active": pl.Int64, "length_mm": pl.Float64, "width_mm": pl.Float64,
         "height_mm": pl.Float64, "weight_g": pl.Float64, "pack_size": pl.Float64,
         "supplier": pl.String},
    ).with_columns(pl.col("active").cast(pl.Boolean))  # fmt: skip
    units = read_frame(
        conn,
        sa.select(item.c.sku, item_uom.c.uom)
        .select_from(item_uom.join(item, item.c.id == item_uom.c.item_id))
        .where(item_uom.c.uom != item.c.base_uom),
        {"item": pl.String, "uom": pl.String},
    )
    suppliers = read_frame(
        conn,
        sa.select(supplier.c.code, supplier.c.lead_time_days).order_by(supplier.c.code),
        {"supplier": pl.String, "lead_time_days": pl.Float64},
    )
    supplier_items = read_frame(
        conn,
        sa.select(supplier.c.code, item.c.sku, supplier_item.c.lead_time_days).select_from(
            supplier_item.join(supplier, supplier.c.id == supplier_item.c.supplier_id).join(
                item, item.c.id == supplier_item.c.item_id
            )
        ),
        {"supplier": pl.String, "item": pl.String, "lead_time_days": pl.Float64},
    )
    receipts = read_frame(
        conn,
        sa.select(
            item.c.sku, supplier.c.code, receipt_history.c.order_date,
            receipt_history.c.receipt_date,
        ).select_from(
            receipt_history.join(item, item.c.id == receipt_history.c.item_id).join(
                supplier, supplier.c.id == receipt_history.c.supplier_id
            )
        ),
        {"item": pl.String, "supplier": pl.String, "order_date": pl.String,
         "receipt_date": pl.String},
    ).with_columns(pl.col("order_date", "receipt_date").str.slice(0, 10).str.to_date())  # fmt: skip
    with_demand = sa.select(demand_history.c.item_id).distinct().subquery()
    demand = read_frame(
        conn,
        sa.select(item.c.sku).select_from(
            with_demand.join(item, item.c.id == with_demand.c.item_id)
        ),
        {"item": pl.String},
    )
    return DataQualityInputs(items, units, suppliers, supplier_items, receipts, demand)


def storage_capacity(conn: Connection) -> Any:
    """``item, site, storage_capacity``: per item-site, the capacity of the bins that hold it
    (physical storage, pick and bulk locations with stock on hand), for the item-sites whose
    every such bin has a capacity — a bin without one leaves the item-site uncapped. ``item`` is
    the item id as text, ``site`` the site code (as the planning run keys its frames)."""
    import polars as pl

    from stockpilot.persistence.tables import balance, location
    from stockpilot.replenishment.frames import read_frame

    held = (
        sa.select(
            balance.c.item_id, location.c.site_id, location.c.id.label("location_id"),
            location.c.capacity,
        )
        .join(location, location.c.id == balance.c.location_id)
        .where(
            location.c.is_virtual.is_(False),
            location.c.active.is_(True),
            location.c.kind.in_(("storage", "pick", "bulk")),
            balance.c.quantity_on_hand > 0,
        )
        .distinct()
        .subquery()
    )  # fmt: skip
    frame = read_frame(
        conn,
        sa.select(
            held.c.item_id,
            site.c.code,
            sa.func.sum(held.c.capacity),
            sa.func.count(),
            sa.func.count(held.c.capacity),
        )
        .join(site, site.c.id == held.c.site_id)
        .group_by(held.c.item_id, site.c.code),
        {"item": pl.Int64, "site": pl.String, "storage_capacity": pl.Float64,
         "bins": pl.Int64, "with_capacity": pl.Int64},
    )  # fmt: skip
    return frame.filter(pl.col("bins") == pl.col("with_capacity")).select(
        pl.col("item").cast(pl.String), "site", "storage_capacity"
    )


def sourcing_inputs(conn: Connection) -> tuple[Any, Any]:
    """``(primaries, candidates)`` for :func:`stockpilot.planning.sourcing.alternate_sources`,
    keyed by SKU and supplier code: each active item's primary supplier with its quoted and
    actual (median of receipts) lead time, and every supplier-item row (the primary's included)
    with its cost, lead time and on-time share (received within the quoted lead time)."""
    import polars as pl

    from stockpilot.persistence.tables import receipt_history, supplier_item
    from stockpilot.replenishment.frames import read_frame

    quoted = sa.func.coalesce(supplier_item.c.lead_time_days, supplier.c.lead_time_days)
    candidates = read_frame(
        conn,
        sa.select(
            item.c.sku, supplier.c.code,
            sa.cast(sa.func.coalesce(supplier_item.c.unit_cost, item.c.unit_cost), sa.Float),
            quoted,
        )
        .select_from(
            supplier_item.join(item, item.c.id == supplier_item.c.item_id).join(
                supplier, supplier.c.id == supplier_item.c.supplier_id
            )
        )
        .where(item.c.active.is_(True)),
        {"item": pl.String, "supplier": pl.String, "unit_cost": pl.Float64,
         "lead_time_days": pl.Float64},
    )  # fmt: skip
    primary_quoted = sa.func.coalesce(supplier_item.c.lead_time_days, supplier.c.lead_time_days)
    primaries = read_frame(
        conn,
        sa.select(
            item.c.sku, supplier.c.code, primary_quoted,
            sa.cast(sa.func.coalesce(supplier_item.c.unit_cost, item.c.unit_cost), sa.Float),
        )
        .select_from(
            item.join(supplier, supplier.c.id == item.c.supplier_id).outerjoin(
                supplier_item,
                sa.and_(
                    supplier_item.c.item_id == item.c.id,
                    supplier_item.c.supplier_id == item.c.supplier_id,
                ),
            )
        )
        .where(item.c.active.is_(True)),
        {"item": pl.String, "supplier": pl.String, "quoted_lead_time_days": pl.Float64,
         "unit_cost": pl.Float64},
    )  # fmt: skip
    receipts = read_frame(
        conn,
        sa.select(
            item.c.sku, supplier.c.code, receipt_history.c.order_date,
            receipt_history.c.receipt_date,
        ).select_from(
            receipt_history.join(item, item.c.id == receipt_history.c.item_id).join(
                supplier, supplier.c.id == receipt_history.c.supplier_id
            )
        ),
        {"item": pl.String, "supplier": pl.String, "order_date": pl.String,
         "receipt_date": pl.String},
    ).with_columns(
        (
            pl.col("receipt_date").str.slice(0, 10).str.to_date()
            - pl.col("order_date").str.slice(0, 10).str.to_date()
        ).dt.total_days().alias("days")
    )  # fmt: skip
    actual = receipts.group_by("item", "supplier").agg(
        pl.col("days").median().alias("actual_lead_time_days")
    )
    primaries = primaries.join(actual, on=["item", "supplier"], how="left")
    # The primary is a candidate too (with the master's quoted lead time) when it has no
    # supplier-item row of its own.
    candidates = pl.concat(
        [
            candidates,
            primaries.select(
                "item", "supplier", "unit_cost", pl.col("quoted_lead_time_days").alias(
                    "lead_time_days"
                ),
            ),
        ]
    ).unique(["item", "supplier"], keep="first")  # fmt: skip
    on_time = (
        receipts.join(candidates.select("item", "supplier", "lead_time_days"),
                      on=["item", "supplier"], how="inner")
        .group_by("item", "supplier")
        .agg((pl.col("days") <= pl.col("lead_time_days")).mean().alias("on_time_share"))
    )  # fmt: skip
    candidates = candidates.join(on_time, on=["item", "supplier"], how="left")
    return primaries.drop("unit_cost"), candidates
