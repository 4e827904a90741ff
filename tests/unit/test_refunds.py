"""Refunds over the in-memory fakes: `Payment.refund` and `Collect.ensure_refundable`, then the
`RefundPayment` use case — who may refund (everyone else learns nothing), the order of checks
(401, 404, 400, 409), the totals and donors it reverses, the payer's e-mail, the cache, and
what the feed, the participants list, one's own payments and a replay show afterwards."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

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
from fundraising.application.use_cases.collects import CollectChange, CollectFields, Moderation
from fundraising.application.use_cases.membership import Join, MemberRequest, ParticipantsRequest
from fundraising.application.use_cases.payments import Donation, PaymentLookup, Refund
from fundraising.application.views import PaymentView
from fundraising.domain.money import Money
from fundraising.domain.payment import DonationVisibility, Payment, PaymentStatus
from tests.fakes import FakePayments, FakeTotalsAudit, FakeUnitOfWork
from tests.unit.collect_use_case_helpers import CommitWitnessCache

NOBODY = 999_999  # neither a user nor a payment
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


# --- helpers ---


def refund(
    core,
    payment_id: int,
    actor_id: int,
    reason: str | None = None,
    errors: tuple[FieldError, ...] = (),
) -> PaymentView:
    """The use case as the container builds it (the `core` fixture has no property for it)."""
    request = Refund(payment_id, actor_id, reason, conversion_errors=errors)
    return core.container.refund_payment()(request)  # type: ignore[no-any-return]


def pay(core, payer, collect_id: int, amount: str = "100.00", txid: str | None = None, **extra):
    """A completed donation; its payment view."""
    donation = Donation(
        payer_id=payer.id,
        collect_id=collect_id,
        amount=Money.of(amount),
        transaction_id=txid or f"tx-{len(core.db.payments) + 1}-{payer.id}",
        **extra,
    )
    return core.donate(donation).payment


def totals(core, collect_id: int) -> tuple[Money, int, int]:
    collect = core.db.collects[collect_id]
    return collect.collected, collect.donations_count, collect.donors_count


def refund_tasks(core) -> list[SendEmail]:
    """Every "payment refunded" e-mail put in the outbox so far."""
    return [
        row.message.task
        for row in core.db.outbox.values()
        if isinstance(row.message.task, SendEmail)
        and row.message.task.kind is EmailKind.PAYMENT_REFUNDED
    ]


def state(core) -> tuple[object, ...]:
    """Everything a refund may change: payments, counters, outbox, published tasks."""
    payments = {
        pid: (p.status, p.refunded_at, p.refund_reason) for pid, p in core.db.payments.items()
    }
    counters = {cid: totals(core, cid) for cid in core.db.collects}
    return payments, counters, len(core.db.outbox), len(core.queue.published)


def promote(core, collect_id: int, author_id: int, user_id: int) -> None:
    core.container.add_organiser()(MemberRequest(collect_id, author_id, user_id))


def demote(core, collect_id: int, author_id: int, user_id: int) -> None:
    core.container.remove_organiser()(MemberRequest(collect_id, author_id, user_id))


def moderate(core, collect_id: int, action: str) -> None:
    core.moderate_collect(Moderation(collect_id, action, "spam" if action == "block" else None))


def no_drift(core) -> bool:
    return list(FakeTotalsAudit(core.db).drifts()) == []


@attrs.frozen
class Scene:
    author: object
    donor: object
    organiser: object
    participant: object
    stranger: object
    collect_id: int


@pytest.fixture
def scene(core) -> Scene:
    """A public collect by Ivan; Olga donates, Maria is an organiser (she joined, then was
    promoted), Pyotr a participant who joined, Anna takes part in nothing."""
    author = core.user("ivan", "Иван", "Петров")
    donor = core.user("olga", "Ольга", "Ли")
    organiser = core.user("maria")
    participant = core.user("pyotr")
    stranger = core.user("anna")
    collect_id = core.collect(author, title="Юбилей").collect.id
    for member in (organiser, participant):
        core.join_collect(Join(collect_id, member.id))
    promote(core, collect_id, author.id, organiser.id)
    return Scene(author, donor, organiser, participant, stranger, collect_id)


# --- the domain: Payment.refund and Collect.ensure_refundable ---


def payment_with(status: PaymentStatus) -> Payment:
    return Payment(
        id=5,
        collect_id=1,
        payer_id=2,
        amount=Money.of("150.00"),
        status=status,
        transaction_id="sber-5",
        payment_date=NOW - timedelta(days=1),
        comment="С днём рождения",
    )


def test_refunding_a_completed_payment_records_when_and_why():
    payment = payment_with(PaymentStatus.COMPLETED)
    assert payment.refund(NOW, "Ошибся суммой") is True
    assert payment.status is PaymentStatus.REFUNDED
    assert (payment.refunded_at, payment.refund_reason) == (NOW, "Ошибся суммой")
    assert (payment.amount, payment.comment) == (Money.of("150.00"), "С днём рождения")


def test_refunding_without_a_reason_leaves_it_empty():
    payment = payment_with(PaymentStatus.COMPLETED)
    assert payment.refund(NOW)
    assert (payment.status, payment.refunded_at, payment.refund_reason) == (
        PaymentStatus.REFUNDED,
        NOW,
        None,
    )


def test_refunding_a_refunded_payment_again_changes_nothing():
    payment = payment_with(PaymentStatus.COMPLETED)
    payment.refund(NOW, "first")
    assert payment.refund(NOW + timedelta(hours=1), "second") is False
    assert payment.status is PaymentStatus.REFUNDED
    assert (payment.refunded_at, payment.refund_reason) == (NOW, "first")


@pytest.mark.parametrize("status", [PaymentStatus.PENDING, PaymentStatus.FAILED])
def test_only_a_completed_payment_can_be_refunded(status):
    payment = payment_with(status)
    with pytest.raises(Conflict, match=status.value):
        payment.refund(NOW, "why")
    assert (payment.status, payment.refunded_at, payment.refund_reason) == (status, None, None)


def test_a_blocked_collect_is_not_refundable_and_an_unblocked_or_closed_one_is(core):
    author = core.user()
    collect = copy.deepcopy(core.db.collects[core.collect(author).collect.id])
    collect.ensure_refundable()
    collect.deactivate(NOW)
    collect.ensure_refundable()  # closing a collect does not keep its money
    collect.block("spam", NOW)
    with pytest.raises(Conflict, match="blocked"):
        collect.ensure_refundable()
    collect.unblock(NOW)
    collect.ensure_refundable()


# --- who may refund ---


def test_the_author_refunds_a_payment(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "150.00", comment="wish")
    core.clock.advance(hours=2)
    refunded = refund(core, paid.id, scene.author.id, "Подарок уже куплен")
    assert refunded.status is PaymentStatus.REFUNDED
    assert refunded.refunded_at == core.clock.now()
    assert attrs.evolve(refunded, status=paid.status, refunded_at=None) == paid
    stored = core.db.payments[paid.id]
    assert (stored.status, stored.refunded_at, stored.refund_reason) == (
        PaymentStatus.REFUNDED,
        core.clock.now(),
        "Подарок уже куплен",
    )
    assert totals(core, scene.collect_id) == (Money.zero(), 0, 0)


def test_an_organiser_refunds_a_payment(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "70.00")
    refunded = refund(core, paid.id, scene.organiser.id)
    assert refunded.status is PaymentStatus.REFUNDED
    assert core.db.payments[paid.id].refund_reason is None
    assert totals(core, scene.collect_id) == (Money.zero(), 0, 0)


def test_the_author_refunds_their_own_payment(core, scene):
    paid = pay(core, scene.author, scene.collect_id, "10.00")
    assert refund(core, paid.id, scene.author.id).status is PaymentStatus.REFUNDED


@pytest.mark.parametrize("who", ["donor", "participant", "stranger", "demoted", "other_author"])
def test_anyone_else_learns_nothing_as_for_a_missing_payment(core, scene, who):
    paid = pay(core, scene.donor, scene.collect_id)
    if who == "demoted":
        demote(core, scene.collect_id, scene.author.id, scene.organiser.id)
        actor = scene.organiser.id
    elif who == "other_author":  # the author of another collect, not of this one
        other = core.user("boris")
        other_collect = core.collect(other).collect.id
        actor = other.id
        assert core.db.members[(other_collect, other.id)].manages
    else:
        actor = getattr(scene, who).id
    before = state(core)
    with pytest.raises(NotFound) as hidden:
        refund(core, paid.id, actor, "мне можно?")
    with pytest.raises(NotFound) as missing:
        refund(core, NOBODY, scene.author.id)
    assert hidden.value.detail == missing.value.detail
    assert state(core) == before


def test_an_organiser_of_one_collect_cannot_refund_another_collects_payment(core, scene):
    second = core.collect(scene.author).collect.id
    paid = pay(core, scene.donor, second)
    with pytest.raises(NotFound):
        refund(core, paid.id, scene.organiser.id)
    assert core.db.payments[paid.id].status is PaymentStatus.COMPLETED


# --- the order of checks: 401, 404, 400, 409 ---


@pytest.mark.parametrize("fate", ["deleted", "deactivated"])
def test_an_actor_who_is_gone_or_inactive_is_not_authenticated_first(core, scene, fate):
    paid = pay(core, scene.donor, scene.collect_id)
    if fate == "deleted":
        del core.db.users[scene.author.id]
    else:
        core.db.users[scene.author.id].is_active = False
    before = state(core)
    for payment_id in (paid.id, NOBODY):
        with pytest.raises(AuthenticationFailed):
            refund(core, payment_id, scene.author.id, "x" * 501)
    assert state(core) == before


def test_a_too_long_reason_is_a_validation_error_on_reason(core, scene):
    paid = pay(core, scene.donor, scene.collect_id)
    before = state(core)
    with pytest.raises(ValidationFailed) as raised:
        refund(core, paid.id, scene.author.id, "я" * 501)
    assert [e.field for e in raised.value.errors] == ["reason"]
    assert state(core) == before


def test_a_reason_of_500_characters_is_kept(core, scene):
    paid = pay(core, scene.donor, scene.collect_id)
    refund(core, paid.id, scene.organiser.id, "я" * 500)
    assert core.db.payments[paid.id].refund_reason == "я" * 500


def test_what_the_edge_could_not_convert_is_reported_on_reason(core, scene):
    paid = pay(core, scene.donor, scene.collect_id)
    rejected = (FieldError("reason", "Expected `str | null`, got `int`."),)
    with pytest.raises(ValidationFailed) as raised:
        refund(core, paid.id, scene.author.id, None, rejected)
    assert raised.value.errors == rejected
    assert core.db.payments[paid.id].status is PaymentStatus.COMPLETED


@pytest.mark.parametrize("who", ["donor", "stranger"])
def test_those_who_may_not_refund_get_not_found_before_a_bad_reason(core, scene, who):
    paid = pay(core, scene.donor, scene.collect_id)
    rejected = (FieldError("reason", "Expected `str | null`, got `int`."),)
    with pytest.raises(NotFound):
        refund(core, paid.id, getattr(scene, who).id, "x" * 501)
    with pytest.raises(NotFound):
        refund(core, paid.id, getattr(scene, who).id, None, rejected)
    with pytest.raises(NotFound):
        refund(core, NOBODY, scene.author.id, "x" * 501)


def test_a_blocked_collect_refuses_refunds_after_a_bad_reason(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "40.00")
    moderate(core, scene.collect_id, "block")
    before = state(core)
    with pytest.raises(ValidationFailed):
        refund(core, paid.id, scene.author.id, "x" * 501)
    for actor in (scene.author, scene.organiser):
        with pytest.raises(Conflict, match="blocked"):
            refund(core, paid.id, actor.id, "пора вернуть")
    with pytest.raises(NotFound):
        refund(core, paid.id, scene.donor.id)
    assert state(core) == before
    assert refund_tasks(core) == []

    moderate(core, scene.collect_id, "unblock")
    assert refund(core, paid.id, scene.author.id).status is PaymentStatus.REFUNDED
    assert totals(core, scene.collect_id) == (Money.zero(), 0, 0)


def test_a_closed_or_ended_collect_still_refunds(core, scene):
    ends = core.clock.now() + timedelta(days=1)
    ending = core.collect(scene.author, end_date=ends).collect.id
    closing_payment = pay(core, scene.donor, scene.collect_id, "5.00")
    ending_payment = pay(core, scene.donor, ending, "6.00")
    core.update_collect(
        CollectChange(scene.collect_id, scene.author.id, CollectFields(is_active=False))
    )
    core.clock.current = ends + timedelta(days=1)
    for paid in (closing_payment, ending_payment):
        assert refund(core, paid.id, scene.author.id).status is PaymentStatus.REFUNDED
    assert totals(core, scene.collect_id) == totals(core, ending) == (Money.zero(), 0, 0)


@pytest.mark.parametrize("status", [PaymentStatus.PENDING, PaymentStatus.FAILED])
def test_a_payment_that_was_never_completed_conflicts(core, scene, status):
    paid = pay(core, scene.donor, scene.collect_id, "30.00")
    with core.uow() as uow:
        other = uow.payments.insert(
            attrs.evolve(
                core.db.payments[paid.id], id=None, status=status, transaction_id=f"x-{status}"
            )
        )
        uow.commit()
    before = state(core)
    with pytest.raises(Conflict, match=status.value):
        refund(core, other.id, scene.author.id, "why")
    assert state(core) == before
    assert refund_tasks(core) == []


# --- the totals ---


def test_a_refund_reverses_the_totals_and_the_payer_stays_a_donor_while_they_paid_again(
    core, scene
):
    first = pay(core, scene.donor, scene.collect_id, "100.00")
    second = pay(core, scene.donor, scene.collect_id, "50.25")
    pay(core, scene.participant, scene.collect_id, "30.00")
    assert totals(core, scene.collect_id) == (Money.of("180.25"), 3, 2)

    refund(core, first.id, scene.author.id)
    assert totals(core, scene.collect_id) == (Money.of("80.25"), 2, 2)
    refund(core, second.id, scene.organiser.id)
    assert totals(core, scene.collect_id) == (Money.of("30.00"), 1, 1)
    view = core.get_collect(scene.collect_id).collect
    assert (view.collected_amount, view.donations_count, view.donors_count) == (
        Money.of("30.00"),
        1,
        1,
    )
    assert no_drift(core)


def test_an_anonymous_payers_last_refund_drops_the_donors_count_too(core, scene):
    hidden = pay(core, scene.donor, scene.collect_id, "20.00", is_anonymous=True)
    pay(core, scene.participant, scene.collect_id, "10.00")
    refund(core, hidden.id, scene.author.id)
    assert totals(core, scene.collect_id) == (Money.of("10.00"), 1, 1)
    assert no_drift(core)


def test_a_payer_whose_other_payment_is_only_pending_stops_being_a_donor(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "20.00")
    with core.uow() as uow:
        uow.payments.insert(
            attrs.evolve(
                core.db.payments[paid.id],
                id=None,
                status=PaymentStatus.PENDING,
                transaction_id="pending-1",
            )
        )
        uow.commit()
    refund(core, paid.id, scene.author.id)
    assert totals(core, scene.collect_id) == (Money.zero(), 0, 0)


def test_refunding_again_changes_nothing_and_answers_the_payment_as_it_is(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "100.00")
    pay(core, scene.donor, scene.collect_id, "1.00")
    first = refund(core, paid.id, scene.author.id, "первый раз")
    refunded_at = core.clock.now()
    core.clock.advance(hours=1)
    before = state(core)
    for actor in (scene.author, scene.organiser):
        again = refund(core, paid.id, actor.id, "второй раз")
        assert again == first
        assert again.refunded_at == refunded_at
    assert state(core) == before
    assert core.db.payments[paid.id].refund_reason == "первый раз"
    assert totals(core, scene.collect_id) == (Money.of("1.00"), 1, 1)
    assert refund_tasks(core) == [SendEmail(EmailKind.PAYMENT_REFUNDED, paid.id)]


class RacedRefunds(FakePayments):
    """A concurrent refund of the same payment commits between this one's read and its write."""

    def refund(self, payment: Payment) -> bool:
        stored = self.db.payments[payment.id]  # type: ignore[index]
        stored.status, stored.refunded_at, stored.refund_reason = (
            PaymentStatus.REFUNDED,
            payment.refunded_at - timedelta(seconds=1),  # type: ignore[operator]
            "the other one",
        )
        return super().refund(payment)


def test_a_refund_that_lost_the_race_answers_the_winners_refund_and_sends_nothing(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "100.00")
    tasks = len(core.queue.published)

    def factory() -> FakeUnitOfWork:
        uow = core.uow()
        uow.payments = RacedRefunds(core.db, uow.mark_changed)
        return uow

    raced = attrs.evolve(core.container.refund_payment(), uow_factory=factory)
    answer = raced(Refund(paid.id, scene.author.id, "mine"))
    assert answer.status is PaymentStatus.REFUNDED
    assert answer.refunded_at == core.clock.now() - timedelta(seconds=1)  # the winner's
    assert refund_tasks(core) == []
    assert len(core.queue.published) == tasks


# --- what a refund causes: the e-mail, the cache ---


def test_a_refund_enqueues_one_e_mail_to_the_payer_after_the_commit(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "1234.50")
    core.queue.published.clear()
    refund(core, paid.id, scene.author.id, "Сбор отменён")
    assert core.queue.tasks == [SendEmail(EmailKind.PAYMENT_REFUNDED, paid.id)]
    assert refund_tasks(core) == [SendEmail(EmailKind.PAYMENT_REFUNDED, paid.id)]


def test_the_refund_e_mail_tells_the_payer_the_amount_and_the_reason(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "1234.50", comment="Пожелание")
    refund(core, paid.id, scene.organiser.id, "Подарок уже куплен")
    core.mailer.sent.clear()
    core.deliver_email(SendEmail(EmailKind.PAYMENT_REFUNDED, paid.id))
    (sent,) = core.mailer.sent
    assert sent.kind is EmailKind.PAYMENT_REFUNDED
    assert sent.to == "olga@example.com"
    assert sent.recipient_name == "Ольга Ли"
    assert sent.collect_title == "Юбилей"
    assert sent.amount == Money.of("1234.50")
    assert sent.comment == "Подарок уже куплен"  # the reason, not the donor's wish


def test_a_refund_without_a_reason_e_mails_no_reason(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "5.00", comment="Пожелание")
    refund(core, paid.id, scene.author.id)
    core.mailer.sent.clear()
    core.deliver_email(SendEmail(EmailKind.PAYMENT_REFUNDED, paid.id))
    (sent,) = core.mailer.sent
    assert (sent.to, sent.comment) == ("olga@example.com", None)


def test_the_refund_e_mail_skips_an_unverified_payer(core, scene):
    paid = pay(core, scene.donor, scene.collect_id)
    refund(core, paid.id, scene.author.id)
    core.db.users[scene.donor.id].email_verified = False
    core.mailer.sent.clear()
    core.deliver_email(SendEmail(EmailKind.PAYMENT_REFUNDED, paid.id))
    assert core.mailer.sent == []


def test_a_refund_makes_the_cache_forget_its_collect_once_committed(core, scene):
    paid = pay(core, scene.donor, scene.collect_id)
    other = core.collect(scene.author).collect.id
    pay(core, scene.donor, other)
    core.cache = witness = CommitWitnessCache(core)
    refund(core, paid.id, scene.author.id)
    assert witness.changed == [scene.collect_id]
    assert witness.committed_when_changed == [True]


def test_a_refused_refund_leaves_the_cache_alone(core, scene):
    paid = pay(core, scene.donor, scene.collect_id)
    moderate(core, scene.collect_id, "block")
    core.cache.changed.clear()
    for actor, error in ((scene.author, Conflict), (scene.stranger, NotFound)):
        with pytest.raises(error):
            refund(core, paid.id, actor.id)
    assert core.cache.changed == []


# --- what the reads show afterwards ---


def test_a_refunded_payment_leaves_the_feed_and_the_participants_list(core, scene):
    kept = pay(core, scene.donor, scene.collect_id, "10.00", comment="kept")
    core.clock.advance(minutes=1)
    gone = pay(core, scene.donor, scene.collect_id, "99.00", comment="gone")
    core.clock.advance(minutes=1)
    other = pay(core, scene.participant, scene.collect_id, "7.00", comment="other")
    refund(core, gone.id, scene.author.id)
    refund(core, other.id, scene.author.id)

    detail = core.get_collect(scene.collect_id)
    assert [e.comment for e in detail.payments] == ["kept"]
    feed = core.list_feed(scene.collect_id, PageRequest.of())
    assert ([e.comment for e in feed.items], feed.count) == (["kept"], 1)

    listed = core.list_participants(
        ParticipantsRequest(scene.collect_id, scene.organiser.id, None, PageRequest.of(1, 100))
    )
    entries = {e.user: e for e in listed.items}
    assert (entries[scene.donor.id].paid_amount, entries[scene.donor.id].donations_count) == (
        Money.of("10.00"),
        1,
    )
    assert entries[scene.donor.id].last_payment_at == kept.payment_date
    assert (
        entries[scene.participant.id].paid_amount,
        entries[scene.participant.id].donations_count,
    ) == (Money.zero(), 0)
    unpaid = core.list_participants(
        ParticipantsRequest(scene.collect_id, scene.author.id, False, PageRequest.of(1, 100))
    )
    assert scene.participant.id in {e.user for e in unpaid.items}
    assert kept.id in core.db.payments


def test_a_refunded_payment_stays_in_its_payers_list_and_reads_refunded(core, scene):
    kept = pay(core, scene.donor, scene.collect_id, "10.00")
    core.clock.advance(minutes=1)
    gone = pay(core, scene.donor, scene.collect_id, "99.00")
    core.clock.advance(minutes=1)
    refund(core, gone.id, scene.organiser.id, "reason")
    mine = core.my_payments(scene.donor.id, PageRequest.of())
    assert [(p.id, p.status) for p in mine.items] == [
        (gone.id, PaymentStatus.REFUNDED),
        (kept.id, PaymentStatus.COMPLETED),
    ]
    assert mine.items[0].refunded_at == core.clock.now()
    assert mine.items[1].refunded_at is None
    for viewer in (scene.donor, scene.author, scene.organiser):
        seen = core.get_payment(PaymentLookup(gone.id, viewer.id))
        assert (seen.status, seen.refunded_at) == (PaymentStatus.REFUNDED, core.clock.now())


def test_a_replay_after_the_refund_answers_the_refunded_payment_and_counts_nothing(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "10.00", txid="sber-replay")
    refunded = refund(core, paid.id, scene.author.id)
    core.clock.advance(minutes=5)
    before = state(core)
    core.cache.changed.clear()
    replay = core.donate(
        Donation(scene.donor.id, scene.collect_id, Money.of("10"), "sber-replay", comment="again")
    )
    assert replay.replayed
    assert replay.payment == refunded
    assert replay.payment.status is PaymentStatus.REFUNDED
    assert state(core) == before
    assert totals(core, scene.collect_id) == (Money.zero(), 0, 0)
    assert core.cache.changed == [scene.collect_id]


def test_another_reuse_of_a_refunded_transaction_id_still_conflicts(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "10.00", txid="sber-used")
    refund(core, paid.id, scene.author.id)
    before = state(core)
    for payer, amount in ((scene.donor, "11.00"), (scene.participant, "10.00")):
        with pytest.raises(Conflict, match="transaction_id"):
            core.donate(Donation(payer.id, scene.collect_id, Money.of(amount), "sber-used"))
    assert state(core) == before


def test_a_refunded_payer_who_donates_again_is_a_donor_again(core, scene):
    paid = pay(core, scene.donor, scene.collect_id, "10.00")
    refund(core, paid.id, scene.author.id)
    pay(core, scene.donor, scene.collect_id, "15.00", visibility=DonationVisibility.HIDE_AMOUNT)
    assert totals(core, scene.collect_id) == (Money.of("15.00"), 1, 1)
    assert no_drift(core)
