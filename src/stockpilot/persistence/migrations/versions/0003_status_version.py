"""stock statuses are edited with ETag / If-Match: a version column

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stock_status") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("stock_status") as batch:
        batch.drop_column("version")
