"""balances stay inside a bounded range: no sum of them can leave the 64-bit integer range

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_RANGE = (
    "quantity_on_hand BETWEEN -1000000000000000000 AND 1000000000000000000 "
    "AND quantity_allocated <= 1000000000000000000"
)


def upgrade() -> None:
    with op.batch_alter_table("balance") as batch:
        batch.create_check_constraint("balance_in_range", _RANGE)


def downgrade() -> None:
    with op.batch_alter_table("balance") as batch:
        batch.drop_constraint("balance_in_range", type_="check")
