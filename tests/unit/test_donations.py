"""Donations: counted exactly once, idempotent retries, who may read a payment."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from fundraising.application.errors import (
    AuthenticationFailed,
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import CollectClosed, DuplicateTransaction
from fundraising.application.use_cases.collects import CollectChange, CollectFields
from fundraising.application.use_cases.payments import Donation, PaymentLookup
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment, PaymentStatus
from tests.fakes import FakePayments, FakeUnitOfWork


def donation(payer, collect_id, amount="150.00", txid="sber-1", **extra) -> Donation:
    return Donation(
        payer_id=payer.id,
        collect_id=collect_id,
        amount=Money.parse(amount),
        transaction_id=txid,
        **extra,
    )


def totals(core, collect_id: int) -> tuple[Money, int, int]:
    collect = core.db.collects[collect_id]
    return collect.collected, collect.donations_count, collect.donors_count


def deactivate(core, author, collect_id: int) -> None:
    core.update_collect(CollectChange(collect_id, author.id, CollectFields(is_active=False)))


@pytest.fixture
def scene(core):
    """An author, a donor and an open collect."""
    author, donor = core.user("ivan"), core.user("olga", "Ольга", "Ли")
    collect_id = core.collect(author).collect.id
    return author, donor, collect_id


def nothing_counted(core, collect_id: int, payments_before: int, tasks_before: int) -> bool:
    return (
        totals(core, collect_id) == (Money.zero(), 0, 0)
        and len(core.db.payments) == payments_before
        and len(core.queue.published) == tasks_before
    )


# a donation


def test_a_donation_returns_the_completed_payment(core, scene):
    _, donor, collect_id = scene
    result = core.donate(
        donation(donor, collect_id, comment="Happy birthday", metadata={"app": "ios"})
    )
    payment = result.payment
    assert not result.replayed
    assert payment.collect == collect_id
    assert payment.amount == Money.of("150.00")
    assert payment.status is PaymentStatus.COMPLETED
    assert payment.transaction_id == "sber-1"
    assert payment.payment_date == core.clock.now()
    assert not payment.is_anonymous
    assert (payment.comment, payment.metadata) == ("Happy birthday", {"app": "ios"})
    assert core.db.payments[payment.id].payer_id == donor.id


def test_a_donation_updates_the_collects_counters(core, scene):
    _, donor, collect_id = scene
    core.donate(donation(donor, collect_id, "150.00", "tx-a"))
    assert totals(core, collect_id) == (Money.of("150.00"), 1, 1)


def test_donors_are_counted_once_each_anonymous_included(core, scene):
    author, donor, collect_id = scene
    core.donate(donation(donor, collect_id, "100.00", "tx-a"))
    core.donate(donation(donor, collect_id, "0100.50", "tx-b", is_anonymous=True))
    core.donate(donation(author, collect_id, "1.00", "tx-c"))
    assert totals(core, collect_id) == (Money.of("201.50"), 3, 2)
    view = core.get_collect(collect_id).collect
    assert (view.collected_amount, view.donations_count, view.donors_count) == (
        Money.of("201.50"),
        3,
        2,
    )


def test_a_donation_enqueues_both_emails_and_invalidates_the_cache(core, scene):
    _, donor, collect_id = scene
    core.cache.changed.clear()
    payment = core.donate(donation(donor, collect_id)).payment
    assert core.queue.tasks[-2:] == [
        SendEmail(EmailKind.DONATION_THANKS, payment.id),
        SendEmail(EmailKind.DONATION_RECEIVED, payment.id),
    ]
    assert core.cache.changed == [collect_id]


# invalid donations


def test_a_donation_to_an_unknown_collect_fails_on_collect(core, scene):
    _, donor, _ = scene
    with pytest.raises(ValidationFailed) as raised:
        core.donate(donation(donor, 999))
    assert raised.value.errors == (FieldError("collect", "No collect with this id."),)
    assert core.db.payments == {}


def test_missing_required_fields_are_all_named(core, scene):
    _, donor, _ = scene
    with pytest.raises(ValidationFailed) as raised:
        core.donate(Donation(donor.id, None, None, None))
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("collect", "This field is required."),
        ("amount", "This field is required."),
        ("transaction_id", "This field is required."),
    ]


def test_fields_the_edge_rejected_are_not_reported_as_missing_too(core, scene):
    _, donor, collect_id = scene
    rejected = (FieldError("amount", "Must be a decimal number."),)
    with pytest.raises(ValidationFailed) as raised:
        core.donate(Donation(donor.id, collect_id, None, "tx", conversion_errors=rejected))
    assert raised.value.errors == rejected


def test_every_invalid_field_is_named_at_once(core, scene):
    _, donor, collect_id = scene
    with pytest.raises(ValidationFailed) as raised:
        core.donate(
            Donation(
                donor.id,
                collect_id,
                Money.of("0.99"),
                "has space",
                comment="x" * 501,
                metadata={"k": "я" * 2050},
            )
        )
    assert [e.field for e in raised.value.errors] == [
        "amount",
        "transaction_id",
        "comment",
        "metadata",
    ]
    assert totals(core, collect_id) == (Money.zero(), 0, 0)


def test_an_unknown_collect_is_named_with_the_other_invalid_fields(core, scene):
    _, donor, _ = scene
    with pytest.raises(ValidationFailed) as raised:
        core.donate(Donation(donor.id, 999, Money.of("20000000.00"), None))
    assert {e.field for e in raised.value.errors} == {"transaction_id", "collect", "amount"}


def test_a_donation_to_an_inactive_collect_conflicts_and_counts_nothing(core, scene):
    author, donor, collect_id = scene
    deactivate(core, author, collect_id)
    tasks = len(core.queue.published)
    with pytest.raises(Conflict, match="inactive"):
        core.donate(donation(donor, collect_id))
    assert nothing_counted(core, collect_id, 0, tasks)


def test_a_donation_after_the_end_date_conflicts_and_counts_nothing(core, scene):
    author, donor, _ = scene
    end = core.clock.now() + timedelta(days=1)
    collect_id = core.collect(author, end_date=end).collect.id
    core.clock.current = end
    tasks = len(core.queue.published)
    with pytest.raises(Conflict, match="ended"):
        core.donate(donation(donor, collect_id))
    assert nothing_counted(core, collect_id, 0, tasks)


def test_a_donation_just_before_the_end_date_is_counted(core, scene):
    author, donor, _ = scene
    end = core.clock.now() + timedelta(days=1)
    collect_id = core.collect(author, end_date=end).collect.id
    core.clock.current = end - timedelta(microseconds=1)
    core.donate(donation(donor, collect_id))
    assert totals(core, collect_id)[1] == 1


class ClosingPayments(FakePayments):
    """The collect is deactivated by a concurrent request between the check and the count."""

    def add_donation(self, payment: Payment, *, now):
        self.db.collects[payment.collect_id].is_active = False
        return super().add_donation(payment, now=now)


class RacedPayments(FakePayments):
    """The transaction id is taken by a concurrent donation that is not visible afterwards."""

    def add_donation(self, payment: Payment, *, now):
        raise DuplicateTransaction


class CountRefusedPayments(FakePayments):
    """The count finds the collect closed, though it reads as open just after (a race)."""

    def add_donation(self, payment: Payment, *, now):
        raise CollectClosed


def with_payments(core, payments_class):
    def factory() -> FakeUnitOfWork:
        uow = core.uow()
        uow.payments = payments_class(core.db, uow.mark_changed)
        return uow

    return attrs.evolve(core.donate, uow_factory=factory)


def test_a_collect_that_closes_during_the_donation_conflicts(core, scene):
    _, donor, collect_id = scene
    with pytest.raises(Conflict, match="inactive"):
        with_payments(core, ClosingPayments)(donation(donor, collect_id))
    assert core.db.collects[collect_id].is_active  # the fake's concurrent close rolled back
    assert totals(core, collect_id) == (Money.zero(), 0, 0)


def test_a_transaction_id_taken_by_a_vanished_concurrent_donation_asks_for_a_retry(core, scene):
    _, donor, collect_id = scene
    with pytest.raises(Conflict, match="retry"):
        with_payments(core, RacedPayments)(donation(donor, collect_id))
    assert core.db.payments == {}


# a transaction id used again


@pytest.mark.parametrize(
    "other",
    [
        {"payer": "author"},
        {"collect": "second"},
        {"amount": "150.01"},
    ],
)
def test_a_transaction_id_used_for_another_donation_conflicts_and_counts_nothing(
    core, scene, other
):
    author, donor, collect_id = scene
    second = core.collect(author).collect.id
    first = core.donate(donation(donor, collect_id)).payment
    payments, tasks = len(core.db.payments), len(core.queue.published)
    before = totals(core, collect_id), totals(core, second)
    payer = author if other.get("payer") else donor
    target = second if other.get("collect") else collect_id
    with pytest.raises(Conflict) as raised:
        core.donate(donation(payer, target, other.get("amount", "150.00")))
    assert "transaction_id" in raised.value.detail
    assert (totals(core, collect_id), totals(core, second)) == before
    assert len(core.db.payments) == payments
    assert len(core.queue.published) == tasks
    assert core.db.payments[first.id].payer_id == donor.id


def test_a_retry_replays_the_original_payment_and_counts_nothing(core, scene):
    _, donor, collect_id = scene
    first = core.donate(donation(donor, collect_id, comment="first"))
    tasks, cache = len(core.queue.published), list(core.cache.changed)
    core.clock.advance(minutes=1)
    retry = core.donate(donation(donor, collect_id, comment="first"))
    assert retry.replayed
    assert retry.payment == first.payment
    assert totals(core, collect_id) == (Money.of("150.00"), 1, 1)
    assert len(core.db.payments) == 1
    assert len(core.queue.published) == tasks
    assert core.cache.changed == [*cache, collect_id]  # the lost answer may have hidden it


def test_a_retry_compares_the_amount_by_value(core, scene):
    _, donor, collect_id = scene
    first = core.donate(donation(donor, collect_id, amount=10))
    retry = core.donate(donation(donor, collect_id, amount="10.00"))
    assert retry.replayed
    assert retry.payment == first.payment


def test_a_retry_ignores_comment_metadata_and_anonymity(core, scene):
    _, donor, collect_id = scene
    first = core.donate(donation(donor, collect_id, comment="a", metadata={"n": 1}))
    retry = core.donate(
        donation(donor, collect_id, comment="b", metadata={"n": 2}, is_anonymous=True)
    )
    assert retry.replayed
    assert retry.payment == first.payment
    assert (retry.payment.comment, retry.payment.metadata) == ("a", {"n": 1})
    assert not retry.payment.is_anonymous


def test_a_retry_is_still_answered_after_the_collect_was_deactivated(core, scene):
    author, donor, collect_id = scene
    first = core.donate(donation(donor, collect_id))
    deactivate(core, author, collect_id)
    retry = core.donate(donation(donor, collect_id))
    assert retry.replayed
    assert retry.payment == first.payment


def test_a_retry_is_still_answered_after_the_end_date(core, scene):
    author, donor, _ = scene
    end = core.clock.now() + timedelta(hours=1)
    collect_id = core.collect(author, end_date=end).collect.id
    first = core.donate(donation(donor, collect_id))
    core.clock.current = end + timedelta(days=1)
    assert core.donate(donation(donor, collect_id)).payment == first.payment


def test_a_foreign_transaction_id_on_a_closed_collect_still_conflicts(core, scene):
    author, donor, collect_id = scene
    core.donate(donation(donor, collect_id))
    deactivate(core, author, collect_id)
    with pytest.raises(Conflict, match="transaction_id"):
        core.donate(donation(author, collect_id))


@pytest.mark.parametrize("fate", ["deleted", "deactivated"])
def test_a_donation_by_a_user_who_no_longer_exists_or_is_inactive_is_refused(core, scene, fate):
    _, donor, collect_id = scene
    if fate == "deleted":
        del core.db.users[donor.id]
    else:
        core.db.users[donor.id].is_active = False
    with pytest.raises(AuthenticationFailed):
        core.donate(donation(donor, collect_id))
    assert totals(core, collect_id) == (Money.zero(), 0, 0)


# reading payments


def test_the_payer_and_the_collect_author_see_a_payment(core, scene):
    author, donor, collect_id = scene
    payment = core.donate(donation(donor, collect_id)).payment
    assert core.get_payment(PaymentLookup(payment.id, donor.id)) == payment
    assert core.get_payment(PaymentLookup(payment.id, author.id)) == payment


def test_anyone_else_gets_not_found_as_for_a_missing_payment(core, scene):
    _, donor, collect_id = scene
    stranger = core.user("petr")
    payment = core.donate(donation(donor, collect_id)).payment
    with pytest.raises(NotFound) as hidden:
        core.get_payment(PaymentLookup(payment.id, stranger.id))
    with pytest.raises(NotFound) as missing:
        core.get_payment(PaymentLookup(999, donor.id))
    assert hidden.value.detail == missing.value.detail


def test_my_payments_are_mine_newest_first(core, scene):
    author, donor, collect_id = scene
    other = core.collect(author).collect.id
    made = []
    for index, target in enumerate([collect_id, other, collect_id]):
        core.clock.advance(minutes=1)
        made.append(core.donate(donation(donor, target, txid=f"mine-{index}")).payment)
    core.donate(donation(author, collect_id, txid="not-mine"))
    page = core.my_payments(donor.id, PageRequest.of())
    assert list(page.items) == made[::-1]
    assert page.count == 3


def test_my_payments_break_time_ties_by_newest_id(core, scene):
    _, donor, collect_id = scene
    made = [core.donate(donation(donor, collect_id, txid=f"t{i}")).payment for i in range(3)]
    assert [p.id for p in core.my_payments(donor.id, PageRequest.of()).items] == [
        p.id for p in reversed(made)
    ]


def test_my_payments_are_paginated(core, scene):
    _, donor, collect_id = scene
    for index in range(12):
        core.clock.advance(seconds=1)
        core.donate(donation(donor, collect_id, f"{index + 1}.00", f"t{index}"))
    second = core.my_payments(donor.id, PageRequest.of(2, 5))
    assert [p.amount for p in second.items] == [Money.of(f"{a}.00") for a in (7, 6, 5, 4, 3)]
    assert second.has_next
    with pytest.raises(NotFound):
        core.my_payments(donor.id, PageRequest.of(4, 5))


def test_no_payments_is_an_empty_first_page(core, scene):
    _, donor, _ = scene
    page = core.my_payments(donor.id, PageRequest.of())
    assert (list(page.items), page.count) == ([], 0)


def test_a_collect_closed_and_reopened_around_the_count_still_conflicts(core, scene):
    _, donor, collect_id = scene
    with pytest.raises(Conflict, match="no longer accepts"):
        with_payments(core, CountRefusedPayments)(donation(donor, collect_id))
    assert totals(core, collect_id) == (Money.zero(), 0, 0)
