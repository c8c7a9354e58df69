"""Transfers, cross-dock and consignment (migration 0013).

- Transfer execution: what a transfer order needs to compete for stock at its origin, travel
  through in-transit and arrive — its priority, allocation and ship/receive counters, the
  receipts that take it in at the destination, and the discrepancies found there.
- Cross-dock: whether an item, or a customer, lets inbound goods go from the dock straight to
  staging for a waiting order.
- Consignment: each unit of supplier-owned stock consumed (shipped to a customer), per owner,
  for the owner's invoice.
"""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.tables import Id, Money, Qty, _id, customer, item, metadata
from stockpilot.persistence.warehouse_tables import (
    receipt,
    transfer_order,
    transfer_order_line,
)

# Priority 1 (highest) … 5; None: the default of transfers (allocation_rules, 2).
transfer_order.append_column(sa.Column("priority", sa.Integer, nullable=True))
transfer_order.append_column(sa.Column("shipped_at", sa.DateTime, nullable=True))
transfer_order.append_column(sa.Column("received_at", sa.DateTime, nullable=True))
transfer_order.append_column(sa.Column("closed_at", sa.DateTime, nullable=True))
transfer_order_line.append_column(
    sa.Column("quantity_allocated", Qty, nullable=False, server_default="0")
)
transfer_order_line.append_column(sa.Column("short_cause", sa.String(40), nullable=True))
# Intercompany: the price the receiving company pays per base unit (exact decimal).
transfer_order_line.append_column(sa.Column("transfer_price", Money, nullable=True))
receipt.append_column(sa.Column("transfer_order_id", sa.BigInteger, nullable=True))

DISCREPANCY_KINDS = ("short", "over", "damaged")
DISCREPANCY_RESOLUTIONS = ("write_off", "accept", "found")

transfer_discrepancy = sa.Table(
    "transfer_discrepancy",
    metadata,
    _id(),
    sa.Column("order_id", Id, sa.ForeignKey("transfer_order.id"), nullable=False),
    sa.Column("line_id", Id, sa.ForeignKey("transfer_order_line.id"), nullable=False),
    sa.Column("receipt_id", sa.BigInteger, nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    sa.Column("resolution", sa.String(20), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("resolved_at", sa.DateTime, nullable=True),
    sa.Column("resolved_by", sa.BigInteger, nullable=True),
    sa.CheckConstraint("kind IN ('short','over','damaged')", name="discrepancy_kind"),
    sa.CheckConstraint("status IN ('open','resolved')", name="discrepancy_status"),
    sa.CheckConstraint("quantity > 0", name="discrepancy_quantity"),
)
sa.Index("ix_transfer_discrepancy_order", transfer_discrepancy.c.order_id)

# --- cross-dock -----------------------------------------------------------------------------------

item.append_column(sa.Column("cross_dock", sa.Boolean, nullable=False, server_default=sa.false()))
customer.append_column(
    sa.Column("cross_dock", sa.Boolean, nullable=False, server_default=sa.false())
)

# --- consignment ----------------------------------------------------------------------------------

consignment_consumption = sa.Table(
    "consignment_consumption",
    metadata,
    _id(),
    sa.Column("owner_id", Id, sa.ForeignKey("company.id"), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("lot_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quantity", Qty, nullable=False),
    sa.Column("document_type", sa.String(30), nullable=False),
    sa.Column("document_id", sa.BigInteger, nullable=False),
    sa.Column("consumed_at", sa.DateTime, nullable=False),
    sa.CheckConstraint("quantity > 0", name="consumption_quantity"),
)
sa.Index(
    "ix_consignment_consumption_owner",
    consignment_consumption.c.owner_id,
    consignment_consumption.c.consumed_at,
)
