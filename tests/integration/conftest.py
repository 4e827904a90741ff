"""Fixtures for the SQL adapter's tests: an engine, units of work, rows made to order, a counter."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select

from fundraising.adapters.sql.engine import build_engine
from fundraising.adapters.sql.queries import (
    SqlCollectQueries,
    SqlPaymentQueries,
    SqlTotalsAudit,
)
from fundraising.adapters.sql.tables import collects, payments
from fundraising.adapters.sql.unit_of_work import SqlUnitOfWork
from fundraising.application.use_cases.payments import Donate
from fundraising.domain.collect import Collect, Occasion
from fundraising.domain.money import Money
from fundraising.domain.payment import DonationVisibility, Payment, PaymentStatus
from fundraising.domain.user import User
from tests.fakes import FakeCache, FakeTaskQueue, FixedClock

# Microseconds on purpose: every datetime must come back exactly.
NOW = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)

UowFactory = Callable[[], SqlUnitOfWork]


def completed_payment(
    collect_id: int | None, payer_id: int | None, amount: str, transaction_id: str
) -> Payment:
    """A valid donation at NOW, not yet stored."""
    assert collect_id is not None and payer_id is not None
    return Payment.donation(
        collect_id=collect_id,
        payer_id=payer_id,
        amount=Money.of(amount),
        transaction_id=transaction_id,
        is_anonymous=False,
        comment=None,
        metadata=None,
        now=NOW,
    )


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def task_queue() -> FakeTaskQueue:
    return FakeTaskQueue()


@pytest.fixture
def cache() -> FakeCache:
    return FakeCache()


@pytest.fixture
def uow_factory(engine: Engine, task_queue: FakeTaskQueue, cache: FakeCache) -> UowFactory:
    return lambda: SqlUnitOfWork(engine, task_queue, cache)


@pytest.fixture
def collect_queries(engine: Engine) -> SqlCollectQueries:
    return SqlCollectQueries(engine)


@pytest.fixture
def payment_queries(engine: Engine) -> SqlPaymentQueries:
    return SqlPaymentQueries(engine)


@pytest.fixture
def audit(engine: Engine) -> SqlTotalsAudit:
    return SqlTotalsAudit(engine)


@pytest.fixture
def donate(uow_factory: UowFactory, clock: FixedClock) -> Donate:
    return Donate(uow_factory, clock)


class StatementCounter:
    """Records the SQL the engine sends to the database while `recording()` is open."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._seen: list[str] | None = None
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._seen is not None:
            self._seen.append(statement)

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        self._seen = seen = []
        try:
            yield seen
        finally:
            self._seen = None

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._record)


@pytest.fixture
def statements(engine: Engine) -> Iterator[StatementCounter]:
    counter = StatementCounter(engine)
    yield counter
    counter.close()


class Rows:
    """Users, collects and payments made to order, each committed in a unit of work of its own."""

    def __init__(self, uow_factory: UowFactory, engine: Engine, clock: FixedClock) -> None:
        self._uow_factory = uow_factory
        self._engine = engine
        self._clock = clock
        self._numbers = itertools.count(1)

    def user(
        self,
        username: str | None = None,
        *,
        first_name: str = "",
        last_name: str = "",
        email: str | None = None,
    ) -> User:
        number = next(self._numbers)
        username = username or f"user{number}"
        user = User(
            id=None,
            username=username,
            email=email or f"{username.lower()}.{number}@example.com",
            password_hash="hashed:secret",
            first_name=first_name,
            last_name=last_name,
            is_active=True,
            date_joined=self._clock.now(),
        )
        with self._uow_factory() as uow:
            added = uow.users.add(user)
            uow.commit()
        return added

    def collect(
        self,
        author: User,
        *,
        title: str = "A gift",
        description: str = "",
        occasion: Occasion = Occasion.OTHER,
        goal: Money | None = None,
        end_date: datetime | None = None,
        is_active: bool = True,
        created_at: datetime | None = None,
    ) -> Collect:
        created_at = created_at or self._clock.now()
        assert author.id is not None
        collect = Collect(
            id=None,
            author_id=author.id,
            title=title,
            occasion=occasion,
            description=description,
            goal=goal,
            start_date=created_at,
            end_date=end_date,
            created_at=created_at,
            updated_at=created_at,
            is_active=is_active,
        )
        with self._uow_factory() as uow:
            added = uow.collects.add(collect)
            uow.commit()
        return added

    def donation(
        self,
        collect: Collect,
        payer: User,
        amount: str | Money = "100.00",
        *,
        transaction_id: str | None = None,
        visibility: DonationVisibility = DonationVisibility.PUBLIC,
        comment: str | None = None,
        at: datetime | None = None,
    ) -> Payment:
        """A completed donation counted into its collect, as the donation path does it."""
        assert collect.id is not None and payer.id is not None
        at = at or self._clock.now()
        payment = Payment(
            id=None,
            collect_id=collect.id,
            payer_id=payer.id,
            amount=amount if isinstance(amount, Money) else Money.of(amount),
            status=PaymentStatus.COMPLETED,
            transaction_id=transaction_id or f"txn-{next(self._numbers)}",
            payment_date=at,
            visibility=visibility,
            comment=comment,
        )
        with self._uow_factory() as uow:
            added = uow.payments.add_donation(payment, now=at)
            uow.commit()
        return added

    def payment_row(
        self,
        collect: Collect,
        payer: User,
        amount: str = "100.00",
        *,
        status: PaymentStatus,
        at: datetime | None = None,
    ) -> int:
        """A payment row written directly, counters untouched: how pending and failed ones come."""
        values = {
            "collect_id": collect.id,
            "payer_id": payer.id,
            "amount_kopecks": Money.of(amount),
            "status": status.value,
            "transaction_id": f"raw-{next(self._numbers)}",
            "payment_date": at or self._clock.now(),
            "visibility": "public",
        }
        with self._engine.begin() as connection:
            key = connection.execute(insert(payments).values(values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def counters(self, collect: Collect) -> tuple[Money, int, int]:
        """The collect's stored (collected, donations, donors), read straight from its row."""
        c = collects.c
        query = select(c.collected_kopecks, c.donations_count, c.donors_count).where(
            c.id == collect.id
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).one()
        return row[0], row[1], row[2]

    def payment_count(self, **where: Any) -> int:
        query = select(payments.c.id).filter_by(**where)
        with self._engine.connect() as connection:
            return len(connection.execute(query).all())


@pytest.fixture
def rows(uow_factory: UowFactory, engine: Engine, clock: FixedClock) -> Rows:
    return Rows(uow_factory, engine, clock)
