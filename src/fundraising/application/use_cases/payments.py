"""Donations, and reading one's payments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from fundraising.application.errors import Conflict, FieldError, NotFound, ValidationFailed
from fundraising.application.pagination import PageRequest, existing
from fundraising.application.ports.cache import Cache
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.queries import PaymentQueries
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import (
    CollectClosed,
    DuplicateTransaction,
    UnitOfWork,
    UnitOfWorkFactory,
)
from fundraising.application.unit_of_work import in_transaction
from fundraising.application.use_cases.auth import active_user
from fundraising.application.views import Page, PaymentView
from fundraising.domain.errors import FieldErrors
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment

REQUIRED = "This field is required."
UNKNOWN_COLLECT = "No collect with this id."


@frozen
class Donation:
    """A donation request; None marks a field the client did not send (or the edge rejected)."""

    payer_id: int
    collect_id: int | None
    amount: Money | None
    transaction_id: str | None
    is_anonymous: bool = False
    comment: str | None = None
    metadata: Mapping[str, Any] | None = None
    rejected: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class DonationResult:
    payment: PaymentView
    replayed: bool


@frozen
class Donate:
    """Count a donation exactly once; a retry with the same transaction id replays the original."""

    uow_factory: UnitOfWorkFactory
    cache: Cache
    clock: Clock

    def __call__(self, donation: Donation) -> DonationResult:
        try:
            return in_transaction(self.uow_factory, lambda uow: self._donate(uow, donation))
        except DuplicateTransaction:
            return in_transaction(self.uow_factory, lambda uow: self._replay(uow, donation))

    def _donate(self, uow: UnitOfWork, donation: Donation) -> DonationResult:
        errors = FieldErrors(donation.rejected)
        required = {
            "collect": donation.collect_id,
            "amount": donation.amount,
            "transaction_id": donation.transaction_id,
        }
        for name, value in required.items():
            if value is None and name not in errors:
                errors.add(name, REQUIRED)
        now = self.clock.now()
        try:
            payment = Payment.donation(
                collect_id=donation.collect_id or 0,
                payer_id=donation.payer_id,
                amount=donation.amount or Money.zero(),
                transaction_id=donation.transaction_id or "",
                is_anonymous=donation.is_anonymous,
                comment=donation.comment,
                metadata=donation.metadata,
                now=now,
                errors=errors,
            )
        except ValidationFailed:
            active_user(uow, donation.payer_id)  # 401 comes before 400
            self._check_collect(uow, donation.collect_id, errors)
            errors.raise_if_any()
            raise
        try:
            added = uow.payments.add_donation(payment, now=now)
        except CollectClosed:
            return self._not_counted(uow, donation, now)
        assert added.id is not None
        uow.enqueue(SendEmail(EmailKind.DONATION_THANKS, added.id))
        uow.enqueue(SendEmail(EmailKind.DONATION_RECEIVED, added.id))
        uow.after_commit(lambda: self.cache.collect_changed(payment.collect_id))
        uow.commit()
        return DonationResult(PaymentView.of(added), replayed=False)

    @staticmethod
    def _check_collect(uow: UnitOfWork, collect_id: int | None, errors: FieldErrors) -> None:
        """Name an unknown collect too when other fields are invalid."""
        unchecked = collect_id is not None and "collect" not in errors
        if unchecked and uow.collects.get(collect_id) is None:  # type: ignore[arg-type]
            errors.add("collect", UNKNOWN_COLLECT)

    def _not_counted(self, uow: UnitOfWork, donation: Donation, now: datetime) -> DonationResult:
        """Nothing was counted: a payer gone (401), an unknown collect (400), a retry (replay),
        or a closed collect (409)."""
        assert donation.collect_id is not None and donation.transaction_id is not None
        active_user(uow, donation.payer_id)
        collect = uow.collects.get(donation.collect_id)
        if collect is None:
            raise ValidationFailed.single("collect", UNKNOWN_COLLECT)
        if uow.payments.by_transaction_id(donation.transaction_id) is not None:
            return self._replay(uow, donation)
        collect.ensure_accepts_donations(now)
        raise Conflict("This collect no longer accepts donations.")

    def _replay(self, uow: UnitOfWork, donation: Donation) -> DonationResult:
        assert donation.transaction_id is not None and donation.amount is not None
        original = uow.payments.by_transaction_id(donation.transaction_id)
        if original is None:
            raise Conflict("This transaction_id was just used; retry the request.")
        if not original.is_retry_of(
            payer_id=donation.payer_id, collect_id=donation.collect_id or 0, amount=donation.amount
        ):
            raise Conflict("This transaction_id is already used for another donation.")
        # The original's answer may have been lost together with its after-commit effects.
        self.cache.collect_changed(original.collect_id)
        return DonationResult(PaymentView.of(original), replayed=True)


@frozen
class PaymentLookup:
    payment_id: int
    viewer_id: int


@frozen
class GetPayment:
    """A payment, for its payer or the collect's author; anyone else learns nothing (404)."""

    uow_factory: UnitOfWorkFactory

    def __call__(self, lookup: PaymentLookup) -> PaymentView:
        with self.uow_factory() as uow:
            payment = uow.payments.get(lookup.payment_id)
            collect = None if payment is None else uow.collects.get(payment.collect_id)
        if (
            payment is None
            or collect is None
            or not payment.is_visible_to(lookup.viewer_id, collect_author_id=collect.author_id)
        ):
            raise NotFound("No payment with this id.")
        return PaymentView.of(payment)


@frozen
class ListMyPayments:
    queries: PaymentQueries

    def __call__(self, payer_id: int, page: PageRequest) -> Page[PaymentView]:
        return existing(self.queries.of_payer(payer_id, page))
