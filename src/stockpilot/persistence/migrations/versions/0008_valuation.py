"""valuation: cost methods on items, a value on every move, cost layers, value balances per
item and valuation area, and the value ledger

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _pk() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("company") as batch:
        batch.add_column(
            sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False)
        )
    with op.batch_alter_table("item") as batch:
        batch.add_column(
            sa.Column("cost_method", sa.String(length=10), server_default="fifo", nullable=False)
        )
        batch.add_column(
            sa.Column("standard_cost", sa.Numeric(precision=18, scale=6), nullable=True)
        )
        batch.create_check_constraint(
            op.f("ck_item_cost_method"), "cost_method IN ('fifo', 'average', 'standard')"
        )
    op.add_column("move", sa.Column("value", sa.BigInteger(), nullable=True))
    op.create_table(
        "valuation_balance",
        _pk(),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("transit_location_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cost_method", sa.String(length=10), nullable=False),
        sa.Column("quantity", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("value", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "quantity >= 0 AND value >= 0", name=op.f("ck_valuation_balance_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_valuation_balance_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_valuation_balance_site_id_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_valuation_balance")),
        sa.UniqueConstraint(
            "item_id", "site_id", "transit_location_id", name="uq_valuation_balance_area"
        ),
    )
    op.create_table(
        "cost_layer",
        _pk(),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("transit_location_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("lot_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("quantity_received", sa.BigInteger(), nullable=False),
        sa.Column("quantity_remaining", sa.BigInteger(), nullable=False),
        sa.Column("value_received", sa.BigInteger(), nullable=False),
        sa.Column("value_remaining", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("document_type", sa.String(length=30), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=True),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "quantity_received > 0 AND quantity_remaining >= 0 "
            "AND quantity_remaining <= quantity_received AND value_remaining >= 0",
            name=op.f("ck_cost_layer_remaining"),
        ),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_cost_layer_item_id_item")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_cost_layer_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_layer")),
    )
    op.create_index("ix_cost_layer_area", "cost_layer", ["item_id", "site_id"], unique=False)
    op.create_table(
        "valuation_entry",
        _pk(),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("transit_location_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("document_type", sa.String(length=30), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=True),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("price_variance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("effective_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_valuation_entry_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_valuation_entry_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_valuation_entry_site_id_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_valuation_entry")),
    )
    op.create_index(
        "ix_valuation_entry_area",
        "valuation_entry",
        ["site_id", "item_id", "effective_at"],
        unique=False,
    )
    op.create_table(
        "revaluation",
        _pk(),
        sa.Column("site_id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("value_change", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column("approved_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'posted')", name=op.f("ck_revaluation_status")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_revaluation_item_id_item")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_revaluation_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revaluation")),
    )


def downgrade() -> None:
    op.drop_table("revaluation")
    op.drop_index("ix_valuation_entry_area", table_name="valuation_entry")
    op.drop_table("valuation_entry")
    op.drop_index("ix_cost_layer_area", table_name="cost_layer")
    op.drop_table("cost_layer")
    op.drop_table("valuation_balance")
    op.drop_column("move", "value")
    with op.batch_alter_table("item") as batch:
        batch.drop_constraint("ck_item_cost_method", type_="check")
        batch.drop_column("standard_cost")
        batch.drop_column("cost_method")
    with op.batch_alter_table("company") as batch:
        batch.drop_column("currency")
