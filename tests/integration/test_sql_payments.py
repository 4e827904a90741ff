"""The SQL payment repository on SQLite and MariaDB: donations, counters, exact money and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import StatementError

from fundraising.adapters.sql.queries import SqlCollectQueries, SqlTotalsAudit
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import CollectFilter
from fundraising.application.ports.unit_of_work import CollectClosed, DuplicateTransaction
from fundraising.domain.money import Money
from fundraising.domain.payment import MAX_DONATION, DonationVisibility, Payment, PaymentStatus
from tests.integration.conftest import NOW, Rows, UowFactory, completed_payment
from tests.integration.sql_helpers import MOSCOW, _is_utc_with_microseconds

# --- payments ----------------------------------------------------------------------------------


def test_a_donation_increments_all_three_counters(rows: Rows):
    collect = rows.collect(rows.user())
    anna, boris = rows.user(), rows.user()

    rows.donation(collect, anna, "100.00")
    assert rows.counters(collect) == (Money.of("100.00"), 1, 1)
    rows.donation(collect, anna, "50.50")
    assert rows.counters(collect) == (Money.of("150.50"), 2, 1)
    rows.donation(collect, boris, "0.01", visibility=DonationVisibility.ANONYMOUS)
    assert rows.counters(collect) == (Money.of("150.51"), 3, 2)


def test_a_payer_with_only_pending_or_failed_payments_is_a_new_donor(rows: Rows):
    collect = rows.collect(rows.user())
    payer = rows.user()
    rows.payment_row(collect, payer, status=PaymentStatus.PENDING)
    rows.payment_row(collect, payer, status=PaymentStatus.FAILED)

    rows.donation(collect, payer, "10.00")

    assert rows.counters(collect) == (Money.of("10.00"), 1, 1)


def test_a_donation_round_trips(rows: Rows, uow_factory: UowFactory):
    collect = rows.collect(rows.user())
    payer = rows.user()
    payment = Payment.donation(
        collect_id=collect.id,
        payer_id=payer.id,
        amount=Money.of("1234.56"),
        transaction_id="sber_6f1c-9a",
        is_anonymous=True,
        comment="С днём рождения! 🎂",
        metadata={"source": "app", "nested": {"list": [1, 2.5, "три"]}},
        now=NOW,
    )
    with uow_factory() as uow:
        added = uow.payments.add_donation(payment, now=NOW)
        uow.commit()

    with uow_factory() as uow:
        by_id = uow.payments.get(added.id)
        by_transaction = uow.payments.by_transaction_id("sber_6f1c-9a")

    assert added.id is not None
    assert by_id is not None and by_transaction is not None
    assert by_id.id == by_transaction.id == added.id
    assert by_id.collect_id == collect.id and by_id.payer_id == payer.id
    assert by_id.amount == Money.of("1234.56")
    assert by_id.status is PaymentStatus.COMPLETED
    assert by_id.transaction_id == "sber_6f1c-9a"
    assert _is_utc_with_microseconds(by_id.payment_date, NOW)
    assert by_id.is_anonymous is True
    assert by_id.comment == "С днём рождения! 🎂"
    assert by_id.metadata == {"source": "app", "nested": {"list": [1, 2.5, "три"]}}


def test_unknown_payments_are_none(uow_factory: UowFactory):
    with uow_factory() as uow:
        assert uow.payments.get(999_999) is None
        assert uow.payments.by_transaction_id("never-used") is None


def test_an_inactive_collect_refuses_a_donation_and_counts_nothing(
    rows: Rows, uow_factory: UowFactory
):
    collect = rows.collect(rows.user(), is_active=False)
    payer = rows.user()

    with uow_factory() as uow, pytest.raises(CollectClosed):
        uow.payments.add_donation(
            completed_payment(collect.id, payer.id, "10.00", "t-inactive"),
            now=NOW,
        )

    assert rows.counters(collect) == (Money.zero(), 0, 0)
    assert rows.payment_count(collect_id=collect.id) == 0


def test_a_donation_to_an_unknown_collect_is_refused_as_closed(rows: Rows, uow_factory: UowFactory):
    payer = rows.user()
    payment = completed_payment(999_999, payer.id, "10.00", "t-unknown")

    with uow_factory() as uow, pytest.raises(CollectClosed):
        uow.payments.add_donation(payment, now=NOW)

    assert rows.payment_count() == 0


@pytest.mark.parametrize(
    ("end_offset", "accepted"),
    [
        (timedelta(microseconds=-1), False),
        (timedelta(0), False),  # the end is exclusive
        (timedelta(microseconds=1), True),
    ],
)
def test_a_collect_accepts_donations_strictly_before_its_end(
    rows: Rows, uow_factory: UowFactory, end_offset: timedelta, accepted: bool
):
    collect = rows.collect(
        rows.user(), created_at=NOW - timedelta(days=1), end_date=NOW + end_offset
    )
    payer = rows.user()
    payment = completed_payment(collect.id, payer.id, "10.00", "t-end")

    if accepted:
        rows.donation(collect, payer, "10.00", at=NOW)
        assert rows.counters(collect) == (Money.of("10.00"), 1, 1)
    else:
        with uow_factory() as uow, pytest.raises(CollectClosed):
            uow.payments.add_donation(payment, now=NOW)
        assert rows.counters(collect) == (Money.zero(), 0, 0)
        assert rows.payment_count(collect_id=collect.id) == 0


def test_a_reused_transaction_id_is_a_duplicate_and_the_rollback_counts_nothing(
    rows: Rows, uow_factory: UowFactory
):
    collect = rows.collect(rows.user())
    other = rows.collect(rows.user())
    payer = rows.user()
    rows.donation(collect, payer, "100.00", transaction_id="once")
    reused = completed_payment(other.id, rows.user().id, "7.00", "once")

    with uow_factory() as uow, pytest.raises(DuplicateTransaction):
        uow.payments.add_donation(reused, now=NOW)

    assert rows.counters(collect) == (Money.of("100.00"), 1, 1)
    assert rows.counters(other) == (Money.zero(), 0, 0)
    assert rows.payment_count(transaction_id="once") == 1


def test_transaction_ids_are_case_sensitive(rows: Rows, uow_factory: UowFactory):
    collect = rows.collect(rows.user())
    payer = rows.user()
    upper = rows.donation(collect, payer, "1.00", transaction_id="ABC")
    lower = rows.donation(collect, payer, "2.00", transaction_id="abc")

    with uow_factory() as uow:
        found_upper = uow.payments.by_transaction_id("ABC")
        found_lower = uow.payments.by_transaction_id("abc")
        found_mixed = uow.payments.by_transaction_id("Abc")

    assert upper.id != lower.id
    assert found_upper is not None and found_upper.id == upper.id
    assert found_lower is not None and found_lower.id == lower.id
    assert found_mixed is None
    assert rows.counters(collect) == (Money.of("3.00"), 2, 1)


def test_transaction_ids_compare_without_padding(rows: Rows, uow_factory: UowFactory):
    collect = rows.collect(rows.user())
    payer = rows.user()
    plain = rows.donation(collect, payer, "1.00", transaction_id="tx")
    padded = rows.donation(collect, payer, "2.00", transaction_id="tx  ")

    with uow_factory() as uow:
        found = uow.payments.by_transaction_id("tx")

    assert plain.id != padded.id
    assert found is not None and found.id == plain.id


# --- money and time ----------------------------------------------------------------------------


def test_small_amounts_add_up_exactly(
    rows: Rows, collect_queries: SqlCollectQueries, audit: SqlTotalsAudit
):
    collect = rows.collect(rows.user(), goal=Money.of("0.30"))
    rows.donation(collect, rows.user(), "0.10")
    rows.donation(collect, rows.user(), "0.20")

    detail = collect_queries.detail(collect.id)

    assert rows.counters(collect)[0].amount == Decimal("0.30")
    assert detail is not None
    assert detail.collect.collected_amount.amount == Decimal("0.30")
    assert str(detail.collect.collected_amount) == "0.30"
    assert detail.collect.progress == Decimal("100.0")
    assert sorted(str(entry.amount) for entry in detail.payments) == ["0.10", "0.20"]
    assert audit.drifts() == []


def test_totals_beyond_ten_billion_roubles_stay_exact(
    rows: Rows,
    uow_factory: UowFactory,
    collect_queries: SqlCollectQueries,
    audit: SqlTotalsAudit,
):
    collect = rows.collect(rows.user(), goal=Money.of("9999999999.99"))
    payer = rows.user()
    donations = 1001
    with uow_factory() as uow:
        for number in range(donations):
            payment = completed_payment(collect.id, payer.id, str(MAX_DONATION), f"big-{number}")
            uow.payments.add_donation(payment, now=NOW)
        cents = completed_payment(collect.id, payer.id, "1.99", "cents")
        uow.payments.add_donation(cents, now=NOW)
        uow.commit()

    expected = Money.of("10010000001.99")  # 11 integer digits: past what a client may send
    page = collect_queries.list(CollectFilter(), PageRequest.of())
    detail = collect_queries.detail(collect.id)

    assert rows.counters(collect) == (expected, donations + 1, 1)
    assert page.items[0].collected_amount == expected
    assert detail is not None and detail.collect.collected_amount == expected
    assert detail.collect.progress == Decimal("100.1")
    assert audit.drifts() == []


def test_datetimes_come_back_aware_in_utc_with_microseconds(rows: Rows, uow_factory: UowFactory):
    in_moscow = datetime(2026, 12, 31, 23, 30, 15, 654321, tzinfo=MOSCOW)
    collect = rows.collect(rows.user(), created_at=in_moscow, end_date=in_moscow + timedelta(1))
    payment = rows.donation(collect, rows.user(), at=in_moscow)

    with uow_factory() as uow:
        found = uow.collects.get(collect.id)
        paid = uow.payments.get(payment.id)

    assert found is not None and paid is not None
    for value in (found.created_at, found.start_date, found.updated_at, paid.payment_date):
        assert value.tzinfo == UTC
        assert value == in_moscow
        assert (value.hour, value.microsecond) == (20, 654321)


def test_a_naive_datetime_is_never_stored(rows: Rows, uow_factory: UowFactory):
    author = rows.user()
    collect = rows.collect(author)
    collect.id = None
    collect.created_at = datetime(2026, 1, 1, 12, 0)

    with uow_factory() as uow, pytest.raises(StatementError, match="naive"):
        uow.collects.add(collect)
