"""Donations, refunds, and reading one's payments."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any, NoReturn

from attrs import field, frozen

from fundraising.application.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
    no_such,
)
from fundraising.application.pagination import PageRequest, page_or_404
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.metrics import UNMETERED, Meter
from fundraising.application.ports.queries import CollectQueries, PaymentQueries
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import (
    CollectClosed,
    DuplicateTransaction,
    UnitOfWork,
    UnitOfWorkFactory,
)
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.auth import active_user
from fundraising.application.use_cases.collects import run_by
from fundraising.application.use_cases.webhooks import announce, payment_data
from fundraising.application.views import ExportedPayment, Page, PaymentView
from fundraising.domain.errors import FieldErrors
from fundraising.domain.membership import Member, Role, Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import DonationVisibility, Payment, parse_comment
from fundraising.domain.webhook import EventType


@frozen
class Donation:
    """A donation request; None marks a field the client did not send (or one the edge could
    not convert: `conversion_errors` says why)."""

    payer_id: int
    collect_id: int | None
    amount: Money | None
    transaction_id: str | None
    is_anonymous: bool | None = None
    visibility: DonationVisibility | None = None
    comment: str | None = None
    metadata: Mapping[str, Any] | None = None
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class DonationResult:
    payment: PaymentView
    replayed: bool


@frozen
class Donate:
    """Count a donation exactly once. Its transaction id is the idempotency key: when the id is
    taken, the donation is answered in a transaction of its own as a replay or a conflict."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    meter: Meter = field(default=UNMETERED, kw_only=True)

    def __call__(self, donation: Donation) -> DonationResult:
        try:
            return retrying_transaction(self.uow_factory, lambda uow: self._donate(uow, donation))
        except DuplicateTransaction:
            return retrying_transaction(self.uow_factory, lambda uow: self._replay(uow, donation))

    def _donate(self, uow: UnitOfWork, donation: Donation) -> DonationResult:
        now = self.clock.now()
        payment = self._valid(uow, donation, now)
        self._ensure_visible(uow, payment)
        try:
            added = uow.payments.add_donation(payment, now=now)
        except CollectClosed:
            self._refuse(uow, payment, now)
        assert added.id is not None and added.payer_id is not None
        participant = Member(added.collect_id, added.payer_id, Role.PARTICIPANT, joined_at=now)
        uow.members.add(participant)  # a donor takes part (nothing changes for a member)
        uow.enqueue(SendEmail(EmailKind.DONATION_THANKS, added.id), now=now)
        uow.enqueue(SendEmail(EmailKind.DONATION_RECEIVED, added.id), now=now)
        data = partial(payment_data, added)
        announce(uow, EventType.PAYMENT_CREATED, added.collect_id, data, now=now)
        uow.after_commit(lambda: self.meter.donated(added.amount))
        uow.commit()
        return DonationResult(PaymentView.of(added), replayed=False)

    @staticmethod
    def _valid(uow: UnitOfWork, donation: Donation, now: datetime) -> Payment:
        """The payment, or the 401 and 400 its checks call for, in that order (an unknown
        collect is named too when other fields are invalid)."""
        errors = FieldErrors(donation.conversion_errors)
        try:
            return Payment.donation(
                collect_id=donation.collect_id,
                payer_id=donation.payer_id,
                amount=donation.amount,
                transaction_id=donation.transaction_id,
                is_anonymous=donation.is_anonymous,
                visibility=donation.visibility,
                comment=donation.comment,
                metadata=donation.metadata,
                now=now,
                errors=errors,
            )
        except ValidationFailed:
            active_user(uow, donation.payer_id)
            if "collect" not in errors and uow.collects.get(donation.collect_id or 0) is None:
                errors.add("collect", no_such("collect"))
            errors.raise_if_any()
            raise

    @staticmethod
    def _ensure_visible(uow: UnitOfWork, payment: Payment) -> None:
        """A collect the payer may not see is answered as an unknown one (after the 401)."""
        if uow.collects.visibility(payment.collect_id) in (None, Visibility.PUBLIC):
            return  # an unknown collect is refused by the donation itself
        collect = uow.collects.get(payment.collect_id)
        if collect is None:
            return  # deleted meanwhile: refused by the donation too
        assert payment.payer_id is not None
        if not collect.access(uow.members.ids(payment.collect_id)).admits(payment.payer_id):
            active_user(uow, payment.payer_id)
            raise ValidationFailed.single("collect", no_such("collect"))

    @staticmethod
    def _refuse(uow: UnitOfWork, payment: Payment, now: datetime) -> NoReturn:
        """Nothing was counted: a payer gone (401), an unknown collect (400), a taken
        transaction id (a replay or a conflict), or a collect that takes no donation (409)."""
        active_user(uow, payment.payer_id or 0)
        collect = uow.collects.get(payment.collect_id)
        if collect is None:
            raise ValidationFailed.single("collect", no_such("collect"))
        if uow.payments.by_transaction_id(payment.transaction_id) is not None:
            raise DuplicateTransaction
        collect.ensure_accepts_donations(now)
        raise Conflict("This collect no longer accepts donations.")

    @staticmethod
    def _replay(uow: UnitOfWork, donation: Donation) -> DonationResult:
        assert donation.transaction_id is not None and donation.amount is not None
        original = uow.payments.by_transaction_id(donation.transaction_id)
        if original is None:
            raise Conflict("This transaction_id was just used; retry the request.")
        if not original.is_retry_of(
            payer_id=donation.payer_id, collect_id=donation.collect_id or 0, amount=donation.amount
        ):
            raise Conflict("This transaction_id is already used for another donation.")
        # The original's answer may have been lost with its after-commit effects: the cache
        # forgets its collect again.
        uow.mark_changed(original.collect_id)
        uow.commit()
        return DonationResult(PaymentView.of(original), replayed=True)


@frozen
class PaymentLookup:
    payment_id: int
    viewer_id: int


@frozen
class GetPayment:
    """A payment, for its payer and those who run the collect; anyone else learns nothing (404)."""

    uow_factory: UnitOfWorkFactory

    def __call__(self, lookup: PaymentLookup) -> PaymentView:
        with self.uow_factory() as uow:
            payment = uow.payments.get(lookup.payment_id)
            member = (
                None if payment is None else uow.members.get(payment.collect_id, lookup.viewer_id)
            )
        runs_collect = member is not None and member.manages
        if payment is None or not payment.is_visible_to(
            lookup.viewer_id, runs_collect=runs_collect
        ):
            raise NotFound.of("payment")
        return PaymentView.of(payment)


@frozen
class Refund:
    """`actor_id` None: an administrator's refund (support, from the command line)."""

    payment_id: int
    actor_id: int | None
    reason: str | None = None
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class RefundPayment:
    """Those who run a collect give a payment back: its collect's totals drop with it, and the
    payer is e-mailed. A refunded payment stays refunded (200, nothing changes); anyone else
    learns nothing (404, also its payer)."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    meter: Meter = field(default=UNMETERED, kw_only=True)

    def __call__(self, refund: Refund) -> PaymentView:
        def give_back(uow: UnitOfWork) -> PaymentView:
            payment = self._refundable(uow, refund)
            errors = FieldErrors(refund.conversion_errors)
            errors.check("reason", lambda: parse_comment(refund.reason))
            errors.raise_if_any()
            collect = uow.collects.get(payment.collect_id, for_update=True)  # as a donation does
            assert collect is not None  # a collect with payments is never deleted
            collect.ensure_refundable()
            now = self.clock.now()
            if payment.refund(now, refund.reason) and uow.payments.refund(payment):
                assert payment.id is not None
                uow.enqueue(SendEmail(EmailKind.PAYMENT_REFUNDED, payment.id), now=now)
                data = partial(payment_data, payment)
                announce(uow, EventType.PAYMENT_REFUNDED, payment.collect_id, data, now=now)
                uow.after_commit(lambda: self.meter.refunded(1, payment.amount))
                uow.commit()
                return PaymentView.of(payment)
            current = uow.payments.get(refund.payment_id)
            assert current is not None
            return PaymentView.of(current)

        return retrying_transaction(self.uow_factory, give_back)

    @staticmethod
    def _refundable(uow: UnitOfWork, refund: Refund) -> Payment:
        """The payment, for an administrator or those who run its collect (401, then 404)."""
        if refund.actor_id is not None:
            active_user(uow, refund.actor_id)
        payment = uow.payments.get(refund.payment_id)
        if payment is None:
            raise NotFound.of("payment")
        if refund.actor_id is None:
            return payment
        member = uow.members.get(payment.collect_id, refund.actor_id)
        if member is None or not member.manages:
            raise NotFound.of("payment")
        return payment


@frozen
class ExportPayments:
    """Every completed and refunded payment of a collect, for those who run it: read lazily,
    as the export is written."""

    uow_factory: UnitOfWorkFactory
    queries: CollectQueries

    def __call__(self, collect_id: int, actor_id: int) -> Iterator[ExportedPayment]:
        with self.uow_factory() as uow:
            run_by(uow, collect_id, actor_id)
        return self.queries.exported(collect_id)


@frozen
class ListMyPayments:
    queries: PaymentQueries

    def __call__(self, payer_id: int, page: PageRequest) -> Page[PaymentView]:
        return page_or_404(self.queries.of_payer(payer_id, page))
