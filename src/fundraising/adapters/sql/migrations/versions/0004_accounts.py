"""Accounts: verified addresses, revocation of every earlier token, deletion, refresh chains.

Existing users are migrated as verified (their addresses received mail before this rule).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column(
                "tokens_valid_after", DATETIME, nullable=True, comment="earlier tokens: revoked"
            )
        )
        batch.add_column(sa.Column("deleted_at", DATETIME, nullable=True))
    with op.batch_alter_table("users") as batch:  # the default was for existing rows only
        batch.alter_column("email_verified", existing_type=sa.Boolean(), server_default=None)
    op.create_table(
        "refresh_tokens",
        sa.Column("jti", sa.String(32), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column(
            "family",
            sa.String(32),
            nullable=False,
            comment="the chain of rotations of one login",
        ),
        sa.Column("issued_at", DATETIME, nullable=False),
        sa.Column("expires_at", DATETIME, nullable=False),
        sa.Column("used_at", DATETIME, nullable=True, comment="rotated: a second use revokes"),
        sa.Column("revoked_at", DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_refresh_tokens")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.create_index(batch.f("ix_refresh_tokens_family"), ["family"])
        batch.create_index(batch.f("ix_refresh_tokens_expires_at"), ["expires_at"])


def downgrade() -> None:
    op.drop_table("refresh_tokens")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("tokens_valid_after")
        batch.drop_column("email_verified")
