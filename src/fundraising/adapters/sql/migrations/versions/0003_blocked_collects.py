"""Collects an administrator blocked: when, and why.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    with op.batch_alter_table("collects") as batch:
        batch.add_column(
            sa.Column("blocked_at", DATETIME, nullable=True, comment="blocked by an administrator")
        )
        batch.add_column(sa.Column("block_reason", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collects") as batch:
        batch.drop_column("block_reason")
        batch.drop_column("blocked_at")
