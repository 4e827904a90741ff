"""Cancelled collects: when the author cancelled one (its payments are refunded).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    with op.batch_alter_table("collects") as batch:
        batch.add_column(sa.Column("cancelled_at", DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collects") as batch:
        batch.drop_column("cancelled_at")
