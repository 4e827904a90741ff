"""Concurrent donations (and joins) through the use cases, and the reconcile that audits the
totals."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TypeVar

import pytest
from sqlalchemy import Engine, select, update

from fundraising.adapters.sql.queries import SqlCollectQueries, SqlTotalsAudit
from fundraising.adapters.sql.tables import collects, payments
from fundraising.adapters.sql.unit_of_work import SqlUnitOfWork
from fundraising.application.errors import Conflict
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import Drift, Totals
from fundraising.application.use_cases.membership import Join, JoinCollect
from fundraising.application.use_cases.payments import (
    Donate,
    Donation,
    DonationResult,
    Refund,
    RefundPayment,
)
from fundraising.application.use_cases.reconcile import Reconcile
from fundraising.domain.collect import Collect
from fundraising.domain.membership import Member, Role
from fundraising.domain.money import Money
from fundraising.domain.payment import PaymentStatus
from tests.fakes import FakeCache, FakeTaskQueue, FixedClock
from tests.integration.conftest import Rows, UowFactory

T = TypeVar("T")

THREADS = 16
DONATIONS_PER_THREAD = 50
RETRIES = 32


@pytest.fixture
def join(
    uow_factory: UowFactory, collect_queries: SqlCollectQueries, clock: FixedClock
) -> JoinCollect:
    return JoinCollect(uow_factory, collect_queries, clock)


@pytest.fixture
def refund(uow_factory: UowFactory, clock: FixedClock) -> RefundPayment:
    return RefundPayment(uow_factory, clock)


def _all_at_once(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run `work(0..count-1)` on `count` threads released together; results or errors, in order."""
    start = threading.Barrier(count)

    def run(number: int) -> T | Exception:
        start.wait()
        try:
            return work(number)
        except Exception as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _payment_totals(engine: Engine, collect: Collect) -> tuple[Money, int, int]:
    """What the completed payment rows say, computed in Python from the rows themselves."""
    p = payments.c
    query = select(p.amount_kopecks, p.payer_id).where(
        p.collect_id == collect.id, p.status == PaymentStatus.COMPLETED.value
    )
    with engine.connect() as connection:
        found = connection.execute(query).all()
    total = sum((amount for amount, _ in found), Money.zero())
    return total, len(found), len({payer for _, payer in found})


def test_concurrent_donations_to_one_collect_keep_its_totals_exact(
    rows: Rows,
    donate: Donate,
    engine: Engine,
    cache: FakeCache,
    audit: SqlTotalsAudit,
):
    collect = rows.collect(rows.user())
    payers = [rows.user() for _ in range(12)]
    generator = random.Random(20261126)
    plans = [
        [
            (
                generator.choice(payers).id,
                Money(Decimal(generator.randint(100, 10_000_000)).scaleb(-2)),
            )
            for _ in range(DONATIONS_PER_THREAD)
        ]
        for _ in range(THREADS)
    ]

    def donate_all(thread: int) -> list[DonationResult]:
        return [
            donate(Donation(payer_id, collect.id, amount, f"t{thread}-{number}"))
            for number, (payer_id, amount) in enumerate(plans[thread])
        ]

    cache.changed.clear()  # (arranging wrote the collect too)
    outcomes = _all_at_once(THREADS, donate_all)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    planned = [donation for plan in plans for donation in plan]
    expected_total = sum((amount for _, amount in planned), Money.zero())
    expected = (expected_total, THREADS * DONATIONS_PER_THREAD, len({p for p, _ in planned}))
    assert _payment_totals(engine, collect) == expected
    assert rows.counters(collect) == expected
    assert all(not r.replayed for o in outcomes if isinstance(o, list) for r in o)
    assert cache.changed == [collect.id] * (THREADS * DONATIONS_PER_THREAD)
    assert audit.drifts() == []


def test_concurrent_retries_of_one_transaction_id_count_once(
    rows: Rows, donate: Donate, engine: Engine, audit: SqlTotalsAudit
):
    collect = rows.collect(rows.user())
    payer = rows.user()
    donation = Donation(payer.id, collect.id, Money.of("150.00"), "sber_retry")

    outcomes = _all_at_once(RETRIES, lambda _: donate(donation))

    results = [o for o in outcomes if isinstance(o, DonationResult)]
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert sum(not result.replayed for result in results) == 1
    assert {result.payment.id for result in results} == {results[0].payment.id}
    assert rows.payment_count(transaction_id="sber_retry") == 1
    assert rows.counters(collect) == (Money.of("150.00"), 1, 1)
    assert _payment_totals(engine, collect) == (Money.of("150.00"), 1, 1)
    assert audit.drifts() == []


def test_concurrent_reuse_of_a_transaction_id_for_other_amounts_conflicts(
    rows: Rows, donate: Donate, engine: Engine, audit: SqlTotalsAudit
):
    collect = rows.collect(rows.user())
    payer = rows.user()

    def donate_own_amount(number: int) -> DonationResult:
        return donate(Donation(payer.id, collect.id, Money.of(f"{number + 1}.00"), "sber_clash"))

    outcomes = _all_at_once(RETRIES, donate_own_amount)

    results = [o for o in outcomes if isinstance(o, DonationResult)]
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(results) == 1 and not results[0].replayed
    assert len(errors) == RETRIES - 1
    assert all(isinstance(error, Conflict) for error in errors), errors
    winner = results[0].payment.amount
    assert rows.payment_count(transaction_id="sber_clash") == 1
    assert rows.counters(collect) == (winner, 1, 1)
    assert _payment_totals(engine, collect) == (winner, 1, 1)
    assert audit.drifts() == []


def test_reconcile_reports_corrupted_counters_exactly_and_repairs_them(
    rows: Rows,
    donate: Donate,
    engine: Engine,
    audit: SqlTotalsAudit,
    collect_queries: SqlCollectQueries,
):
    author = rows.user()
    busy, untouched, emptied = rows.collect(author), rows.collect(author), rows.collect(author)
    payers = [rows.user() for _ in range(4)]
    _all_at_once(
        8,
        lambda thread: [
            donate(Donation(payers[n % 4].id, busy.id, Money.of("12.34"), f"r{thread}-{n}"))
            for n in range(10)
        ],
    )
    rows.donation(untouched, payers[0], "0.10")
    rows.payment_row(busy, payers[0], "500.00", status=PaymentStatus.PENDING)
    rows.payment_row(busy, payers[1], "600.00", status=PaymentStatus.FAILED)
    reconcile_cache = FakeCache()
    reconcile = Reconcile(audit, lambda: SqlUnitOfWork(engine, FakeTaskQueue(), reconcile_cache))

    clean = reconcile()
    assert (list(clean.drifts), clean.fixed) == ([], False)

    c = collects.c
    with engine.begin() as connection:
        connection.execute(
            update(collects)
            .where(c.id == busy.id)
            .values(
                collected_kopecks=c.collected_kopecks + Money.of("0.01"),
                donors_count=c.donors_count - 1,
            )
        )
        connection.execute(
            update(collects)
            .where(c.id == emptied.id)
            .values(
                collected_kopecks=Money.of("9999999999.99"),
                donations_count=7,
                donors_count=3,
            )
        )

    report = reconcile()

    assert report.fixed is False
    assert list(report.drifts) == [
        Drift(
            busy.id,
            stored=Totals(Money.of("987.21"), 80, 3),
            actual=Totals(Money.of("987.20"), 80, 4),
        ),
        Drift(
            emptied.id,
            stored=Totals(Money.of("9999999999.99"), 7, 3),
            actual=Totals(Money.zero(), 0, 0),
        ),
    ]
    assert reconcile_cache.changed == []
    assert rows.counters(busy) == (Money.of("987.21"), 80, 3)  # reporting changes nothing

    repaired = reconcile(fix=True)

    assert repaired.fixed is True
    assert [drift.collect_id for drift in repaired.drifts] == [busy.id, emptied.id]
    assert sorted(reconcile_cache.changed) == sorted([busy.id, emptied.id])
    assert rows.counters(busy) == (Money.of("987.20"), 80, 4)
    assert rows.counters(emptied) == (Money.zero(), 0, 0)
    assert rows.counters(untouched) == (Money.of("0.10"), 1, 1)
    assert reconcile().drifts == []
    detail = collect_queries.detail(busy.id)
    assert detail is not None and detail.collect.collected_amount == Money.of("987.20")


@pytest.mark.parametrize("fix", [False, True])
def test_reconcile_of_a_clean_database_changes_nothing(
    rows: Rows, audit: SqlTotalsAudit, engine: Engine, fix: bool
):
    collect = rows.collect(rows.user())
    rows.donation(collect, rows.user(), "1.00")
    cache = FakeCache()

    report = Reconcile(audit, lambda: SqlUnitOfWork(engine, FakeTaskQueue(), cache))(fix=fix)

    assert (list(report.drifts), report.fixed, cache.changed) == ([], False, [])
    assert rows.counters(collect) == (Money.of("1.00"), 1, 1)


def test_joins_and_donations_racing_keep_members_and_paid_amounts_exact(
    rows: Rows,
    donate: Donate,
    join: JoinCollect,
    collect_queries: SqlCollectQueries,
    audit: SqlTotalsAudit,
):
    """16 users at once each join twice and donate three times, in an order of their own: every
    join of a member changes nothing, and each payer is a member exactly once."""
    collect = rows.collect(rows.user())
    assert collect.id is not None
    users = [rows.user() for _ in range(THREADS)]
    generator = random.Random(20261203)
    plans = []
    for number, user in enumerate(users):
        assert user.id is not None
        steps: list[tuple[str, Money | None]] = [("join", None), ("join", None)]
        steps += [
            ("donate", Money.of(f"{generator.randint(1, 500)}.{number:02d}")) for _ in range(3)
        ]
        generator.shuffle(steps)
        plans.append((user.id, steps))

    def take_part(thread: int) -> None:
        user_id, steps = plans[thread]
        for step, (kind, amount) in enumerate(steps):
            if kind == "join":
                join(Join(collect.id, user_id))
            else:
                assert amount is not None
                donate(Donation(user_id, collect.id, amount, f"race{thread}-{step}"))

    outcomes = _all_at_once(THREADS, take_part)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    paid = {
        user_id: sum((a for kind, a in steps if kind == "donate" and a), Money.zero())
        for user_id, steps in plans
    }
    detail = collect_queries.detail(collect.id)
    assert detail is not None
    assert detail.collect.participants_count == THREADS
    assert detail.collect.collected_amount == sum(paid.values(), Money.zero())
    entries = collect_queries.participants(collect.id, None, PageRequest(1, 100)).items
    assert {e.user: e.paid_amount for e in entries} == paid
    assert {e.user: e.donations_count for e in entries} == dict.fromkeys(paid, 3)
    assert audit.drifts() == []


def test_refunds_racing_donations_keep_the_totals_exact(
    rows: Rows, donate: Donate, refund: RefundPayment, engine: Engine, audit: SqlTotalsAudit
):
    """Half the threads donate while the other half refund the donations made before (many
    of them by two threads at once, each refund sent twice): the counters always equal what
    the completed payments say."""
    author = rows.user()
    collect = rows.collect(author)
    assert author.id is not None and collect.id is not None
    with refund.uow_factory() as uow:
        uow.members.add(Member(collect.id, author.id, Role.AUTHOR, collect.created_at))
        uow.commit()
    payers = [rows.user() for _ in range(6)]
    earlier = [
        donate(Donation(payers[n % 6].id, collect.id, Money.of(f"{n + 1}.25"), f"early{n}"))
        for n in range(THREADS * 4)
    ]

    def work(thread: int) -> None:
        if thread % 2:
            for n in range(8):
                payer = payers[(thread + n) % 6].id
                donate(Donation(payer, collect.id, Money.of("10.01"), f"late{thread}-{n}"))
        else:
            for result in earlier[thread * 4 : thread * 4 + 12]:
                for _ in range(2):
                    refund(Refund(result.payment.id, author.id, "ошибка"))

    outcomes = _all_at_once(THREADS, work)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    refunded = {r.payment.id for t in range(0, THREADS, 2) for r in earlier[t * 4 : t * 4 + 12]}
    assert rows.payment_count(status=PaymentStatus.REFUNDED.value) == len(refunded)
    assert rows.counters(collect) == _payment_totals(engine, collect)
    assert audit.drifts() == []
