"""Donations: what a feed shows of each — everything, all but the amount, or no donor.

`is_anonymous` becomes `visibility` (true: "anonymous", false: "public"); a downgrade maps
"hide_amount" back to a donation that is not anonymous.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

payments = sa.table(
    "payments",
    sa.column("is_anonymous", sa.Boolean()),
    sa.column("visibility", sa.String(16)),
)
VISIBILITY = "visibility IN ('public', 'hide_amount', 'anonymous')"


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("visibility", sa.String(16), nullable=False, server_default="public")
        )
    op.execute(
        payments.update().where(payments.c.is_anonymous.is_(True)).values(visibility="anonymous")
    )
    with op.batch_alter_table("payments") as batch:
        batch.alter_column("visibility", existing_type=sa.String(16), server_default=None)
        batch.create_check_constraint(batch.f("ck_payments_visibility"), VISIBILITY)
        batch.drop_column("is_anonymous")


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("is_anonymous", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        payments.update().where(payments.c.visibility == "anonymous").values(is_anonymous=True)
    )
    with op.batch_alter_table("payments") as batch:
        batch.alter_column("is_anonymous", existing_type=sa.Boolean(), server_default=None)
        batch.drop_constraint(batch.f("ck_payments_visibility"), type_="check")
        batch.drop_column("visibility")
