"""Group gifts: who may see a collect (visibility, hidden users), its members, a share key.

Existing collects stay public and get a share key of their own; their authors become their
members, and so does everyone who completed a donation to them (a donor takes part).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SHARE_KEY_BYTES = 24

collects = sa.table(
    "collects",
    sa.column("id", ID),
    sa.column("author_id", ID),
    sa.column("created_at", DATETIME),
    sa.column("share_key", sa.String(64)),
)
payments = sa.table(
    "payments",
    sa.column("collect_id", ID),
    sa.column("payer_id", ID),
    sa.column("status", sa.String(16)),
    sa.column("payment_date", DATETIME),
)


def upgrade() -> None:
    with op.batch_alter_table("collects") as batch:
        batch.add_column(
            sa.Column("visibility", sa.String(16), nullable=False, server_default="public")
        )
        batch.add_column(
            sa.Column(
                "hidden_from",
                sa.Text(),
                nullable=False,
                server_default="[]",
                comment="user ids: the surprise guard",
            )
        )
        batch.add_column(
            sa.Column(
                "suggested_kopecks", sa.BigInteger(), nullable=True, comment="a share per person"
            )
        )
        batch.add_column(
            sa.Column(
                "share_key",
                sa.String(64),
                nullable=False,
                server_default="",
                comment="admits to a link collect",
            )
        )
    connection = op.get_bind()
    for (collect_id,) in connection.execute(sa.select(collects.c.id)):
        key = secrets.token_urlsafe(SHARE_KEY_BYTES)
        connection.execute(
            collects.update().where(collects.c.id == collect_id).values(share_key=key)
        )
    with op.batch_alter_table("collects") as batch:  # the defaults were for existing rows only
        batch.alter_column("visibility", existing_type=sa.String(16), server_default=None)
        batch.alter_column("hidden_from", existing_type=sa.Text(), server_default=None)
        batch.alter_column("share_key", existing_type=sa.String(64), server_default=None)
        batch.create_check_constraint(
            batch.f("ck_collects_visibility"), "visibility IN ('public', 'link', 'private')"
        )
    members = op.create_table(
        "collect_members",
        sa.Column("collect_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_at", DATETIME, nullable=False),
        sa.Column("last_reminded_at", DATETIME, nullable=True),
        sa.CheckConstraint(
            "role IN ('author', 'organiser', 'participant')",
            name=op.f("ck_collect_members_role"),
        ),
        sa.ForeignKeyConstraint(
            ["collect_id"],
            ["collects.id"],
            name=op.f("fk_collect_members_collect_id_collects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_collect_members_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("collect_id", "user_id", name=op.f("pk_collect_members")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("collect_members") as batch:
        batch.create_index(
            batch.f("ix_collect_members_user_id_collect_id"), ["user_id", "collect_id"]
        )
    assert members is not None
    authors = sa.select(
        collects.c.id, collects.c.author_id, sa.literal("author"), collects.c.created_at
    )
    op.execute(
        members.insert().from_select(["collect_id", "user_id", "role", "joined_at"], authors)
    )
    p = payments.c
    donors = (
        sa.select(p.collect_id, p.payer_id, sa.literal("participant"), sa.func.min(p.payment_date))
        .select_from(payments.join(collects, collects.c.id == p.collect_id))
        .where(
            p.status == "completed",
            p.payer_id.is_not(None),
            p.payer_id != collects.c.author_id,
        )
        .group_by(p.collect_id, p.payer_id)
    )
    op.execute(members.insert().from_select(["collect_id", "user_id", "role", "joined_at"], donors))


def downgrade() -> None:
    op.drop_table("collect_members")
    with op.batch_alter_table("collects") as batch:
        batch.drop_constraint(batch.f("ck_collects_visibility"), type_="check")
        batch.drop_column("share_key")
        batch.drop_column("suggested_kopecks")
        batch.drop_column("hidden_from")
        batch.drop_column("visibility")
