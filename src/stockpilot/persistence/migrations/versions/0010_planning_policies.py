"""planning: segment-policy type per item-location override, events, supplier order terms, pilots

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("policy_override") as batch:
        batch.add_column(sa.Column("policy_type", sa.String(length=20), nullable=True))
    with op.batch_alter_table("item_location_policy") as batch:
        batch.add_column(sa.Column("policy_type", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("policy_reason", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("excess_flag", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("event_uplift", sa.Float(), nullable=True))
        batch.add_column(sa.Column("in_pilot", sa.Boolean(), nullable=True))
    op.create_table(
        "planning_event",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("item_id", Id, nullable=True),
        sa.Column("site_id", Id, nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("uplift_pct", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_planning_event_window")),
        sa.CheckConstraint("uplift_pct > -100", name=op.f("ck_planning_event_uplift")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_planning_event_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_planning_event_site_id_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_event")),
    )
    op.create_index("ix_planning_event_end", "planning_event", ["end_date"], unique=False)
    op.create_table(
        "supplier_order_terms",
        sa.Column("supplier_id", Id, nullable=False),
        sa.Column("min_order_value", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("free_freight_value", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(min_order_value IS NULL OR min_order_value >= 0)"
            " AND (free_freight_value IS NULL OR free_freight_value >= 0)",
            name=op.f("ck_supplier_order_terms_values"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
            name=op.f("fk_supplier_order_terms_supplier_id_supplier"),
        ),
        sa.PrimaryKeyConstraint("supplier_id", name=op.f("pk_supplier_order_terms")),
    )
    op.create_table(
        "planning_pilot",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("scope_field", sa.String(length=20), nullable=False),
        sa.Column("scope_value", sa.String(length=40), nullable=False),
        sa.Column("service_level", sa.Float(), nullable=True),
        sa.Column("segment_policies", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "scope_field IN ('demand_class','abc')", name=op.f("ck_planning_pilot_scope")
        ),
        sa.CheckConstraint("status IN ('active','ended')", name=op.f("ck_planning_pilot_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_pilot")),
    )


def downgrade() -> None:
    op.drop_table("planning_pilot")
    op.drop_table("supplier_order_terms")
    op.drop_index("ix_planning_event_end", table_name="planning_event")
    op.drop_table("planning_event")
    with op.batch_alter_table("item_location_policy") as batch:
        for column in ("in_pilot", "event_uplift", "excess_flag", "policy_reason", "policy_type"):
            batch.drop_column(column)
    with op.batch_alter_table("policy_override") as batch:
        batch.drop_column("policy_type")
