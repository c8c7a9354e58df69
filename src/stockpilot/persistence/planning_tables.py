"""Tables of the planning side: runs, policies per item-location, proposals, planner actions,
scenarios. Planning writes them in bulk (Core). The documents an accepted proposal becomes
(purchase and transfer orders) are the warehouse's: persistence/warehouse_tables.py."""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.tables import Id, Money, Qty, metadata

planning_run = sa.Table(
    "planning_run",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("period", sa.String(10), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="running"),
    sa.Column("item_locations", sa.Integer, nullable=False, server_default="0"),
    sa.Column("proposals", sa.Integer, nullable=False, server_default="0"),
    sa.Column("timings", sa.JSON, nullable=True),
    sa.Column("user_id", sa.BigInteger, nullable=True),
)

item_location_policy = sa.Table(
    "item_location_policy",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("run_id", Id, sa.ForeignKey("planning_run.id"), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("demand_class", sa.String(20), nullable=False),
    sa.Column("abc", sa.String(1), nullable=False),
    sa.Column("xyz", sa.String(1), nullable=False),
    sa.Column("method", sa.String(40), nullable=False),
    sa.Column("method_params", sa.String(200), nullable=True),
    sa.Column("forecast_per_period", sa.Float, nullable=False),
    sa.Column("forecast_sigma", sa.Float, nullable=False),
    sa.Column("forecast_mase", sa.Float, nullable=True),
    sa.Column("lead_time_periods", sa.Float, nullable=False),
    sa.Column("lead_time_std_periods", sa.Float, nullable=False),
    sa.Column("lead_time_source", sa.String(40), nullable=True),
    sa.Column("service_level", sa.Float, nullable=False),
    sa.Column("service_type", sa.String(20), nullable=False),
    sa.Column("safety_stock", sa.Float, nullable=False),
    sa.Column("reorder_point", sa.Float, nullable=False),
    sa.Column("order_up_to", sa.Float, nullable=False),
    sa.Column("order_quantity", sa.Float, nullable=False),
    sa.Column("outliers", sa.Integer, nullable=False, server_default="0"),
    # the segment policy (planning/segment_policy.py) and why; events; the pilot segment
    sa.Column("policy_type", sa.String(20), nullable=True),
    sa.Column("policy_reason", sa.String(80), nullable=True),
    sa.Column("excess_flag", sa.Boolean, nullable=True),
    sa.Column("event_uplift", sa.Float, nullable=True),
    sa.Column("in_pilot", sa.Boolean, nullable=True),
    sa.UniqueConstraint("run_id", "item_id", "site_id", name="uq_policy_run_item_site"),
)
sa.Index("ix_policy_item_site", item_location_policy.c.item_id, item_location_policy.c.site_id)

policy_override = sa.Table(
    "policy_override",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("service_level", sa.Float, nullable=True),
    sa.Column("criticality", sa.String(20), nullable=True),
    sa.Column("reason_code", sa.String(40), nullable=False),
    sa.Column("comment", sa.String(400), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
    # stock | make_to_order | transfer_fulfilled | phase_out (planning/segment_policy.py)
    sa.Column("policy_type", sa.String(20), nullable=True),
    sa.UniqueConstraint("item_id", "site_id", name="uq_policy_override_item_site"),
)

# Known events and promotions: a forecast uplift over a window, for one item and/or one site
# (null: every) — planning/events.py.
planning_event = sa.Table(
    "planning_event",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=True),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=True),
    # Every item of this family (migration 0013); with item_id null.
    sa.Column("family", sa.String(60), nullable=True),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("uplift_pct", sa.Float, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
    sa.CheckConstraint("end_date >= start_date", name="window"),
    sa.CheckConstraint("uplift_pct > -100", name="uplift"),
)
sa.Index("ix_planning_event_end", planning_event.c.end_date)

# A supplier's order-value terms in the grouping of purchase proposals (planning/order_terms.py).
supplier_order_terms = sa.Table(
    "supplier_order_terms",
    metadata,
    sa.Column("supplier_id", Id, sa.ForeignKey("supplier.id"), primary_key=True),
    sa.Column("min_order_value", Money, nullable=True),
    sa.Column("free_freight_value", Money, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
    sa.CheckConstraint(
        "(min_order_value IS NULL OR min_order_value >= 0)"
        " AND (free_freight_value IS NULL OR free_freight_value >= 0)",
        name="values",
    ),
)

# The policy set on trial (champion / challenger, planning/pilot.py): the database run plans the
# pilot segment with the challenger's service level while the pilot is active.
planning_pilot = sa.Table(
    "planning_pilot",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("scope_field", sa.String(20), nullable=False),
    sa.Column("scope_value", sa.String(40), nullable=False),
    sa.Column("service_level", sa.Float, nullable=True),
    sa.Column("segment_policies", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.String(20), nullable=False, server_default="active"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
    sa.CheckConstraint("scope_field IN ('demand_class','abc','family')", name="scope"),
    sa.CheckConstraint("status IN ('active','ended')", name="status"),
)

proposal = sa.Table(
    "proposal",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("run_id", Id, sa.ForeignKey("planning_run.id"), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("from_site_id", Id, sa.ForeignKey("site.id"), nullable=True),
    sa.Column("supplier_id", Id, sa.ForeignKey("supplier.id"), nullable=True),
    sa.Column("group_key", sa.String(80), nullable=False),
    sa.Column("quantity_suggested", Qty, nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("unit_cost", Money, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("trigger", sa.String(200), nullable=False),
    sa.Column("explanation", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="proposed"),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("document_type", sa.String(30), nullable=True),
    sa.Column("document_id", sa.BigInteger, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.CheckConstraint("kind IN ('purchase','transfer')", name="kind"),
    sa.CheckConstraint("quantity >= 0 AND quantity_suggested >= 0", name="quantities"),
)
sa.Index("ix_proposal_run_status", proposal.c.run_id, proposal.c.status)
sa.Index("ix_proposal_site", proposal.c.site_id, proposal.c.id)

proposal_action = sa.Table(
    "proposal_action",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("proposal_id", Id, sa.ForeignKey("proposal.id"), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("quantity_before", Qty, nullable=True),
    sa.Column("quantity_after", Qty, nullable=True),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("comment", sa.String(400), nullable=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
)
sa.Index("ix_proposal_action_proposal", proposal_action.c.proposal_id)

scenario = sa.Table(
    "scenario",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="done"),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
)
