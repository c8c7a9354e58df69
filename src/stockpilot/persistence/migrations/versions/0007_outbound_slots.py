"""outbound: a batch cart's sort-to-order slot per waved order; demand rows know their order line

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wave_order") as batch:
        batch.add_column(sa.Column("pick_list", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("slot", sa.Integer(), nullable=True))
    with op.batch_alter_table("demand_history") as batch:
        batch.add_column(sa.Column("order_line_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demand_history") as batch:
        batch.drop_column("channel")
        batch.drop_column("order_line_id")
    with op.batch_alter_table("wave_order") as batch:
        batch.drop_column("slot")
        batch.drop_column("pick_list")
