"""The schema: users, collects and their members, payments, refresh tokens, the task outbox,
webhooks and their deliveries, leases (the source of the migrations)."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

from fundraising.adapters.sql.types import BinaryString, JsonText, Kopecks, UTCDateTime
from fundraising.domain.collect import BLOCK_REASON_MAX, TITLE_MAX, CoverStatus, Occasion
from fundraising.domain.membership import Role, Visibility
from fundraising.domain.payment import (
    COMMENT_MAX,
    TRANSACTION_ID_MAX,
    DonationVisibility,
    PaymentStatus,
)
from fundraising.domain.user import EMAIL_MAX, NAME_MAX, USERNAME_MAX
from fundraising.domain.webhook import URL_MAX, DeliveryStatus

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")  # TEXT holds 64 KiB there


_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def _one_of(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(member.value) for member in values)})"


users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", BinaryString(USERNAME_MAX), nullable=False),
    Column(
        "username_key",
        BinaryString(USERNAME_MAX),
        nullable=False,
        comment="NFKC, case-folded: what makes two usernames the same",
    ),
    Column("email", String(EMAIL_MAX), nullable=False, comment="stored lower-cased"),
    Column("password_hash", String(255), nullable=False),
    Column("first_name", String(NAME_MAX), nullable=False, default=""),
    Column("last_name", String(NAME_MAX), nullable=False, default=""),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("date_joined", UTCDateTime, nullable=False),
    Column("email_verified", Boolean, nullable=False, default=False),
    Column("tokens_valid_after", UTCDateTime, nullable=True, comment="earlier tokens: revoked"),
    Column("deleted_at", UTCDateTime, nullable=True),
    UniqueConstraint("username"),
    UniqueConstraint("username_key"),
    UniqueConstraint("email"),
    **_MYSQL,
)

collects = Table(
    "collects",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("author_id", Id, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
    Column("title", String(TITLE_MAX), nullable=False),
    Column("occasion", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("goal_kopecks", Kopecks, nullable=True, comment="null: open-ended"),
    Column("collected_kopecks", Kopecks, nullable=False),
    Column("donations_count", BigInteger, nullable=False),
    Column("donors_count", BigInteger, nullable=False),
    Column("start_date", UTCDateTime, nullable=False),
    Column("end_date", UTCDateTime, nullable=True, comment="exclusive"),
    Column("is_active", Boolean, nullable=False),
    Column("cover_status", String(16), nullable=False),
    Column("cover_image", String(255), nullable=True),
    Column("cover_source", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("blocked_at", UTCDateTime, nullable=True, comment="blocked by an administrator"),
    Column("block_reason", String(BLOCK_REASON_MAX), nullable=True),
    Column("cancelled_at", UTCDateTime, nullable=True),
    Column("goal_reached_mailed_at", UTCDateTime, nullable=True),
    Column("ending_soon_mailed_at", UTCDateTime, nullable=True),
    Column("ended_mailed_at", UTCDateTime, nullable=True),
    Column("visibility", String(16), nullable=False),
    Column("hidden_from", JsonText, nullable=False, comment="user ids: the surprise guard"),
    Column("suggested_kopecks", Kopecks, nullable=True, comment="a share per person"),
    Column("share_key", String(64), nullable=False, comment="admits to a link collect"),
    CheckConstraint(_one_of("occasion", Occasion), name="occasion"),
    CheckConstraint(_one_of("visibility", Visibility), name="visibility"),
    CheckConstraint(_one_of("cover_status", CoverStatus), name="cover_status"),
    CheckConstraint("collected_kopecks >= 0 AND donations_count >= 0", name="counters"),
    Index(None, "created_at", "id"),
    Index(None, "end_date", "id"),
    Index(None, "collected_kopecks", "id"),
    Index(None, "author_id", "created_at"),
    Index(None, "occasion", "created_at"),
    Index(None, "is_active", "created_at"),
    **_MYSQL,
)

payments = Table(
    "payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("collect_id", Id, ForeignKey("collects.id", ondelete="RESTRICT"), nullable=False),
    Column("payer_id", Id, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("amount_kopecks", Kopecks, nullable=False),
    Column("status", String(16), nullable=False),
    Column("transaction_id", BinaryString(TRANSACTION_ID_MAX), nullable=False),
    Column("payment_date", UTCDateTime, nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("comment", String(COMMENT_MAX), nullable=True),
    Column("metadata", JsonText, nullable=True),
    Column("refunded_at", UTCDateTime, nullable=True),
    Column("refund_reason", String(500), nullable=True),
    CheckConstraint(_one_of("status", PaymentStatus), name="status"),
    CheckConstraint(_one_of("visibility", DonationVisibility), name="visibility"),
    CheckConstraint("amount_kopecks > 0", name="amount"),
    UniqueConstraint("transaction_id"),
    # (collect_id, status) first: totals and donor checks; then the feed's order.
    Index(None, "collect_id", "status", "payment_date", "id"),
    Index(None, "collect_id", "payer_id", "status"),
    Index(None, "payer_id", "payment_date", "id"),
    **_MYSQL,
)

collect_members = Table(
    "collect_members",
    metadata,
    Column("collect_id", Id, ForeignKey("collects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("last_reminded_at", UTCDateTime, nullable=True),
    CheckConstraint(_one_of("role", Role), name="role"),
    Index(None, "user_id", "collect_id"),
    **_MYSQL,
)

collect_updates = Table(
    "collect_updates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("collect_id", Id, ForeignKey("collects.id", ondelete="CASCADE"), nullable=False),
    Column("writer_id", Id, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "collect_id", "created_at", "id"),
    Index(None, "writer_id"),
    **_MYSQL,
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("jti", String(32), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("family", String(32), nullable=False, comment="the chain of rotations of one login"),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True, comment="rotated: a second use revokes"),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index(None, "family"),
    Index(None, "expires_at"),
    **_MYSQL,
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task", JsonText, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("relayed_at", UTCDateTime, nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("dead_at", UTCDateTime, nullable=True, comment="retries exhausted"),
    Index(None, "finished_at", "created_at"),
    **_MYSQL,
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("collect_id", Id, ForeignKey("collects.id", ondelete="CASCADE"), nullable=True),
    Column("url", String(URL_MAX), nullable=False),
    Column("events", String(200), nullable=False, comment="comma-separated event types"),
    Column("secret", String(100), nullable=False, comment="whsec_ and the base64 signing key"),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "user_id", "id"),
    Index(None, "collect_id"),
    **_MYSQL,
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("webhook_id", Id, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("body", LongText, nullable=False, comment="the JSON sent, the same in every attempt"),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("first_attempt_at", UTCDateTime, nullable=True),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(_one_of("status", DeliveryStatus), name="status"),
    Index(None, "webhook_id", "id"),
    **_MYSQL,
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    **_MYSQL,
)
