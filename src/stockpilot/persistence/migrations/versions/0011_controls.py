"""controls: site control policy, cycle counts, adjustments with approval, returns (RMA)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adjustment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), server_default="api", nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending','posted','rejected')",
            name=op.f("ck_adjustment_adjustment_status"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_adjustment_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustment")),
    )
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.create_index("ix_adjustment_site", ["site_id", "status"], unique=False)

    op.create_table(
        "control_policy",
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count_days_a", sa.Integer(), server_default="30", nullable=False),
        sa.Column("count_days_b", sa.Integer(), server_default="90", nullable=False),
        sa.Column("count_days_c", sa.Integer(), server_default="365", nullable=False),
        sa.Column("not_counted_days", sa.Integer(), nullable=True),
        sa.Column("value_threshold", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("recount_quantity", sa.BigInteger(), nullable=True),
        sa.Column("recount_value", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("approval_quantity", sa.BigInteger(), nullable=True),
        sa.Column("approval_value", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("adjustment_quantity", sa.BigInteger(), nullable=True),
        sa.Column("adjustment_value", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_control_policy_site_id_site")
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_control_policy")),
    )
    op.create_table(
        "stock_count",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("source", sa.String(length=20), server_default="manual", nullable=False),
        sa.Column("blind", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open','counted','closed','cancelled')",
            name=op.f("ck_stock_count_count_status"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_stock_count_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_count")),
    )
    with op.batch_alter_table("stock_count", schema=None) as batch_op:
        batch_op.create_index("ix_stock_count_site", ["site_id", "status"], unique=False)

    op.create_table(
        "count_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lot_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("stock_status", sa.String(length=20), server_default="available", nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=True),
        sa.Column("quantity_expected", sa.BigInteger(), nullable=True),
        sa.Column("quantity_counted", sa.BigInteger(), nullable=True),
        sa.Column("counted_by", sa.BigInteger(), nullable=True),
        sa.Column("counted_at", sa.DateTime(), nullable=True),
        sa.Column("quantity_recount_expected", sa.BigInteger(), nullable=True),
        sa.Column("quantity_recounted", sa.BigInteger(), nullable=True),
        sa.Column("recounted_by", sa.BigInteger(), nullable=True),
        sa.Column("recounted_at", sa.DateTime(), nullable=True),
        sa.Column("quantity_variance", sa.BigInteger(), nullable=True),
        sa.Column("variance_value", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("approved_by", sa.BigInteger(), nullable=True),
        sa.Column("adjustment_id", sa.BigInteger(), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('open','recount','review','accepted','posted','cancelled')",
            name=op.f("ck_count_line_count_line_state"),
        ),
        sa.ForeignKeyConstraint(
            ["count_id"], ["stock_count.id"], name=op.f("fk_count_line_count_id_stock_count")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_line")),
    )
    with op.batch_alter_table("count_line", schema=None) as batch_op:
        batch_op.create_index("ix_count_line_count", ["count_id", "line_no"], unique=False)
        batch_op.create_index("ix_count_line_key", ["location_id", "item_id"], unique=False)

    op.create_table(
        "return_order",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sales_order_id", sa.BigInteger(), nullable=True),
        sa.Column("shipment_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="authorised", nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('authorised','received','closed','cancelled')",
            name=op.f("ck_return_order_return_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_return_order_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_return_order_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_return_order_site_id_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_order")),
    )
    with op.batch_alter_table("return_order", schema=None) as batch_op:
        batch_op.create_index("ix_return_order_customer", ["customer_id"], unique=False)

    op.create_table(
        "return_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "return_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=True),
        sa.Column("quantity_received", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("disposed_as", sa.String(length=20), nullable=True),
        sa.Column("disposed_location_id", sa.BigInteger(), nullable=True),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("disposed_by", sa.BigInteger(), nullable=True),
        sa.Column("disposed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_line_return_line_quantity")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_return_line_item_id_item")),
        sa.ForeignKeyConstraint(
            ["return_id"], ["return_order.id"], name=op.f("fk_return_line_return_id_return_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_line")),
    )
    with op.batch_alter_table("return_line", schema=None) as batch_op:
        batch_op.create_index("ix_return_line_return", ["return_id"], unique=False)

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_for_user", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("not_for_user")

    with op.batch_alter_table("return_line", schema=None) as batch_op:
        batch_op.drop_index("ix_return_line_return")

    op.drop_table("return_line")
    with op.batch_alter_table("return_order", schema=None) as batch_op:
        batch_op.drop_index("ix_return_order_customer")

    op.drop_table("return_order")
    with op.batch_alter_table("count_line", schema=None) as batch_op:
        batch_op.drop_index("ix_count_line_key")
        batch_op.drop_index("ix_count_line_count")

    op.drop_table("count_line")
    with op.batch_alter_table("stock_count", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_count_site")

    op.drop_table("stock_count")
    op.drop_table("control_policy")
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.drop_index("ix_adjustment_site")

    op.drop_table("adjustment")
