"""Tables of the inventory controls: the control policy of each site, cycle counts and their
lines, adjustments (requested, approved or rejected, posted) and returns (RMAs) with their
lines (migration 0011).

A count line keeps the whole story of one stock key's count: the quantity the ledger held
when the bin was counted (``quantity_expected``, snapshotted in the counting transaction), what
the counter found, the recount by another operator, the variance and its value, who approved
it and the adjustment it posted as — count accuracy per site and operator is read from here.
"""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.tables import Id, Money, Qty, metadata
from stockpilot.persistence.warehouse_tables import task


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer, nullable=False, server_default="1")


control_policy = sa.Table(
    "control_policy",
    metadata,
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), primary_key=True),
    # Count frequency by ABC class, in days (A monthly, B quarterly, C yearly by default).
    sa.Column("count_days_a", sa.Integer, nullable=False, server_default="30"),
    sa.Column("count_days_b", sa.Integer, nullable=False, server_default="90"),
    sa.Column("count_days_c", sa.Integer, nullable=False, server_default="365"),
    # Exceptions that put a bin in a count program: not counted for N days, on-hand value over.
    sa.Column("not_counted_days", sa.Integer, nullable=True),
    sa.Column("value_threshold", Money, nullable=True),
    # A variance beyond the recount tolerance is recounted by another operator (null: never).
    sa.Column("recount_quantity", Qty, nullable=True),
    sa.Column("recount_value", Money, nullable=True),
    # A variance beyond the approval tolerance waits for a supervisor (null: that measure
    # never asks; both 0 by default: every variance is approved).
    sa.Column("approval_quantity", Qty, nullable=True),
    sa.Column("approval_value", Money, nullable=True),
    # An adjustment beyond these waits for approval (null: that measure never asks).
    sa.Column("adjustment_quantity", Qty, nullable=True),
    sa.Column("adjustment_value", Money, nullable=True),
    _version(),
)

stock_count = sa.Table(
    "stock_count",
    metadata,
    _id(),
    _version(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    sa.Column("source", sa.String(20), nullable=False, server_default="manual"),
    sa.Column("blind", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.CheckConstraint("status IN ('open','counted','closed','cancelled')", name="count_status"),
)
sa.Index("ix_stock_count_site", stock_count.c.site_id, stock_count.c.status)

count_line = sa.Table(
    "count_line",
    metadata,
    _id(),
    sa.Column("count_id", Id, sa.ForeignKey("stock_count.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    # The key of a balance row (which holds the foreign keys): a program writes tens of
    # thousands of lines at once, and each foreign key would be checked row by row.
    sa.Column("item_id", Id, nullable=False),
    sa.Column("location_id", Id, nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("stock_status", sa.String(20), nullable=False, server_default="available"),
    sa.Column("owner_id", Id, nullable=False),
    sa.Column("state", sa.String(20), nullable=False, server_default="open"),
    sa.Column("trigger", sa.String(20), nullable=True),
    sa.Column("quantity_expected", Qty, nullable=True),
    sa.Column("quantity_counted", Qty, nullable=True),
    sa.Column("counted_by", sa.BigInteger, nullable=True),
    sa.Column("counted_at", sa.DateTime, nullable=True),
    sa.Column("quantity_recount_expected", Qty, nullable=True),
    sa.Column("quantity_recounted", Qty, nullable=True),
    sa.Column("recounted_by", sa.BigInteger, nullable=True),
    sa.Column("recounted_at", sa.DateTime, nullable=True),
    sa.Column("quantity_variance", Qty, nullable=True),
    sa.Column("variance_value", Money, nullable=True),
    sa.Column("unit_cost", Money, nullable=True),
    sa.Column("approved_by", sa.BigInteger, nullable=True),
    sa.Column("adjustment_id", sa.BigInteger, nullable=True),
    sa.Column("posted_at", sa.DateTime, nullable=True),
    sa.CheckConstraint(
        "state IN ('open','recount','review','accepted','posted','cancelled')",
        name="count_line_state",
    ),
)
sa.Index("ix_count_line_count", count_line.c.count_id, count_line.c.line_no)
sa.Index("ix_count_line_key", count_line.c.location_id, count_line.c.item_id)

adjustment = sa.Table(
    "adjustment",
    metadata,
    _id(),
    _version(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason_code", sa.String(40), nullable=False),
    sa.Column("source", sa.String(20), nullable=False, server_default="api"),
    sa.Column("source_id", sa.BigInteger, nullable=True),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("value", Money, nullable=True),
    sa.Column("lines", sa.JSON, nullable=False),
    sa.Column("requested_by", sa.BigInteger, nullable=True),
    sa.Column("requested_at", sa.DateTime, nullable=False),
    sa.Column("decided_by", sa.BigInteger, nullable=True),
    sa.Column("decided_at", sa.DateTime, nullable=True),
    sa.Column("note", sa.String(200), nullable=True),
    sa.CheckConstraint("status IN ('pending','posted','rejected')", name="adjustment_status"),
)
sa.Index("ix_adjustment_site", adjustment.c.site_id, adjustment.c.status)

return_order = sa.Table(
    "return_order",
    metadata,
    _id(),
    _version(),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("customer_id", Id, sa.ForeignKey("customer.id"), nullable=False),
    sa.Column("sales_order_id", sa.BigInteger, nullable=True),
    sa.Column("shipment_id", sa.BigInteger, nullable=True),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="authorised"),
    sa.Column("receipt_id", sa.BigInteger, nullable=True),
    sa.Column("location_id", Id, sa.ForeignKey("location.id"), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("received_at", sa.DateTime, nullable=True),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.CheckConstraint(
        "status IN ('authorised','received','closed','cancelled')", name="return_status"
    ),
)
sa.Index("ix_return_order_customer", return_order.c.customer_id)

return_line = sa.Table(
    "return_line",
    metadata,
    _id(),
    sa.Column("return_id", Id, sa.ForeignKey("return_order.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("disposition", sa.String(20), nullable=True),
    sa.Column("quantity_received", Qty, nullable=False, server_default="0"),
    sa.Column("disposed_as", sa.String(20), nullable=True),
    sa.Column("disposed_location_id", sa.BigInteger, nullable=True),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("disposed_by", sa.BigInteger, nullable=True),
    sa.Column("disposed_at", sa.DateTime, nullable=True),
    sa.CheckConstraint("quantity > 0", name="return_line_quantity"),
)
sa.Index("ix_return_line_return", return_line.c.return_id)

# A recount goes to another operator than the first counter: the queue never hands it to them.
task.append_column(sa.Column("not_for_user", sa.BigInteger, nullable=True))
