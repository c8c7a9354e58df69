"""Tables of the warehouse documents: purchase orders, ASNs and receipts (inbound); routes,
waves and shipments (outbound); transfer orders; the task queue and pick faces.

Every timestamp a KPI needs is a column here: a receipt's arrival and each line's
stock-available time (dock-to-stock), a task's creation, start and confirmation (pick
productivity), a shipment's time against its order's promised date (on-time shipment).
"""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.tables import Id, Money, Qty, demand_history, metadata


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer, nullable=False, server_default="1")


# --- inbound ------------------------------------------------------------------------------------

PO_STATES = ("draft", "confirmed", "partially_received", "received", "closed", "cancelled")
PO_OPEN_STATES = ("draft", "confirmed", "partially_received")
"""Purchase orders whose open quantity is on order (planning's on-order)."""
PO_RECEIVING_STATES = ("confirmed", "partially_received")
"""Purchase orders the supplier is delivering (ATP's scheduled receipts)."""

purchase_order = sa.Table(
    "purchase_order",
    metadata,
    _id(),
    sa.Column("number", sa.String(40), nullable=True, unique=True),
    sa.Column("supplier_id", Id, sa.ForeignKey("supplier.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
    sa.Column("order_date", sa.Date, nullable=True),
    sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("confirmed_at", sa.DateTime, nullable=True),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    _version(),
)
sa.Index("ix_purchase_order_site_status", purchase_order.c.site_id, purchase_order.c.status)

purchase_order_line = sa.Table(
    "purchase_order_line",
    metadata,
    _id(),
    sa.Column("order_id", Id, sa.ForeignKey("purchase_order.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("quantity_received", Qty, nullable=False, server_default="0"),
    sa.Column("unit_cost", Money, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("proposal_id", sa.BigInteger, nullable=True),
    sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
    # Units a supervisor allowed beyond the supplier's tolerance, and who (never the receiver).
    sa.Column("over_receipt_allowed", Qty, nullable=False, server_default="0"),
    sa.Column("over_receipt_approved_by", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("order_id", "line_no", name="uq_purchase_order_line_no"),
    sa.CheckConstraint("quantity > 0 AND quantity_received >= 0", name="quantities"),
)
sa.Index("ix_purchase_order_line_order", purchase_order_line.c.order_id)

asn = sa.Table(
    "asn",
    metadata,
    _id(),
    sa.Column("number", sa.String(40), nullable=False),
    sa.Column("supplier_id", Id, sa.ForeignKey("supplier.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    sa.Column("ship_date", sa.Date, nullable=True),
    sa.Column("expected_date", sa.Date, nullable=True),
    sa.Column("source", sa.String(20), nullable=False, server_default="api"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("supplier_id", "number", name="uq_asn_supplier_number"),
)

asn_line = sa.Table(
    "asn_line",
    metadata,
    _id(),
    sa.Column("asn_id", Id, sa.ForeignKey("asn.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("purchase_order_line_id", Id, sa.ForeignKey("purchase_order_line.id"), nullable=True),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("quantity_received", Qty, nullable=False, server_default="0"),
    sa.Column("lot_code", sa.String(60), nullable=True),
    sa.Column("expiry_date", sa.Date, nullable=True),
    sa.Column("serials", sa.JSON, nullable=True),
    sa.Column("sscc", sa.String(18), nullable=True),
    sa.UniqueConstraint("asn_id", "line_no", name="uq_asn_line_no"),
    sa.CheckConstraint("quantity > 0 AND quantity_received >= 0", name="quantities"),
)
sa.Index("ix_asn_line_sscc", asn_line.c.sscc)
sa.Index("ix_asn_line_asn", asn_line.c.asn_id)

receipt = sa.Table(
    "receipt",
    metadata,
    _id(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("purchase_order_id", Id, sa.ForeignKey("purchase_order.id"), nullable=True),
    sa.Column("asn_id", Id, sa.ForeignKey("asn.id"), nullable=True),
    sa.Column("supplier_id", Id, sa.ForeignKey("supplier.id"), nullable=True),
    sa.Column("dock_location_id", Id, sa.ForeignKey("location.id"), nullable=True),
    sa.Column("arrived_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("approved_by", sa.BigInteger, nullable=True),
)

receipt_line = sa.Table(
    "receipt_line",
    metadata,
    _id(),
    sa.Column("receipt_id", Id, sa.ForeignKey("receipt.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("purchase_order_line_id", Id, sa.ForeignKey("purchase_order_line.id"), nullable=True),
    sa.Column("asn_line_id", Id, sa.ForeignKey("asn_line.id"), nullable=True),
    sa.Column("sscc", sa.String(18), nullable=True),
    sa.Column("available_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("receipt_id", "line_no", name="uq_receipt_line_no"),
)
sa.Index("ix_receipt_line_receipt", receipt_line.c.receipt_id)

# --- transfers ----------------------------------------------------------------------------------

transfer_order = sa.Table(
    "transfer_order",
    metadata,
    _id(),
    sa.Column("number", sa.String(40), nullable=True, unique=True),
    sa.Column("from_site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("to_site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    _version(),
)

transfer_order_line = sa.Table(
    "transfer_order_line",
    metadata,
    _id(),
    sa.Column("order_id", Id, sa.ForeignKey("transfer_order.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("quantity_shipped", Qty, nullable=False, server_default="0"),
    sa.Column("quantity_received", Qty, nullable=False, server_default="0"),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("proposal_id", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("order_id", "line_no", name="uq_transfer_order_line_no"),
    sa.CheckConstraint("quantity > 0", name="quantities"),
)

# --- outbound -----------------------------------------------------------------------------------

route = sa.Table(
    "route",
    metadata,
    _id(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("cutoff_time", sa.String(5), nullable=True),  # "HH:MM", site local
    sa.UniqueConstraint("site_id", "code", name="uq_route_site_code"),
)

wave = sa.Table(
    "wave",
    metadata,
    _id(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="planned"),
    sa.Column("method", sa.String(20), nullable=False, server_default="discrete"),
    sa.Column("cart_size", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("released_at", sa.DateTime, nullable=True),
)

wave_order = sa.Table(
    "wave_order",
    metadata,
    sa.Column("wave_id", Id, sa.ForeignKey("wave.id"), primary_key=True),
    sa.Column("order_id", Id, sa.ForeignKey("sales_order.id"), primary_key=True),
    # Batch picking: the cart (pick list) the order rides on and its sort-to-order slot.
    sa.Column("pick_list", sa.Integer, nullable=True),
    sa.Column("slot", sa.Integer, nullable=True),
)
sa.Index("ix_wave_order_order", wave_order.c.order_id)

shipment = sa.Table(
    "shipment",
    metadata,
    _id(),
    sa.Column("order_id", Id, sa.ForeignKey("sales_order.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("shipped_at", sa.DateTime, nullable=False),
    sa.Column("shipped_by", sa.BigInteger, nullable=True),
    sa.Column("promised_date", sa.Date, nullable=True),
    sa.Column("on_time", sa.Boolean, nullable=True),
    sa.Column("cartons", sa.Integer, nullable=True),
)
sa.Index("ix_shipment_order", shipment.c.order_id)

shipment_line = sa.Table(
    "shipment_line",
    metadata,
    _id(),
    sa.Column("shipment_id", Id, sa.ForeignKey("shipment.id"), nullable=False),
    sa.Column("order_line_id", Id, sa.ForeignKey("sales_order_line.id"), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quantity", Qty, nullable=False),
)
sa.Index("ix_shipment_line_shipment", shipment_line.c.shipment_id)

item_substitute = sa.Table(
    "item_substitute",
    metadata,
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), primary_key=True),
    sa.Column("substitute_item_id", Id, sa.ForeignKey("item.id"), primary_key=True),
    sa.Column("rank", sa.Integer, nullable=False, server_default="1"),
)

item_gtin = sa.Table(
    "item_gtin",
    metadata,
    sa.Column("gtin", sa.String(14), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("uom", sa.String(20), nullable=True),
)

# --- tasks --------------------------------------------------------------------------------------

TASK_TYPES = ("putaway", "pick", "replenish", "count", "move")
TASK_STATES = ("open", "assigned", "done", "cancelled")

task = sa.Table(
    "task",
    metadata,
    _id(),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    sa.Column("priority", sa.Float, nullable=False, server_default="0"),
    sa.Column("priority_reasons", sa.JSON, nullable=True),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("stock_status", sa.String(20), nullable=False, server_default="available"),
    sa.Column("owner_id", Id, sa.ForeignKey("company.id"), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("from_location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("to_location_id", Id, sa.ForeignKey("location.id"), nullable=True),
    sa.Column("zone_id", Id, sa.ForeignKey("zone.id"), nullable=True),
    sa.Column("assigned_to", sa.BigInteger, nullable=True),
    sa.Column("document_type", sa.String(30), nullable=True),
    sa.Column("document_id", sa.BigInteger, nullable=True),
    sa.Column("document_line_id", sa.BigInteger, nullable=True),
    sa.Column("allocation_id", sa.BigInteger, nullable=True),
    sa.Column("wave_id", sa.BigInteger, nullable=True),
    sa.Column("pick_list", sa.Integer, nullable=True),
    sa.Column("sequence", sa.Integer, nullable=True),
    sa.Column("due_at", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=True),
    sa.Column("confirmed_at", sa.DateTime, nullable=True),
    sa.Column("confirmed_by", sa.BigInteger, nullable=True),
    sa.Column("confirmed_location_id", sa.BigInteger, nullable=True),
    sa.Column("confirmed_quantity", Qty, nullable=True),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("exception", sa.String(40), nullable=True),
    sa.CheckConstraint("type IN ('putaway','pick','replenish','count','move')", name="task_type"),
    sa.CheckConstraint("status IN ('open','assigned','done','cancelled')", name="task_status"),
    sa.CheckConstraint("quantity >= 0", name="task_quantity"),
)
# "Next task": the most urgent open task of a site, oldest first among equals — one index scan.
sa.Index("ix_task_queue", task.c.site_id, task.c.status, task.c.priority.desc(), task.c.id)
sa.Index("ix_task_document", task.c.document_type, task.c.document_id)
sa.Index("ix_task_assigned", task.c.assigned_to, task.c.status)

pick_face = sa.Table(
    "pick_face",
    metadata,
    _id(),
    sa.Column("location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("min_quantity", Qty, nullable=False),
    sa.Column("max_quantity", Qty, nullable=False),
    sa.UniqueConstraint("location_id", "item_id", name="uq_pick_face_location_item"),
    sa.CheckConstraint("min_quantity >= 0 AND max_quantity > min_quantity", name="min_max"),
)
sa.Index("ix_pick_face_item", pick_face.c.item_id)

# Live demand: each sales-order line writes one demand row when the order is created (source
# "order"), naming its line and the order's channel (migration 0007).
demand_history.append_column(sa.Column("order_line_id", sa.BigInteger, nullable=True))
demand_history.append_column(sa.Column("channel", sa.String(20), nullable=True))

# Transfer, cross-dock and consignment columns and tables (migration 0013) register on import.
from stockpilot.persistence import flow_tables as _flow_tables  # noqa: E402, F401
