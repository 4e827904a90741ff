"""The SQL repositories and unit of work on SQLite and MariaDB: one contract, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from attrs import evolve
from sqlalchemy import Engine, Row, select, update
from sqlalchemy.exc import StatementError

from fundraising.adapters.cache.limits import MemoryRateLimiter
from fundraising.adapters.security.identity import LibraryIdentityRules
from fundraising.adapters.sql.queries import SqlCollectQueries, SqlTotalsAudit
from fundraising.adapters.sql.tables import collects, outbox
from fundraising.application.errors import Conflict
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import CollectFilter
from fundraising.application.ports.tasks import EmailKind, ProcessCover, SendEmail, Task
from fundraising.application.ports.unit_of_work import (
    CollectClosed,
    DuplicateTransaction,
    DuplicateUser,
)
from fundraising.application.throttles import Limit
from fundraising.application.use_cases.auth import RegisterUser, Registration
from fundraising.application.use_cases.outbox import RELAY_AGAIN_AFTER, RelayOutbox
from fundraising.domain.collect import Cover, CoverStatus, Occasion
from fundraising.domain.money import Money
from fundraising.domain.payment import MAX_DONATION, Payment, PaymentStatus
from fundraising.domain.user import User
from tests.fakes import FakeHasher, FakeTaskQueue, FixedClock
from tests.integration.conftest import NOW, Rows, UowFactory, completed_payment

MOSCOW = timezone(timedelta(hours=3))


def _is_utc_with_microseconds(value: datetime, expected: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0) and value == expected


def _user_like(user: User, **changes: str) -> User:
    """Another user with the same fields but `changes`, not yet stored."""
    return evolve(user, id=None, **changes)


# --- users -------------------------------------------------------------------------------------


def test_a_user_round_trips_with_its_id(rows: Rows, uow_factory: UowFactory):
    added = rows.user("ivan", first_name="Иван", last_name="Петров", email="ivan@example.com")

    with uow_factory() as uow:
        by_id = uow.users.get(added.id)
        by_name = uow.users.by_login("ivan")

    assert added.id is not None and added.id > 0
    assert by_id is not None and by_name is not None
    assert by_id.id == by_name.id == added.id
    assert (by_id.username, by_id.email, by_id.first_name, by_id.last_name) == (
        "ivan",
        "ivan@example.com",
        "Иван",
        "Петров",
    )
    assert by_id.password_hash == "hashed:secret"
    assert by_id.is_active is True
    assert _is_utc_with_microseconds(by_id.date_joined, NOW)


def test_unknown_users_are_none(uow_factory: UowFactory):
    with uow_factory() as uow:
        assert uow.users.get(999_999) is None
        assert uow.users.by_login("nobody") is None


def test_a_taken_username_is_a_duplicate_username(rows: Rows, uow_factory: UowFactory):
    first = rows.user("taken", email="first@example.com")

    with uow_factory() as uow, pytest.raises(DuplicateUser) as raised:
        uow.users.add(_user_like(first, email="second@example.com"))

    assert raised.value.field == "username"


def test_a_taken_email_is_a_duplicate_email(rows: Rows, uow_factory: UowFactory):
    first = rows.user("first", email="same@example.com")

    with uow_factory() as uow, pytest.raises(DuplicateUser) as raised:
        uow.users.add(_user_like(first, username="second"))

    assert raised.value.field == "email"


def test_usernames_the_same_after_folding_are_one_account(rows: Rows, uow_factory: UowFactory):
    bob = rows.user("bob")

    with uow_factory() as uow:
        for other in ("Bob", "ＢＯＢ"):
            with pytest.raises(DuplicateUser) as raised:
                uow.users.add(_user_like(bob, username=other, email=f"{other}@example.org"))
            assert raised.value.field == "username"
        found = [uow.users.by_login(name) for name in ("bob", "BOB", "Bob")]
        taken = uow.users.taken("BOB", "new@example.org"), uow.users.taken("x", bob.email)
        free = uow.users.taken("bobby", "new@example.org")

    assert [user.id if user else None for user in found] == [bob.id] * 3
    assert taken == ("username", "email")
    assert free is None


def test_usernames_compare_byte_for_byte_without_padding(rows: Rows, uow_factory: UowFactory):
    """`utf8mb4_bin` is PAD SPACE: `victim   ` was `victim` on MariaDB."""
    victim = rows.user("victim")

    with uow_factory() as uow:
        padded = uow.users.by_login("victim   ")
        exact = uow.users.by_login("victim")
        uow.users.add(_user_like(victim, username="victim ", email="padded@example.org"))

    assert padded is None
    assert exact is not None and exact.id == victim.id


def test_emails_are_stored_lower_cased_and_unique_whatever_their_case(
    uow_factory: UowFactory, clock: FixedClock
):
    register = RegisterUser(
        uow_factory,
        FakeHasher(),
        LibraryIdentityRules(),
        MemoryRateLimiter(),
        Limit(20, 3600),
        clock,
    )

    registered = register(Registration("alice", "Alice@Example.COM", "correct horse battery"))
    with pytest.raises(Conflict, match="email"):
        register(Registration("alice2", "ALICE@example.com", "correct horse battery"))

    with uow_factory() as uow:
        stored = uow.users.get(registered.id)
    assert stored is not None and stored.email == "alice@example.com"


# --- collects ----------------------------------------------------------------------------------


def test_a_collect_round_trips_with_every_field(rows: Rows, uow_factory: UowFactory):
    author = rows.user()
    end = datetime(2027, 1, 31, 23, 59, 59, 999999, tzinfo=MOSCOW)
    added = rows.collect(
        author,
        title="Новый год",
        description="Ёлка и подарки",
        occasion=Occasion.NEW_YEAR,
        goal=Money.of("9999999999.99"),
        end_date=end,
    )

    with uow_factory() as uow:
        found = uow.collects.get(added.id)

    assert found is not None
    assert found.id == added.id
    assert found.author_id == author.id
    assert (found.title, found.description, found.occasion) == (
        "Новый год",
        "Ёлка и подарки",
        Occasion.NEW_YEAR,
    )
    assert found.goal == Money.of("9999999999.99")
    assert found.goal.amount == Decimal("9999999999.99")
    assert found.end_date == end and found.end_date.tzinfo == UTC
    assert found.end_date.microsecond == 999999
    assert _is_utc_with_microseconds(found.created_at, NOW)
    assert _is_utc_with_microseconds(found.start_date, NOW)
    assert found.is_active is True
    assert found.cover == Cover()
    assert (found.collected, found.donations_count, found.donors_count) == (Money.zero(), 0, 0)


def test_an_unknown_collect_is_none(uow_factory: UowFactory):
    with uow_factory() as uow:
        assert uow.collects.get(999_999) is None
        assert uow.collects.has_payments(999_999) is False


def test_save_writes_the_changed_fields_and_the_cover(
    rows: Rows, uow_factory: UowFactory, clock: FixedClock
):
    collect = rows.collect(rows.user(), title="Old")
    later = clock.advance(minutes=5)

    with uow_factory() as uow:
        loaded = uow.collects.get(collect.id)
        assert loaded is not None
        loaded.change(
            now=later,
            title="New",
            occasion=Occasion.WEDDING,
            description="Changed",
            goal=Money.of("0.10"),
            end_date=later + timedelta(days=1),
            is_active=False,
        )
        loaded.attach_cover("covers/source.png", later)
        uow.collects.save(loaded)
        uow.commit()

    with uow_factory() as uow:
        saved = uow.collects.get(collect.id)
    assert saved is not None
    assert (saved.title, saved.occasion, saved.description) == ("New", Occasion.WEDDING, "Changed")
    assert saved.goal == Money.of("0.10")
    assert saved.end_date == later + timedelta(days=1)
    assert saved.is_active is False
    assert saved.cover == Cover(CoverStatus.PROCESSING, source="covers/source.png")
    assert saved.updated_at == later
    assert saved.created_at == NOW


def test_save_never_overwrites_the_counters(rows: Rows, uow_factory: UowFactory):
    collect = rows.collect(rows.user())
    with uow_factory() as uow:
        stale = uow.collects.get(collect.id)
    assert stale is not None and stale.donations_count == 0
    rows.donation(collect, rows.user(), "150.00")

    stale.title = "Renamed after the donation"
    with uow_factory() as uow:
        uow.collects.save(stale)
        uow.commit()

    assert rows.counters(collect) == (Money.of("150.00"), 1, 1)
    with uow_factory() as uow:
        saved = uow.collects.get(collect.id)
    assert saved is not None and saved.title == "Renamed after the donation"


def test_delete_removes_the_collect(rows: Rows, uow_factory: UowFactory):
    author = rows.user()
    doomed = rows.collect(author)
    kept = rows.collect(author)

    with uow_factory() as uow:
        uow.collects.delete(doomed.id)
        uow.commit()

    with uow_factory() as uow:
        assert uow.collects.get(doomed.id) is None
        assert uow.collects.get(kept.id) is not None


@pytest.mark.parametrize("status", list(PaymentStatus))
def test_has_payments_sees_a_payment_of_any_status(
    rows: Rows, uow_factory: UowFactory, status: PaymentStatus
):
    author = rows.user()
    paid = rows.collect(author)
    empty = rows.collect(author)
    rows.payment_row(paid, author, status=status)

    with uow_factory() as uow:
        assert uow.collects.has_payments(paid.id) is True
        assert uow.collects.has_payments(empty.id) is False


# --- payments ----------------------------------------------------------------------------------


def test_a_donation_increments_all_three_counters(rows: Rows):
    collect = rows.collect(rows.user())
    anna, boris = rows.user(), rows.user()

    rows.donation(collect, anna, "100.00")
    assert rows.counters(collect) == (Money.of("100.00"), 1, 1)
    rows.donation(collect, anna, "50.50")
    assert rows.counters(collect) == (Money.of("150.50"), 2, 1)
    rows.donation(collect, boris, "0.01", is_anonymous=True)
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


# --- outbox ------------------------------------------------------------------------------------

FAR_AHEAD = NOW + timedelta(days=365)


def _add_tasks(uow_factory: UowFactory, clock: FixedClock, *tasks: Task) -> list[int]:
    """Each task in a committed unit of work of its own, one second after the previous one."""
    ids = []
    for task in tasks:
        with uow_factory() as uow:
            ids.append(uow.outbox.add(task, now=clock.now()).id)
            uow.commit()
        clock.advance(seconds=1)
    return ids


def _outbox_rows(engine: Engine) -> list[Row[Any]]:
    with engine.connect() as connection:
        return list(connection.execute(select(outbox).order_by(outbox.c.id)))


def _due(
    uow_factory: UowFactory,
    *,
    created_before: datetime = FAR_AHEAD,
    relayed_before: datetime = NOW,
    now: datetime = NOW,
    limit: int = 10,
) -> list[int]:
    with uow_factory() as uow:
        found = uow.outbox.due(
            created_before=created_before, relayed_before=relayed_before, now=now, limit=limit
        )
    return [message.id for message in found]


def test_outbox_offers_due_messages_oldest_first_with_their_tasks(
    uow_factory: UowFactory, clock: FixedClock
):
    tasks: list[Task] = [
        SendEmail(EmailKind.COLLECT_CREATED, 1),
        ProcessCover(2, "covers/2.png"),
        SendEmail(EmailKind.DONATION_THANKS, 3),
        SendEmail(EmailKind.DONATION_RECEIVED, 4),
    ]
    first, second, third, _ = _add_tasks(uow_factory, clock, *tasks)

    with uow_factory() as uow:
        found = uow.outbox.due(
            created_before=NOW + timedelta(seconds=3), relayed_before=NOW, now=NOW, limit=10
        )

    assert [message.id for message in found] == [first, second, third]
    assert [message.task for message in found] == tasks[:3]
    assert _due(uow_factory, limit=2) == [first, second]
    assert _due(uow_factory, created_before=NOW) == []


def test_outbox_skips_finished_buried_running_and_recently_relayed_messages(
    uow_factory: UowFactory, clock: FixedClock
):
    fresh, relayed_lately, relayed_long_ago, running, finished, buried = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.COLLECT_CREATED, n) for n in range(6))
    )
    now = clock.now()
    cutoff = now - timedelta(minutes=15)
    with uow_factory() as uow:
        uow.outbox.mark_relayed([relayed_lately], now=now)
        uow.outbox.mark_relayed([relayed_long_ago], now=cutoff - timedelta(microseconds=1))
        assert uow.outbox.claim(running, now=now, lease_seconds=60) is True
        uow.outbox.finish(finished, now=now)
        uow.outbox.bury(buried, now=now)
        uow.commit()

    assert _due(uow_factory, relayed_before=cutoff, now=now) == [fresh, relayed_long_ago]
    later = now + timedelta(seconds=60)  # the lease has run out: the worker may have died
    assert _due(uow_factory, relayed_before=cutoff, now=later) == [
        fresh,
        relayed_long_ago,
        running,
    ]
    assert _due(uow_factory, relayed_before=FAR_AHEAD, now=later) == [
        fresh,
        relayed_lately,
        relayed_long_ago,
        running,
    ]


def test_outbox_claims_are_exclusive_until_the_lease_expires(
    uow_factory: UowFactory, clock: FixedClock
):
    (message_id,) = _add_tasks(uow_factory, clock, SendEmail(EmailKind.COLLECT_CREATED, 1))
    start = clock.now()

    def claim(at: datetime) -> bool:
        with uow_factory() as uow:
            claimed = uow.outbox.claim(message_id, now=at, lease_seconds=60)
            uow.commit()
        return claimed

    assert claim(start) is True
    assert claim(start + timedelta(seconds=59)) is False
    assert claim(start + timedelta(seconds=60)) is True  # the lease ran out
    with uow_factory() as uow:
        uow.outbox.release(message_id)
        uow.commit()
    assert claim(start + timedelta(seconds=61)) is True  # released: free at once
    with uow_factory() as uow:
        uow.outbox.finish(message_id, now=start + timedelta(seconds=62))
        uow.commit()
    assert claim(start + timedelta(days=1)) is False  # finished: never again


def test_outbox_tells_until_when_another_worker_holds_a_message(
    uow_factory: UowFactory, clock: FixedClock
):
    held, buried = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.COLLECT_CREATED, n) for n in (1, 2))
    )
    start = clock.now()
    with uow_factory() as uow:
        uow.outbox.claim(held, now=start, lease_seconds=60)
        uow.outbox.claim(buried, now=start, lease_seconds=60)
        uow.outbox.bury(buried, now=start)
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.held_until(held, now=start) == start + timedelta(seconds=60)
        assert uow.outbox.held_until(held, now=start + timedelta(seconds=60)) is None
        assert uow.outbox.held_until(buried, now=start) is None
        assert uow.outbox.held_until(999_999, now=start) is None


def test_an_unknown_outbox_message_cannot_be_claimed(uow_factory: UowFactory):
    with uow_factory() as uow:
        assert uow.outbox.claim(999_999, now=NOW, lease_seconds=60) is False


def test_purge_forgets_only_messages_that_ended_before_the_cutoff(
    uow_factory: UowFactory, clock: FixedClock, engine: Engine
):
    old_finished, old_buried, new_finished, waiting, running = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.DONATION_THANKS, n) for n in range(5))
    )
    cutoff = NOW + timedelta(days=7)
    with uow_factory() as uow:
        uow.outbox.finish(old_finished, now=cutoff - timedelta(microseconds=1))
        uow.outbox.bury(old_buried, now=NOW)
        uow.outbox.finish(new_finished, now=cutoff)
        uow.outbox.claim(running, now=NOW, lease_seconds=60)
        uow.commit()

    with uow_factory() as uow:
        purged = uow.outbox.purge(finished_before=cutoff)
        uow.commit()

    assert purged == 2
    assert [row.id for row in _outbox_rows(engine)] == [new_finished, waiting, running]


# --- unit of work ------------------------------------------------------------------------------


def test_leaving_without_commit_rolls_everything_back(
    rows: Rows, uow_factory: UowFactory, task_queue: FakeTaskQueue, engine: Engine
):
    collect = rows.collect(rows.user())
    template = rows.user()
    with uow_factory() as uow:
        user = uow.users.add(_user_like(template, username="ghost", email="ghost@example.com"))
        uow.collects.delete(collect.id)
        uow.enqueue(SendEmail(EmailKind.COLLECT_CREATED, 1), now=NOW)

    with uow_factory() as uow:
        assert uow.users.get(user.id) is None
        assert uow.users.by_login("ghost") is None
        assert uow.collects.get(collect.id) is not None
    assert task_queue.published == []
    assert _outbox_rows(engine) == []


def test_an_error_inside_rolls_back(rows: Rows, uow_factory: UowFactory):
    template = rows.user()

    def fail_halfway() -> None:
        with uow_factory() as uow:
            uow.users.add(_user_like(template, username="ghost", email="ghost@example.com"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_halfway()

    with uow_factory() as uow:
        assert uow.users.by_login("ghost") is None


def test_after_commit_effects_run_only_after_the_commit(rows: Rows, uow_factory: UowFactory):
    template = rows.user()
    seen: list[bool] = []

    def effect() -> None:
        with uow_factory() as other:  # another connection: sees only what was committed
            seen.append(other.users.by_login("committed") is not None)

    with uow_factory() as uow:
        uow.users.add(_user_like(template, username="committed", email="c@example.com"))
        uow.after_commit(effect)
        assert seen == []
        uow.commit()
    with uow_factory() as uow:
        uow.users.add(_user_like(template, username="rolled-back", email="r@example.com"))
        uow.after_commit(lambda: seen.append(False))

    assert seen == [True]


def test_an_enqueued_task_is_published_after_the_commit(
    uow_factory: UowFactory, task_queue: FakeTaskQueue, engine: Engine
):
    task = SendEmail(EmailKind.COLLECT_CREATED, 7)
    with uow_factory() as uow:
        message = uow.outbox.add(ProcessCover(1, "not-enqueued.png"), now=NOW)  # not published
        uow.enqueue(task, now=NOW)
        assert task_queue.published == []
        uow.commit()

    assert task_queue.tasks == [task]
    stored = _outbox_rows(engine)
    assert [row.id for row in stored] == [message.id, task_queue.published[0].id]
    assert all(row.relayed_at is None and row.finished_at is None for row in stored)


def test_the_relay_publishes_what_the_queue_refused_and_again_what_never_ran(
    uow_factory: UowFactory, task_queue: FakeTaskQueue, engine: Engine, clock: FixedClock
):
    task = ProcessCover(3, "covers/3.png")
    task_queue.available = False
    with uow_factory() as uow:
        uow.enqueue(task, now=NOW)
        uow.commit()
    assert task_queue.published == []
    relay = RelayOutbox(uow_factory, task_queue, clock, grace=timedelta(seconds=10))
    task_queue.available = True

    assert relay() == 0  # within the grace the committing process may still publish it
    clock.advance(seconds=11)
    assert relay() == 1
    assert task_queue.tasks == [task]
    (row,) = _outbox_rows(engine)
    assert row.relayed_at == clock.now()
    assert relay() == 0  # relayed just now: the worker gets time to run it

    clock.advance(seconds=RELAY_AGAIN_AFTER.total_seconds() + 1)
    assert relay() == 1  # still not finished: the broker lost it, publish it again
    with uow_factory() as uow:
        uow.outbox.finish(row.id, now=clock.now())
        uow.commit()
    clock.advance(seconds=RELAY_AGAIN_AFTER.total_seconds() + 1)
    assert relay() == 0
    assert task_queue.tasks == [task, task]


def test_a_write_outside_the_repositories_is_seen_by_the_next_unit_of_work(
    rows: Rows, uow_factory: UowFactory, engine: Engine
):
    """The repositories read the database, not a stale identity map."""
    collect = rows.collect(rows.user(), title="Before")
    with uow_factory() as uow:
        assert uow.collects.get(collect.id).title == "Before"
    with engine.begin() as connection:
        connection.execute(
            update(collects).where(collects.c.id == collect.id).values(title="After")
        )
    with uow_factory() as uow:
        assert uow.collects.get(collect.id).title == "After"


def test_a_block_round_trips_and_stops_donations_in_the_counting_statement(
    rows: Rows, uow_factory: UowFactory
):
    collect = rows.collect(rows.user())
    payer = rows.user()
    with uow_factory() as uow:
        stored = uow.collects.get(collect.id, for_update=True)
        assert stored is not None
        stored.block("spam", NOW)
        uow.collects.save(stored)
        uow.commit()

    with uow_factory() as uow:
        blocked = uow.collects.get(collect.id)
        with pytest.raises(CollectClosed):
            uow.payments.add_donation(
                completed_payment(collect.id, payer.id, "5.00", "blocked-tx"), now=NOW
            )

    assert blocked is not None
    assert (blocked.blocked_at, blocked.block_reason) == (NOW, "spam")
    assert rows.counters(collect) == (Money.zero(), 0, 0)
