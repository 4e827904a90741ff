"""Lifecycle e-mails: when each was sent for a collect (goal reached, ending soon, ended), so
that none is sent twice, whatever the number of workers.

Existing collects are marked as told of what already happened to them: the first sweep after
the upgrade mails nobody about the past.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
COLUMNS = ("goal_reached_mailed_at", "ending_soon_mailed_at", "ended_mailed_at")
collects = sa.table(
    "collects",
    sa.column("goal_kopecks", sa.BigInteger()),
    sa.column("collected_kopecks", sa.BigInteger()),
    sa.column("is_active", sa.Boolean()),
    sa.column("end_date", DATETIME),
    *(sa.column(name, DATETIME) for name in COLUMNS),
)


def upgrade() -> None:
    with op.batch_alter_table("collects") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, DATETIME, nullable=True))
    now = datetime.now(UTC).replace(tzinfo=None)
    c = collects.c
    reached = sa.and_(c.goal_kopecks.is_not(None), c.collected_kopecks >= c.goal_kopecks)
    op.execute(collects.update().where(reached).values(goal_reached_mailed_at=now))
    soon = sa.and_(c.end_date.is_not(None), c.end_date <= now + timedelta(hours=24))
    op.execute(collects.update().where(soon).values(ending_soon_mailed_at=now))
    over = sa.or_(c.is_active.is_(False), sa.and_(c.end_date.is_not(None), c.end_date <= now))
    op.execute(collects.update().where(over).values(ended_mailed_at=now))


def downgrade() -> None:
    with op.batch_alter_table("collects") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
