"""The meter hears of donations and refunds once their commit succeeded, and only then: a
replay, a refusal, a failed commit or a second refund tell it nothing."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from fundraising.application.errors import Conflict
from fundraising.application.ports.tasks import RefundCollect
from fundraising.application.use_cases.collects import CollectDeletion
from fundraising.application.use_cases.payments import Donation, Refund
from fundraising.domain.money import Money
from tests.fakes import FakeUnitOfWork
from tests.unit.conftest import Core


def test_a_donation_is_metered_once_with_its_amount(core: Core) -> None:
    author, donor = core.user("ivan"), core.user("olga")
    collect_id = core.collect(author).collect.id
    core.give(donor, collect_id, "150.50", txid="tx-1")
    assert core.meter.told == [("donated", Money.of("150.50"))]
    core.give(donor, collect_id, "150.50", txid="tx-1")  # replayed: counted before
    assert core.meter.told == [("donated", Money.of("150.50"))]


def test_a_donation_whose_commit_fails_is_not_metered(core: Core) -> None:
    author, donor = core.user("ivan"), core.user("olga")
    collect_id = core.collect(author).collect.id

    def failing() -> FakeUnitOfWork:
        uow = core.uow()
        uow.fail_commit = True
        return uow

    donate = attrs.evolve(core.donate, uow_factory=failing)
    with pytest.raises(RuntimeError, match="commit failed"):
        donate(Donation(donor.id, collect_id, Money.of("10.00"), "tx-failing"))
    assert core.meter.told == []


def test_a_refused_donation_is_not_metered(core: Core) -> None:
    author, donor = core.user("ivan"), core.user("olga")
    end = core.clock.now() + timedelta(days=1)
    collect_id = core.collect(author, end_date=end).collect.id
    core.clock.current = end
    with pytest.raises(Conflict, match="ended"):
        core.give(donor, collect_id, "10.00")
    assert core.meter.told == []


def test_a_refund_is_metered_once(core: Core) -> None:
    author, donor = core.user("ivan"), core.user("olga")
    collect_id = core.collect(author).collect.id
    core.give(donor, collect_id, "99.99")
    (payment_id,) = core.db.payments
    core.meter.told.clear()
    refund = core.container.refund_payment()
    refund(Refund(payment_id, author.id))
    refund(Refund(payment_id, author.id))  # refunded already: nothing changes
    assert core.meter.told == [("refunded", 1, Money.of("99.99"))]


def test_a_cancelled_collects_refunds_are_metered_with_their_sum(core: Core) -> None:
    author, donor, other = core.user("ivan"), core.user("olga"), core.user("anna")
    collect_id = core.collect(author).collect.id
    for payer, amount in ((donor, "10.00"), (other, "20.50"), (donor, "5.00")):
        core.give(payer, collect_id, amount)
    core.meter.told.clear()
    core.container.cancel_collect()(CollectDeletion(collect_id, author.id))
    core.container.refund_cancelled_collect()(RefundCollect(collect_id))
    assert core.meter.told == [("refunded", 3, Money.of("35.50"))]
    core.container.refund_cancelled_collect()(RefundCollect(collect_id))  # run again
    assert core.meter.told == [("refunded", 3, Money.of("35.50"))]
