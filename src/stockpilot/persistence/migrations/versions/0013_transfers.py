"""transfers, cross-dock, consignment, item family: transfer priority and counters, receipts of
transfers, discrepancies; cross-dock flags on items and customers; consumption of consigned
stock; the item family (and pilots scoped to one)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("transfer_order") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("shipped_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("transfer_order_line") as batch:
        batch.add_column(
            sa.Column("quantity_allocated", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("short_cause", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("transfer_price", sa.Numeric(18, 6), nullable=True))
    with op.batch_alter_table("receipt") as batch:
        batch.add_column(sa.Column("transfer_order_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "transfer_discrepancy",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("line_id", _ID, nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False, server_default="open"),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["transfer_order.id"],
            name=op.f("fk_transfer_discrepancy_order_id_transfer_order"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["transfer_order_line.id"],
            name=op.f("fk_transfer_discrepancy_line_id_transfer_order_line"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_discrepancy")),
        sa.CheckConstraint(
            "kind IN ('short','over','damaged')",
            name=op.f("ck_transfer_discrepancy_discrepancy_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('open','resolved')", name=op.f("ck_transfer_discrepancy_discrepancy_status")
        ),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_transfer_discrepancy_discrepancy_quantity")
        ),
    )
    op.create_index("ix_transfer_discrepancy_order", "transfer_discrepancy", ["order_id"])
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("family", sa.String(length=60), nullable=True))
        batch.create_index("ix_item_family", ["family"], unique=False)
    with op.batch_alter_table("planning_event") as batch:
        batch.add_column(sa.Column("family", sa.String(length=60), nullable=True))
    # A planning pilot may be scoped to an item family too.
    with op.batch_alter_table("planning_pilot") as batch:
        batch.drop_constraint(op.f("ck_planning_pilot_scope"), type_="check")
        batch.create_check_constraint(
            op.f("ck_planning_pilot_scope"), "scope_field IN ('demand_class','abc','family')"
        )
    for table in ("item", "customer"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("cross_dock", sa.Boolean(), nullable=False, server_default=sa.false())
            )
    op.create_table(
        "consignment_consumption",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("owner_id", _ID, nullable=False),
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("document_type", sa.String(length=30), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["company.id"], name=op.f("fk_consignment_consumption_owner_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_consignment_consumption_site_id_site")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_consignment_consumption_item_id_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consignment_consumption")),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_consignment_consumption_consumption_quantity")
        ),
    )
    op.create_index(
        "ix_consignment_consumption_owner",
        "consignment_consumption",
        ["owner_id", "consumed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_consignment_consumption_owner", table_name="consignment_consumption")
    op.drop_table("consignment_consumption")
    for table in ("customer", "item"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("cross_dock")
    with op.batch_alter_table("planning_pilot") as batch:
        batch.drop_constraint(op.f("ck_planning_pilot_scope"), type_="check")
        batch.create_check_constraint(
            op.f("ck_planning_pilot_scope"), "scope_field IN ('demand_class','abc')"
        )
    with op.batch_alter_table("planning_event") as batch:
        batch.drop_column("family")
    with op.batch_alter_table("item") as batch:
        batch.drop_index("ix_item_family")
        batch.drop_column("family")
    op.drop_index("ix_transfer_discrepancy_order", table_name="transfer_discrepancy")
    op.drop_table("transfer_discrepancy")
    with op.batch_alter_table("receipt") as batch:
        batch.drop_column("transfer_order_id")
    with op.batch_alter_table("transfer_order_line") as batch:
        batch.drop_column("transfer_price")
        batch.drop_column("short_cause")
        batch.drop_column("quantity_allocated")
    with op.batch_alter_table("transfer_order") as batch:
        batch.drop_column("closed_at")
        batch.drop_column("received_at")
        batch.drop_column("shipped_at")
        batch.drop_column("priority")
