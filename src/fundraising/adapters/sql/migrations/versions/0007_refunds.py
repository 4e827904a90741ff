"""Refunds: a payment may be `refunded`, with when and why.

A downgrade keeps refunded payments as `failed`: neither is counted in a collect's totals.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
payments = sa.table("payments", sa.column("status", sa.String(16)))
WITH_REFUNDS = "status IN ('pending', 'completed', 'failed', 'refunded')"
WITHOUT_REFUNDS = "status IN ('pending', 'completed', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("refunded_at", DATETIME, nullable=True))
        batch.add_column(sa.Column("refund_reason", sa.String(500), nullable=True))
        batch.drop_constraint(batch.f("ck_payments_status"), type_="check")
        batch.create_check_constraint(batch.f("ck_payments_status"), WITH_REFUNDS)


def downgrade() -> None:
    op.execute(payments.update().where(payments.c.status == "refunded").values(status="failed"))
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint(batch.f("ck_payments_status"), type_="check")
        batch.create_check_constraint(batch.f("ck_payments_status"), WITHOUT_REFUNDS)
        batch.drop_column("refund_reason")
        batch.drop_column("refunded_at")
