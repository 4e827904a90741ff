"""Initial schema: users, collects, payments and the task outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 17:14:14.574804
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("relayed_at", DATETIME, nullable=True),
        sa.Column("claimed_until", DATETIME, nullable=True),
        sa.Column("finished_at", DATETIME, nullable=True),
        sa.Column("dead_at", DATETIME, nullable=True, comment="retries exhausted"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_finished_at_created_at"),
            ["finished_at", "created_at"],
            unique=False,
        )

    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "username",
            sa.String(length=150).with_variant(
                mysql.VARCHAR(collation="utf8mb4_bin", length=150), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("email", sa.String(length=254), nullable=False, comment="stored lower-cased"),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("first_name", sa.String(length=150), nullable=False),
        sa.Column("last_name", sa.String(length=150), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("date_joined", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "collects",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("occasion", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("goal_kopecks", sa.BigInteger(), nullable=True, comment="null: open-ended"),
        sa.Column("collected_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("donations_count", sa.BigInteger(), nullable=False),
        sa.Column("donors_count", sa.BigInteger(), nullable=False),
        sa.Column("start_date", DATETIME, nullable=False),
        sa.Column("end_date", DATETIME, nullable=True, comment="exclusive"),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("cover_status", sa.String(length=16), nullable=False),
        sa.Column("cover_image", sa.String(length=255), nullable=True),
        sa.Column("cover_source", sa.String(length=255), nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("updated_at", DATETIME, nullable=False),
        sa.CheckConstraint(
            "cover_status IN ('none', 'processing', 'ready', 'failed')",
            name=op.f("ck_collects_cover_status"),
        ),
        sa.CheckConstraint(
            "occasion IN ('birthday', 'wedding', 'new_year', 'other')",
            name=op.f("ck_collects_occasion"),
        ),
        sa.CheckConstraint(
            "collected_kopecks >= 0 AND donations_count >= 0", name=op.f("ck_collects_counters")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_collects_author_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collects")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("collects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collects_author_id_created_at"),
            ["author_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_collects_collected_kopecks_id"),
            ["collected_kopecks", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_collects_created_at_id"), ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_collects_end_date_id"), ["end_date", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_collects_is_active_created_at"),
            ["is_active", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_collects_occasion_created_at"), ["occasion", "created_at"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "collect_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("payer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "transaction_id",
            sa.String(length=255).with_variant(
                mysql.VARCHAR(collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("payment_date", DATETIME, nullable=False),
        sa.Column("is_anonymous", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'completed', 'failed')", name=op.f("ck_payments_status")
        ),
        sa.CheckConstraint("amount_kopecks > 0", name=op.f("ck_payments_amount")),
        sa.ForeignKeyConstraint(
            ["collect_id"],
            ["collects.id"],
            name=op.f("fk_payments_collect_id_collects"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["users.id"], name=op.f("fk_payments_payer_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_payments_transaction_id")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_collect_id_payer_id_status"),
            ["collect_id", "payer_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_payments_collect_id_status_payment_date_id"),
            ["collect_id", "status", "payment_date", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_payments_payer_id_payment_date_id"),
            ["payer_id", "payment_date", "id"],
            unique=False,
        )


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MySQL (error 1553) for the
    # indexes that back a foreign key.
    op.drop_table("payments")
    op.drop_table("collects")
    op.drop_table("users")
    op.drop_table("outbox")
