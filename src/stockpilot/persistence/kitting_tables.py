"""Tables of kitting: a kit's bill of material and the orders that assemble or disassemble it.

A kit is an item of its own (its SKU is sold and stocked like any other); its bill of material
names the components and how many base units of each make one kit. An order posts its moves
through the site's ``@KITTING`` location: components in, kits out (assembly) or back again
(disassembly).
"""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.tables import Id, Qty, metadata

KIT_ORDER_KINDS = ("assemble", "disassemble")
KIT_ORDER_STATES = ("open", "done", "cancelled")

kit = sa.Table(
    "kit",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False, unique=True),
    sa.Column("description", sa.String(200), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)

kit_component = sa.Table(
    "kit_component",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("kit_id", Id, sa.ForeignKey("kit.id"), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    sa.UniqueConstraint("kit_id", "item_id", name="uq_kit_component_item"),
    sa.CheckConstraint("quantity > 0", name="quantity"),
)

kit_order = sa.Table(
    "kit_order",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("kit_id", Id, sa.ForeignKey("kit.id"), nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("site_id", Id, sa.ForeignKey("site.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("location.id"), nullable=False),
    sa.Column("quantity", Qty, nullable=False),
    # Assemble to order: the sales order the kits are made for (its components are reserved).
    sa.Column("sales_order_id", Id, sa.ForeignKey("sales_order.id"), nullable=True),
    sa.Column("state", sa.String(12), nullable=False, server_default="open"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("done_at", sa.DateTime, nullable=True),
    sa.Column("done_by", sa.BigInteger, nullable=True),
    sa.CheckConstraint("quantity > 0", name="quantity"),
    sa.CheckConstraint("kind IN ('assemble','disassemble')", name="kind"),
    sa.CheckConstraint("state IN ('open','done','cancelled')", name="state"),
)
