"""Read models: what the use cases return, shaped for the contract, free of entities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from attrs import frozen

from fundraising.domain.collect import (
    Collect,
    CollectStatus,
    CoverStatus,
    Occasion,
    collect_status,
)
from fundraising.domain.membership import Role, Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import DonationVisibility, Payment, PaymentStatus, donor_name
from fundraising.domain.user import User
from fundraising.domain.webhook import Delivery, DeliveryStatus, EventType, Webhook

T = TypeVar("T")


@frozen
class UserView:
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    email_verified: bool

    @classmethod
    def of(cls, user: User) -> UserView:
        assert user.id is not None
        return cls(
            user.id,
            user.username,
            user.email,
            user.first_name,
            user.last_name,
            user.email_verified,
        )


@frozen
class CollectView:
    id: int
    title: str
    occasion: Occasion
    description: str
    goal_amount: Money | None
    collected_amount: Money
    donors_count: int
    donations_count: int
    progress: Decimal | None
    start_date: datetime
    end_date: datetime | None
    is_active: bool
    created_by: int
    author_name: str
    cover_image: str | None
    cover_status: CoverStatus
    created_at: datetime
    updated_at: datetime
    blocked: bool
    cancelled: bool
    visibility: Visibility
    hidden_from: frozenset[int]
    suggested_amount: Money | None
    participants_count: int

    def status(self, now: datetime) -> CollectStatus:
        """Derived when shown: `ended` comes with the clock, not with a write."""
        return collect_status(
            blocked=self.blocked,
            cancelled=self.cancelled,
            is_active=self.is_active,
            end_date=self.end_date,
            now=now,
        )

    def status_changes_at(self, now: datetime) -> datetime | None:
        """When the status changes by itself (an open collect ends), if ever."""
        return self.end_date if self.status(now) is CollectStatus.OPEN else None

    @classmethod
    def of(cls, collect: Collect, *, author_name: str, participants_count: int) -> CollectView:
        assert collect.id is not None
        return cls(
            id=collect.id,
            title=collect.title,
            occasion=collect.occasion,
            description=collect.description,
            goal_amount=collect.goal,
            collected_amount=collect.collected,
            donors_count=collect.donors_count,
            donations_count=collect.donations_count,
            progress=collect.progress,
            start_date=collect.start_date,
            end_date=collect.end_date,
            is_active=collect.is_active,
            created_by=collect.author_id,
            author_name=author_name,
            cover_image=collect.cover.image,
            cover_status=collect.cover.status,
            created_at=collect.created_at,
            updated_at=collect.updated_at,
            blocked=collect.blocked_at is not None,
            cancelled=collect.cancelled_at is not None,
            visibility=collect.visibility,
            hidden_from=collect.hidden_from,
            suggested_amount=collect.suggested_amount,
            participants_count=participants_count,
        )


@frozen
class FeedEntry:
    """A donation as every viewer of its collect sees it: no amount when the donor hid it, no
    donor when anonymous or gone; the wish in every case."""

    amount: Money | None
    payment_date: datetime
    donor_name: str
    comment: str | None

    @classmethod
    def of(
        cls,
        *,
        amount: Money,
        payment_date: datetime,
        visibility: DonationVisibility,
        comment: str | None,
        payer_name: str | None,
    ) -> FeedEntry:
        anonymous = visibility is DonationVisibility.ANONYMOUS
        return cls(
            amount=None if visibility is DonationVisibility.HIDE_AMOUNT else amount,
            payment_date=payment_date,
            donor_name=donor_name(is_anonymous=anonymous, payer_name=payer_name),
            comment=comment,
        )


@frozen
class CollectDetail:
    collect: CollectView
    payments: tuple[FeedEntry, ...]


@frozen
class PaymentView:
    id: int
    collect: int
    amount: Money
    status: PaymentStatus
    transaction_id: str
    payment_date: datetime
    visibility: DonationVisibility
    comment: str | None
    metadata: dict[str, Any] | None
    refunded_at: datetime | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.visibility is DonationVisibility.ANONYMOUS

    @classmethod
    def of(cls, payment: Payment) -> PaymentView:
        assert payment.id is not None
        return cls(
            id=payment.id,
            collect=payment.collect_id,
            amount=payment.amount,
            status=payment.status,
            transaction_id=payment.transaction_id,
            payment_date=payment.payment_date,
            visibility=payment.visibility,
            comment=payment.comment,
            metadata=payment.metadata,
            refunded_at=payment.refunded_at,
        )


@frozen
class ExportedPayment:
    """A payment as its collect's organisers export it: the payer's real name whatever the
    visibility the payer chose for the feed."""

    id: int
    payment_date: datetime
    status: PaymentStatus
    amount: Money
    donor_username: str
    donor_name: str
    visibility: DonationVisibility
    comment: str | None
    transaction_id: str


@frozen
class UpdateView:
    """An update as whoever sees its collect reads it."""

    id: int
    text: str
    author_name: str  # its writer's
    created_at: datetime


@frozen
class ParticipantView:
    """A member as those who run the collect see them: what they paid (completed payments,
    anonymous ones included) and when they were last reminded."""

    user: int
    name: str
    role: Role
    joined_at: datetime
    paid_amount: Money
    donations_count: int
    last_payment_at: datetime | None
    last_reminded_at: datetime | None


@frozen
class WebhookView:
    """A webhook as its owner lists it: never its secret."""

    id: int
    url: str
    events: tuple[EventType, ...]
    collect: int | None
    created_at: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookView:
        assert webhook.id is not None
        events = tuple(sorted(webhook.events))
        return cls(webhook.id, webhook.url, events, webhook.collect_id, webhook.created_at)


@frozen
class DeliveryView:
    id: int
    event_id: str
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_attempt_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryView:
        assert delivery.id is not None
        return cls(
            delivery.id,
            delivery.event_id,
            delivery.event_type,
            delivery.status,
            delivery.attempts,
            delivery.last_status_code,
            delivery.last_attempt_at,
        )


@frozen
class Visible(Generic[T]):
    """What one viewer may see, and to whom else the same answer may be shown: `audience`
    None is every user (a cached copy carries it, so that a hit is checked without SQL)."""

    value: T
    audience: frozenset[int] | None


@frozen
class Page(Generic[T]):
    """One page of a list; `number` counts from 1."""

    items: Sequence[T]
    count: int
    number: int
    size: int

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.count

    @property
    def has_previous(self) -> bool:
        return self.number > 1
