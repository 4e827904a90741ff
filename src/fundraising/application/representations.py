"""A collect and a payment as clients see them, field by field: the API answers them and
webhooks send them, so that both always show the same shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fundraising.application.views import CollectView, PaymentView
from fundraising.domain.money import Money


def money(value: Money | None) -> str | None:
    return None if value is None else str(value)


def collect_fields(view: CollectView, media_url: str, now: datetime) -> dict[str, Any]:
    """The collect without its feed; `media_url` is where cover files are served."""
    return {
        "id": view.id,
        "title": view.title,
        "occasion": view.occasion,
        "description": view.description,
        "goal_amount": money(view.goal_amount),
        "collected_amount": str(view.collected_amount),
        "donors_count": view.donors_count,
        "donations_count": view.donations_count,
        "progress": None if view.progress is None else float(view.progress),
        "start_date": view.start_date,
        "end_date": view.end_date,
        "is_active": view.is_active,
        "status": view.status(now),
        "created_by": view.created_by,
        "author_name": view.author_name,
        "cover_url": f"{media_url}{view.cover_image}" if view.cover_image else None,
        "cover_status": view.cover_status,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
        "visibility": view.visibility,
        "hidden_from": sorted(view.hidden_from),
        "suggested_amount": money(view.suggested_amount),
        "participants_count": view.participants_count,
    }


def payment_fields(view: PaymentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "collect": view.collect,
        "amount": str(view.amount),
        "status": view.status,
        "transaction_id": view.transaction_id,
        "payment_date": view.payment_date,
        "visibility": view.visibility,
        "is_anonymous": view.is_anonymous,
        "comment": view.comment,
        "metadata": view.metadata,
        "refunded_at": view.refunded_at,
    }
