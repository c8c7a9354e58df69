"""The schema, as SQLAlchemy Core tables. Hot paths (posting, imports, planning) use Core.

Quantities are BIGINT counts of the item's base unit; money is NUMERIC. ``balance.lot_id`` uses
0 for "no lot" so that the stock key can be a plain unique constraint on both backends (a NULL
would make every lot-less key distinct); it therefore carries no foreign key.
"""

from __future__ import annotations

from typing import Literal, get_args

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Qty = sa.BigInteger
Money = sa.Numeric(18, 6)


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer, nullable=False, server_default="1")


company = sa.Table(
    "company",
    metadata,
    _id(),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    # One currency per company: every value of its stock is in it (stockpilot.valuation).
    sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
)

site = sa.Table(
    "site",
    metadata,
    _id(),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False, server_default="branch"),
    sa.Column("company_id", Id, sa.ForeignKey("company.id"), nullable=False),
    sa.Column("replenished_from_site_id", Id, sa.ForeignKey("site.id"), nullable=True),
    _version(),
)

zone = sa.Table(
    "zone",
    metadata,
    _id(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("temperature_class", sa.String(20), nullable=True),
    sa.Column("hazard_class", sa.String(20), nullable=True),
    sa.UniqueConstraint("site_id", "code", name="uq_zone_site_code"),
)

# The kinds of location, as types (the API's schemas use them) and as tuples (checks, DDL).
PhysicalLocationKind = Literal["storage", "pick", "bulk", "staging", "dock"]
VirtualLocationKind = Literal[
    "supplier", "customer", "in_transit", "inventory_loss", "scrap", "kitting"
]
PHYSICAL_LOCATION_KINDS: tuple[str, ...] = get_args(PhysicalLocationKind)
VIRTUAL_LOCATION_KINDS: tuple[str, ...] = get_args(VirtualLocationKind)

location = sa.Table(
    "location",
    metadata,
    _id(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("zone_id", Id, sa.ForeignKey("zone.id"), nullable=True),
    sa.Column("code", sa.String(60), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("is_virtual", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("capacity", Qty, nullable=True),
    sa.Column("hazard_class", sa.String(20), nullable=True),
    sa.Column("temperature_class", sa.String(20), nullable=True),
    sa.Column("walk_sequence", sa.Integer, nullable=True),
    sa.Column("x", sa.Integer, nullable=True),
    sa.Column("y", sa.Integer, nullable=True),
    sa.Column("max_weight_g", sa.BigInteger, nullable=True),
    sa.Column("max_volume_cm3", sa.BigInteger, nullable=True),
    sa.Column("to_site_id", Id, sa.ForeignKey("site.id"), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _version(),
    sa.UniqueConstraint("site_id", "code", name="uq_location_site_code"),
    sa.CheckConstraint(
        "kind IN ('storage','pick','bulk','staging','dock','supplier','customer',"
        "'in_transit','inventory_loss','scrap','kitting')",
        name="kind",
    ),
)

supplier = sa.Table(
    "supplier",
    metadata,
    _id(),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("lead_time_days", sa.Float, nullable=True),
    sa.Column("lead_time_std_days", sa.Float, nullable=True),
    sa.Column("receipt_tolerance_pct", sa.Numeric(5, 2), nullable=True),
    _version(),
)

item = sa.Table(
    "item",
    metadata,
    _id(),
    sa.Column("sku", sa.String(60), nullable=False, unique=True),
    sa.Column("description", sa.String(400), nullable=False, server_default=""),
    sa.Column("base_uom", sa.String(20), nullable=False),
    sa.Column("lot_tracked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("serial_tracked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("shelf_life_days", sa.Integer, nullable=True),
    sa.Column("hazard_class", sa.String(20), nullable=True),
    sa.Column("temperature_class", sa.String(20), nullable=True),
    sa.Column("length_mm", sa.Integer, nullable=True),
    sa.Column("width_mm", sa.Integer, nullable=True),
    sa.Column("height_mm", sa.Integer, nullable=True),
    sa.Column("weight_g", sa.Integer, nullable=True),
    sa.Column("pack_size", Qty, nullable=False, server_default="1"),
    sa.Column("moq", Qty, nullable=False, server_default="1"),
    sa.Column("unit_cost", Money, nullable=True),
    sa.Column("supplier_id", Id, sa.ForeignKey("supplier.id"), nullable=True),
    sa.Column("criticality", sa.String(20), nullable=True),
    # The item family (product group): search, pilot scope, KPIs by family (migration 0013).
    sa.Column("family", sa.String(60), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _version(),
    # Valuation (stockpilot.valuation): how issues are costed, and the standard cost.
    sa.Column("cost_method", sa.String(10), nullable=False, server_default="fifo"),
    sa.Column("standard_cost", Money, nullable=True),
    sa.CheckConstraint("pack_size >= 1 AND moq >= 1", name="pack_moq"),
    sa.CheckConstraint("cost_method IN ('fifo', 'average', 'standard')", name="cost_method"),
)
sa.Index("ix_item_family", item.c.family)

item_uom = sa.Table(
    "item_uom",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("uom", sa.String(20), nullable=False),
    sa.Column("factor_numerator", sa.BigInteger, nullable=False),
    sa.Column("factor_denominator", sa.BigInteger, nullable=False, server_default="1"),
    sa.UniqueConstraint("item_id", "uom", name="uq_item_uom_item_uom"),
    sa.CheckConstraint("factor_numerator > 0 AND factor_denominator > 0", name="factor"),
)

supplier_item = sa.Table(
    "supplier_item",
    metadata,
    sa.Column("supplier_id", Id, sa.ForeignKey("supplier.id"), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), primary_key=True),
    sa.Column("lead_time_days", sa.Float, nullable=True),
    sa.Column("moq", Qty, nullable=True),
    sa.Column("pack_size", Qty, nullable=True),
    sa.Column("unit_cost", Money, nullable=True),
)

customer = sa.Table(
    "customer",
    metadata,
    _id(),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="3"),
    sa.Column("ship_complete", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("min_shelf_life_days", sa.Integer, nullable=True),
    sa.Column("allow_substitutes", sa.Boolean, nullable=False, server_default=sa.false()),
    _version(),
)

stock_status = sa.Table(
    "stock_status",
    metadata,
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("description", sa.String(200), nullable=False, server_default=""),
    sa.Column("allocatable", sa.Boolean, nullable=False),
    _version(),
)

reason_code = sa.Table(
    "reason_code",
    metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("description", sa.String(200), nullable=False, server_default=""),
    sa.Column("kind", sa.String(40), nullable=False, server_default="general"),
)

lot = sa.Table(
    "lot",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("lot_code", sa.String(60), nullable=False),
    sa.Column("expiry_date", sa.Date, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("item_id", "lot_code", name="uq_lot_item_code"),
)

serial = sa.Table(
    "serial",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("serial_number", sa.String(80), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("owner_id", Id, sa.ForeignKey("company.id"), nullable=False),
    sa.Column("in_stock", sa.Boolean, nullable=False),
    sa.UniqueConstraint("item_id", "serial_number", name="uq_serial_item_number"),
)

balance = sa.Table(
    "balance",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.String(20), sa.ForeignKey("stock_status.code"), nullable=False),
    sa.Column("owner_id", Id, sa.ForeignKey("company.id"), nullable=False),
    sa.Column("is_virtual", sa.Boolean, nullable=False),
    sa.Column("quantity_on_hand", Qty, nullable=False, server_default="0"),
    sa.Column("quantity_allocated", Qty, nullable=False, server_default="0"),
    sa.UniqueConstraint(
        "item_id", "location_id", "lot_id", "status", "owner_id", name="uq_balance_stock_key"
    ),
    sa.CheckConstraint(
        "is_virtual OR (quantity_on_hand >= 0 AND quantity_allocated >= 0 "
        "AND quantity_allocated <= quantity_on_hand)",
        name="physical_not_negative",
    ),
    sa.CheckConstraint("quantity_allocated >= 0", name="allocated_not_negative"),
    # No balance leaves ±10^18 (stockpilot.shared.fields.MAX_BALANCE), and a document adds at
    # most 10^18 to one key, so no sum of them overflows a 64-bit integer (SQLite would turn
    # it into a float).
    sa.CheckConstraint(
        "quantity_on_hand BETWEEN -1000000000000000000 AND 1000000000000000000 "
        "AND quantity_allocated <= 1000000000000000000",
        name="balance_in_range",
    ),
)
sa.Index("ix_balance_location", balance.c.location_id)

move = sa.Table(
    "move",
    metadata,
    _id(),
    sa.Column("document_type", sa.String(30), nullable=False),
    sa.Column("document_id", sa.BigInteger, nullable=True),
    sa.Column("line_no", sa.Integer, nullable=True),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("from_location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("to_location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("from_status", sa.String(20), nullable=False),
    sa.Column("to_status", sa.String(20), nullable=False),
    sa.Column("owner_id", Id, sa.ForeignKey("company.id"), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("uom", sa.String(20), nullable=True),
    sa.Column("quantity_entered", sa.String(40), nullable=True),
    sa.Column("unit_cost", Money, nullable=True),
    sa.Column("serial_id", sa.BigInteger, nullable=True),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("reverses_move_id", sa.BigInteger, nullable=True),
    sa.Column("effective_at", sa.DateTime, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
    # The value the move carried, in micro-units of the currency (stockpilot.valuation);
    # NULL when it changed no valuation area (a bin-to-bin move, consigned stock).
    sa.Column("value", sa.BigInteger, nullable=True),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)
sa.Index("ix_move_item", move.c.item_id, move.c.id)
sa.Index("ix_move_document", move.c.document_type, move.c.document_id)

allocation = sa.Table(
    "allocation",
    metadata,
    _id(),
    sa.Column("balance_id", Id, sa.ForeignKey("balance.id"), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("document_type", sa.String(30), nullable=False),
    sa.Column("document_id", sa.BigInteger, nullable=True),
    sa.Column("document_line_id", sa.BigInteger, nullable=True),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("quantity_posted", Qty, nullable=False, server_default="0"),
    sa.Column("quantity_released", Qty, nullable=False, server_default="0"),
    sa.Column("state", sa.String(10), nullable=False, server_default="open"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.CheckConstraint(
        "quantity > 0 AND quantity_posted >= 0 AND quantity_released >= 0 "
        "AND quantity_posted + quantity_released <= quantity",
        name="resolves_once",
    ),
)
sa.Index("ix_allocation_line", allocation.c.document_line_id)
sa.Index("ix_allocation_balance_open", allocation.c.balance_id, allocation.c.state)

sales_order = sa.Table(
    "sales_order",
    metadata,
    _id(),
    sa.Column("number", sa.String(40), nullable=True, unique=True),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("customer_id", Id, sa.ForeignKey("customer.id"), nullable=False),
    sa.Column("requested_date", sa.Date, nullable=True),
    sa.Column("promised_date", sa.Date, nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    sa.Column("route_id", sa.BigInteger, nullable=True),
    sa.Column("channel", sa.String(20), nullable=False, server_default="field_sales"),
    sa.Column("priority", sa.Integer, nullable=True),
    sa.Column("shipped_at", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    _version(),
)
sa.Index("ix_sales_order_site", sales_order.c.site_id, sales_order.c.id)

sales_order_line = sa.Table(
    "sales_order_line",
    metadata,
    _id(),
    sa.Column("order_id", Id, sa.ForeignKey("sales_order.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("uom", sa.String(20), nullable=False),
    sa.Column("quantity_entered", sa.String(40), nullable=False),
    sa.Column("quantity_allocated", Qty, nullable=False, server_default="0"),
    sa.Column("quantity_picked", Qty, nullable=False, server_default="0"),
    sa.Column("quantity_shipped", Qty, nullable=False, server_default="0"),
    sa.Column("short_cause", sa.String(40), nullable=True),
    sa.UniqueConstraint("order_id", "line_no", name="uq_sales_order_line_no"),
    sa.CheckConstraint(
        "quantity > 0 AND quantity_allocated >= 0 AND quantity_picked >= 0 "
        "AND quantity_allocated + quantity_picked <= quantity",
        name="quantities",
    ),
)

demand_history = sa.Table(
    "demand_history",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("customer_id", Id, sa.ForeignKey("customer.id"), nullable=True),
    sa.Column("requested_date", sa.Date, nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("quantity_fulfilled", Qty, nullable=True),
    sa.Column("source", sa.String(20), nullable=False, server_default="import"),
)
sa.Index("ix_demand_history_item_site", demand_history.c.item_id, demand_history.c.site_id)

receipt_history = sa.Table(
    "receipt_history",
    metadata,
    _id(),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("supplier_id", Id, sa.ForeignKey("supplier.id"), nullable=False),
    sa.Column("order_date", sa.Date, nullable=False),
    sa.Column("receipt_date", sa.Date, nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("source", sa.String(20), nullable=False, server_default="import"),
)
sa.Index("ix_receipt_history_item_site", receipt_history.c.item_id, receipt_history.c.site_id)

# --- governance -------------------------------------------------------------------------------

app_user = sa.Table(
    "app_user",
    metadata,
    _id(),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("all_sites", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

user_site = sa.Table(
    "user_site",
    metadata,
    sa.Column("user_id", Id, sa.ForeignKey("app_user.id"), primary_key=True),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), primary_key=True),
)

api_token = sa.Table(
    "api_token",
    metadata,
    _id(),
    sa.Column("user_id", Id, sa.ForeignKey("app_user.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=True),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("entity_type", sa.String(40), nullable=False),
    sa.Column("entity_id", sa.String(80), nullable=True),
    sa.Column("site_id", sa.BigInteger, nullable=True),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("origin", sa.String(80), nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),
)
sa.Index("ix_audit_log_entity", audit_log.c.entity_type, audit_log.c.entity_id)

outbox = sa.Table(
    "outbox",
    metadata,
    _id(),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("topic", sa.String(80), nullable=False),
    sa.Column("aggregate_type", sa.String(40), nullable=False),
    sa.Column("aggregate_id", sa.String(80), nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("published_at", sa.DateTime, nullable=True),
    # The site the event concerns (webhook subscriptions may be bound to one).
    sa.Column("site_id", Id, nullable=True),
    # The events the webhook worker has not fanned out yet, in id order.
    sa.Index(
        "ix_outbox_unpublished",
        "id",
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    ),
)

idempotency_record = sa.Table(
    "idempotency_record",
    metadata,
    _id(),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("path", sa.String(400), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response_body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),
)


# The planning tables live in their own module; importing it registers them on ``metadata``.
from stockpilot.persistence import control_tables as _control_tables  # noqa: E402, F401
from stockpilot.persistence import kitting_tables as _kitting_tables  # noqa: E402, F401
from stockpilot.persistence import planning_tables as _planning_tables  # noqa: E402, F401
from stockpilot.persistence import valuation_tables as _valuation_tables  # noqa: E402, F401
from stockpilot.persistence import warehouse_tables as _warehouse_tables  # noqa: E402, F401
from stockpilot.persistence import web_tables as _web_tables  # noqa: E402, F401
from stockpilot.persistence import webhook_tables as _webhook_tables  # noqa: E402, F401
