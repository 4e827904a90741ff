"""Cancelling a collect on MariaDB and SQLite: its payments refunded in batches, a crash
half-way resumed without refunding or e-mailing anyone twice, the counters at 0."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from fundraising.adapters.sql.tables import payments
from fundraising.adapters.sql.unit_of_work import SqlUnitOfWork
from fundraising.application.errors import Conflict
from fundraising.application.ports.tasks import EmailKind, RefundCollect, SendEmail
from fundraising.application.use_cases.cancellation import RefundCancelledCollect
from fundraising.application.use_cases.payments import Donate, Donation
from fundraising.domain.collect import Collect
from fundraising.domain.money import Money
from fundraising.domain.payment import PaymentStatus
from tests.fakes import FakeTaskQueue, FixedClock
from tests.integration.conftest import Rows, UowFactory

PAYERS = 25


class CrashingAt:
    """Units of work whose `number`-th commit fails, as a worker killed in the middle would."""

    def __init__(self, factory: UowFactory, number: int) -> None:
        self._factory = factory
        self._number = number
        self.commits = 0

    def __call__(self) -> SqlUnitOfWork:
        uow = self._factory()
        commit = uow.commit

        def counted() -> None:
            self.commits += 1
            if self.commits == self._number:
                raise RuntimeError("the worker was killed")
            commit()

        uow.commit = counted  # type: ignore[method-assign]
        return uow


def _cancel(uow_factory: UowFactory, collect: Collect, clock: FixedClock) -> None:
    assert collect.id is not None
    with uow_factory() as uow:
        found = uow.collects.get(collect.id, for_update=True)
        assert found is not None
        found.cancel(clock.now())
        uow.collects.save(found)
        uow.commit()


def _cancellation_emails(task_queue: FakeTaskQueue) -> list[int | None]:
    return sorted(
        task.recipient_id or 0
        for task in task_queue.tasks
        if isinstance(task, SendEmail) and task.kind is EmailKind.COLLECT_CANCELLED
    )


@pytest.fixture
def busy(rows: Rows, uow_factory: UowFactory, engine: Engine) -> tuple[Collect, list[int]]:
    """A collect with 60 donations from 25 payers, one of whom is gone (payer_id NULL), and a
    pending payment; returns it and the ids of the 24 payers still there."""
    collect = rows.collect(rows.user())
    payers = [rows.user() for _ in range(PAYERS)]
    for number in range(60):
        rows.donation(collect, payers[number % PAYERS], f"{number + 1}.10")
    rows.payment_row(collect, payers[0], status=PaymentStatus.PENDING)
    gone = payers[-1].id
    with engine.begin() as connection:  # as erasing an account does: anonymised, recounted
        connection.execute(
            update(payments).where(payments.c.payer_id == gone).values(payer_id=None)
        )
    with uow_factory() as uow:
        uow.collects.recount([collect.id or 0])
        uow.commit()
    return collect, sorted(payer.id for payer in payers[:-1] if payer.id is not None)


def test_a_crash_half_way_is_resumed_and_nobody_is_refunded_or_emailed_twice(
    rows: Rows,
    uow_factory: UowFactory,
    clock: FixedClock,
    task_queue: FakeTaskQueue,
    busy: tuple[Collect, list[int]],
):
    collect, payer_ids = busy
    _cancel(uow_factory, collect, clock)
    crashing = CrashingAt(uow_factory, number=3)

    with pytest.raises(RuntimeError, match="killed"):
        RefundCancelledCollect(crashing, clock, payments_per_batch=4)(
            RefundCollect(collect.id or 0)
        )

    half_way = rows.payment_count(collect_id=collect.id, status=PaymentStatus.REFUNDED.value)
    assert 0 < half_way < 60
    assert rows.counters(collect)[1] == 60 - half_way
    RefundCancelledCollect(uow_factory, clock, payments_per_batch=4)(RefundCollect(collect.id or 0))

    assert rows.counters(collect) == (Money.zero(), 0, 0)
    assert rows.payment_count(collect_id=collect.id, status=PaymentStatus.REFUNDED.value) == 60
    assert rows.payment_count(collect_id=collect.id, status=PaymentStatus.PENDING.value) == 1
    assert _cancellation_emails(task_queue) == payer_ids


def test_a_task_that_used_its_time_leaves_the_rest_to_a_new_one(
    rows: Rows,
    uow_factory: UowFactory,
    clock: FixedClock,
    task_queue: FakeTaskQueue,
    busy: tuple[Collect, list[int]],
):
    collect, payer_ids = busy
    _cancel(uow_factory, collect, clock)
    task = RefundCollect(collect.id or 0)

    RefundCancelledCollect(uow_factory, clock, payments_per_batch=10, budget=timedelta(0))(task)

    assert task_queue.tasks.count(task) == 1
    assert rows.payment_count(collect_id=collect.id, status=PaymentStatus.REFUNDED.value) == 10
    assert _cancellation_emails(task_queue) == []  # each payer has later payments still
    RefundCancelledCollect(uow_factory, clock, payments_per_batch=10)(task)
    assert rows.counters(collect) == (Money.zero(), 0, 0)
    assert _cancellation_emails(task_queue) == payer_ids


def test_no_donation_is_counted_once_a_collect_is_cancelled(
    rows: Rows, uow_factory: UowFactory, clock: FixedClock, donate: Donate
):
    collect = rows.collect(rows.user())
    payer = rows.user()
    rows.donation(collect, payer, "10.00")
    _cancel(uow_factory, collect, clock)

    with pytest.raises(Conflict, match="cancelled"):
        donate(Donation(payer.id or 0, collect.id, Money.of("5.00"), "after-cancel"))

    assert rows.counters(collect) == (Money.of("10.00"), 1, 1)
