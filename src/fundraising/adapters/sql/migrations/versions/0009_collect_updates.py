"""Updates: news those who run a collect post to its participants.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "collect_updates",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("collect_id", ID, nullable=False),
        sa.Column("writer_id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["collect_id"],
            ["collects.id"],
            name=op.f("fk_collect_updates_collect_id_collects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["writer_id"],
            ["users.id"],
            name=op.f("fk_collect_updates_writer_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collect_updates")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("collect_updates") as batch:
        batch.create_index(
            batch.f("ix_collect_updates_collect_id_created_at_id"),
            ["collect_id", "created_at", "id"],
        )
        batch.create_index(batch.f("ix_collect_updates_writer_id"), ["writer_id"])


def downgrade() -> None:
    op.drop_table("collect_updates")
