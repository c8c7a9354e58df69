"""webhooks (subscriptions, deliveries with leases, attempts; the outbox's site and unpublished
index) and kitting (kits, components, assembly and disassembly orders)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("site_id", Id, nullable=True))
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "webhook_subscription",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("site_id", Id, nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("from_outbox_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_webhook_subscription_site_id_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("subscription_id", Id, nullable=False),
        sa.Column("outbox_id", Id, nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("aggregate", sa.String(length=130), nullable=False),
        sa.Column("state", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending','delivered','failed')", name=op.f("ck_webhook_delivery_state")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_webhook_delivery_outbox_id_outbox")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_delivery_subscription_id_webhook_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint("subscription_id", "outbox_id", name="uq_webhook_delivery_event"),
    )
    op.create_index("ix_webhook_delivery_state_outbox", "webhook_delivery", ["state", "outbox_id"])
    op.create_index(
        "ix_webhook_delivery_aggregate",
        "webhook_delivery",
        ["subscription_id", "aggregate", "outbox_id"],
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("delivery_id", Id, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index(op.f("ix_webhook_attempt_delivery_id"), "webhook_attempt", ["delivery_id"])
    op.create_table(
        "kit",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_kit_item_id_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kit")),
        sa.UniqueConstraint("item_id", name=op.f("uq_kit_item_id")),
    )
    op.create_table(
        "kit_component",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kit_id", Id, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_kit_component_quantity")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_kit_component_item_id_item")
        ),
        sa.ForeignKeyConstraint(["kit_id"], ["kit.id"], name=op.f("fk_kit_component_kit_id_kit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kit_component")),
        sa.UniqueConstraint("kit_id", "item_id", name="uq_kit_component_item"),
    )
    op.create_table(
        "kit_order",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kit_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("site_id", Id, nullable=False),
        sa.Column("location_id", Id, nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("sales_order_id", Id, nullable=True),
        sa.Column("state", sa.String(length=12), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("done_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_kit_order_quantity")),
        sa.CheckConstraint("kind IN ('assemble','disassemble')", name=op.f("ck_kit_order_kind")),
        sa.CheckConstraint("state IN ('open','done','cancelled')", name=op.f("ck_kit_order_state")),
        sa.ForeignKeyConstraint(["kit_id"], ["kit.id"], name=op.f("fk_kit_order_kit_id_kit")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_kit_order_location_id_location")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_kit_order_site_id_site")),
        sa.ForeignKeyConstraint(
            ["sales_order_id"],
            ["sales_order.id"],
            name=op.f("fk_kit_order_sales_order_id_sales_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kit_order")),
    )


def downgrade() -> None:
    op.drop_table("kit_order")
    op.drop_table("kit_component")
    op.drop_table("kit")
    op.drop_index(op.f("ix_webhook_attempt_delivery_id"), table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index("ix_webhook_delivery_aggregate", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_state_outbox", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("site_id")
