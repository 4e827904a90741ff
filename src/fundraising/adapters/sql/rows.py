"""Rows to entities and back: the only place that knows both shapes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from fundraising.domain.collect import Collect, Cover, CoverStatus, Occasion
from fundraising.domain.membership import Member, Role, Visibility
from fundraising.domain.payment import DonationVisibility, Payment, PaymentStatus
from fundraising.domain.user import DELETED_USER, User, display_name, username_key


def user_of(row: RowMapping) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        password_hash=row["password_hash"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        is_active=bool(row["is_active"]),
        date_joined=row["date_joined"],
        email_verified=bool(row["email_verified"]),
        tokens_valid_after=row["tokens_valid_after"],
        deleted_at=row["deleted_at"],
    )


def user_values(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "username_key": username_key(user.username),
        "email": user.email,
        "password_hash": user.password_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "date_joined": user.date_joined,
        "email_verified": user.email_verified,
        "tokens_valid_after": user.tokens_valid_after,
        "deleted_at": user.deleted_at,
    }


def collect_of(row: RowMapping) -> Collect:
    return Collect(
        id=row["id"],
        author_id=row["author_id"],
        title=row["title"],
        occasion=Occasion(row["occasion"]),
        description=row["description"],
        goal=row["goal_kopecks"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        is_active=bool(row["is_active"]),
        cover=Cover(CoverStatus(row["cover_status"]), row["cover_image"], row["cover_source"]),
        collected=row["collected_kopecks"],
        donations_count=row["donations_count"],
        donors_count=row["donors_count"],
        blocked_at=row["blocked_at"],
        block_reason=row["block_reason"],
        cancelled_at=row["cancelled_at"],
        visibility=Visibility(row["visibility"]),
        hidden_from=frozenset(row["hidden_from"]),
        suggested_amount=row["suggested_kopecks"],
        share_key=row["share_key"],
    )


def collect_values(collect: Collect) -> dict[str, Any]:
    """What a user or an administrator may change, and the cover; the counters are only ever
    incremented in SQL."""
    return {
        "title": collect.title,
        "occasion": collect.occasion.value,
        "description": collect.description,
        "goal_kopecks": collect.goal,
        "end_date": collect.end_date,
        "is_active": collect.is_active,
        "cover_status": collect.cover.status.value,
        "cover_image": collect.cover.image,
        "cover_source": collect.cover.source,
        "updated_at": collect.updated_at,
        "blocked_at": collect.blocked_at,
        "block_reason": collect.block_reason,
        "cancelled_at": collect.cancelled_at,
        "visibility": collect.visibility.value,
        "hidden_from": sorted(collect.hidden_from),
        "suggested_kopecks": collect.suggested_amount,
        "share_key": collect.share_key,
    }


def payment_of(row: RowMapping) -> Payment:
    return Payment(
        id=row["id"],
        collect_id=row["collect_id"],
        payer_id=row["payer_id"],
        amount=row["amount_kopecks"],
        status=PaymentStatus(row["status"]),
        transaction_id=row["transaction_id"],
        payment_date=row["payment_date"],
        visibility=DonationVisibility(row["visibility"]),
        comment=row["comment"],
        metadata=row["metadata"],
        refunded_at=row["refunded_at"],
        refund_reason=row["refund_reason"],
    )


def payment_values(payment: Payment) -> dict[str, Any]:
    return {
        "collect_id": payment.collect_id,
        "payer_id": payment.payer_id,
        "amount_kopecks": payment.amount,
        "status": payment.status.value,
        "transaction_id": payment.transaction_id,
        "payment_date": payment.payment_date,
        "visibility": payment.visibility.value,
        "comment": payment.comment,
        "metadata": payment.metadata,
        "refunded_at": payment.refunded_at,
        "refund_reason": payment.refund_reason,
    }


def person_name(row: RowMapping, prefix: str) -> str:
    """The display name of a user whose columns were selected as `<prefix>_first_name`, …"""
    if row[f"{prefix}_deleted_at"] is not None:
        return DELETED_USER
    return display_name(
        row[f"{prefix}_first_name"], row[f"{prefix}_last_name"], row[f"{prefix}_username"]
    )


def member_of(row: RowMapping) -> Member:
    return Member(
        collect_id=row["collect_id"],
        user_id=row["user_id"],
        role=Role(row["role"]),
        joined_at=row["joined_at"],
        last_reminded_at=row["last_reminded_at"],
    )


def member_values(member: Member) -> dict[str, Any]:
    return {
        "collect_id": member.collect_id,
        "user_id": member.user_id,
        "role": member.role.value,
        "joined_at": member.joined_at,
        "last_reminded_at": member.last_reminded_at,
    }
