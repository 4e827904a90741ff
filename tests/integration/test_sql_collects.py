"""The SQL collect repository on SQLite and MariaDB: round trips, saves, deletes and blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fundraising.application.ports.unit_of_work import CollectClosed
from fundraising.domain.collect import Cover, CoverStatus, Occasion
from fundraising.domain.membership import Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import PaymentStatus
from tests.fakes import FixedClock
from tests.integration.conftest import NOW, Rows, UowFactory, completed_payment
from tests.integration.sql_helpers import MOSCOW, _is_utc_with_microseconds


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
        assert uow.collects.visibility(999_999) is None
        assert uow.collects.has_payments(999_999) is False


def test_a_collects_visibility_is_read_alone(rows: Rows, uow_factory: UowFactory):
    public, secret = rows.collect(rows.user()), rows.collect(rows.user())
    with uow_factory() as uow:
        found = uow.collects.get(secret.id, for_update=True)
        assert found is not None
        found.visibility = Visibility.PRIVATE
        uow.collects.save(found)
        uow.commit()
    with uow_factory() as uow:
        seen = (uow.collects.visibility(public.id), uow.collects.visibility(secret.id))
    assert seen == (Visibility.PUBLIC, Visibility.PRIVATE)


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
