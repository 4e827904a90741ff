"""Repositories over one connection and its transaction; they never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    and_,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from fundraising.adapters.sql import rows
from fundraising.adapters.sql.errors import is_duplicate_key, violated_constraint
from fundraising.adapters.sql.tables import collects, outbox, payments, users
from fundraising.adapters.task_codec import decode_task, encode_task
from fundraising.application.ports.tasks import OutboxMessage, Task
from fundraising.application.ports.unit_of_work import (
    CollectClosed,
    DuplicateTransaction,
    DuplicateUser,
)
from fundraising.domain.collect import Collect
from fundraising.domain.payment import Payment, PaymentStatus
from fundraising.domain.user import User


def new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def collect_row(collect: Collect) -> dict[str, Any]:
    """Every column of a new collect's row."""
    return rows.collect_values(collect) | {
        "author_id": collect.author_id,
        "start_date": collect.start_date,
        "created_at": collect.created_at,
        "collected_kopecks": collect.collected,
        "donations_count": collect.donations_count,
        "donors_count": collect.donors_count,
    }


class SqlUsers:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, user: User) -> User:
        try:
            result = self._db.execute(insert(users).values(rows.user_values(user)))
        except IntegrityError as error:
            if not is_duplicate_key(error):
                raise
            field = "email" if violated_constraint(error).endswith("email") else "username"
            raise DuplicateUser(field) from None
        user.id = new_id(result)
        return user

    def get(self, user_id: int) -> User | None:
        row = self._db.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return rows.user_of(row) if row else None

    def by_username(self, username: str) -> User | None:
        query = select(users).where(users.c.username == username)
        row = self._db.execute(query).mappings().first()
        return rows.user_of(row) if row else None


class SqlCollects:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, collect: Collect) -> Collect:
        result = self._db.execute(insert(collects).values(collect_row(collect)))
        collect.id = new_id(result)
        return collect

    def get(self, collect_id: int) -> Collect | None:
        query = select(collects).where(collects.c.id == collect_id)
        row = self._db.execute(query).mappings().first()
        return rows.collect_of(row) if row else None

    def save(self, collect: Collect) -> None:
        statement = update(collects).where(collects.c.id == collect.id)
        self._db.execute(statement.values(rows.collect_values(collect)))

    def delete(self, collect_id: int) -> None:
        self._db.execute(delete(collects).where(collects.c.id == collect_id))

    def has_payments(self, collect_id: int) -> bool:
        query = select(exists().where(payments.c.collect_id == collect_id))
        return bool(self._db.execute(query).scalar())


class SqlPayments:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add_donation(self, payment: Payment, *, now: datetime) -> Payment:
        # The collect's row is locked first (by the increment), then the payment inserted: the
        # reverse order takes a shared lock (the foreign-key check) before the exclusive one and
        # deadlocks under concurrent donations.
        c = collects.c
        counted = self._db.execute(
            update(collects)
            .where(c.id == payment.collect_id, c.is_active.is_(True))
            .where(or_(c.end_date.is_(None), c.end_date > now))
            .values(
                collected_kopecks=c.collected_kopecks + payment.amount,
                donations_count=c.donations_count + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if counted.rowcount != 1:
            raise CollectClosed
        # Holding the row lock, this read sees every donation committed before ours.
        if not self._has_donated(payment):
            self._db.execute(
                update(collects)
                .where(c.id == payment.collect_id)
                .values(donors_count=c.donors_count + 1)
            )
        try:
            result = self._db.execute(insert(payments).values(rows.payment_values(payment)))
        except IntegrityError as error:
            if is_duplicate_key(error):
                raise DuplicateTransaction from None
            raise
        payment.id = new_id(result)
        return payment

    def _has_donated(self, payment: Payment) -> bool:
        p = payments.c
        query = select(
            exists().where(
                p.collect_id == payment.collect_id,
                p.payer_id == payment.payer_id,
                p.status == PaymentStatus.COMPLETED.value,
            )
        )
        return bool(self._db.execute(query).scalar())

    def get(self, payment_id: int) -> Payment | None:
        query = select(payments).where(payments.c.id == payment_id)
        row = self._db.execute(query).mappings().first()
        return rows.payment_of(row) if row else None

    def by_transaction_id(self, transaction_id: str) -> Payment | None:
        query = select(payments).where(payments.c.transaction_id == transaction_id)
        row = self._db.execute(query).mappings().first()
        return rows.payment_of(row) if row else None


class SqlOutbox:
    def __init__(self, connection: Connection, now: datetime) -> None:
        self._db = connection
        self._now = now

    def add(self, task: Task) -> OutboxMessage:
        values = {"task": encode_task(task), "created_at": self._now}
        result = self._db.execute(insert(outbox).values(values))
        return OutboxMessage(new_id(result), task)

    def unpublished(
        self,
        *,
        created_before: datetime,
        limit: int,
        republish_before: datetime | None = None,
    ) -> Sequence[OutboxMessage]:
        o = outbox.c
        due = and_(o.published_at.is_(None), o.created_at < created_before)
        if republish_before is not None:
            lost = and_(
                o.published_at < republish_before,
                or_(o.claimed_until.is_(None), o.claimed_until < republish_before),
            )
            due = or_(due, lost)
        query = (
            select(o.id, o.task)
            .where(o.finished_at.is_(None), o.dead_at.is_(None), due)
            .order_by(o.id)
            .limit(limit)
        )
        return [OutboxMessage(row.id, decode_task(row.task)) for row in self._db.execute(query)]

    def mark_published(self, ids: Sequence[int], *, now: datetime) -> None:
        mark_published(self._db, ids, now)

    def claim(self, message_id: int, *, now: datetime, lease_seconds: int) -> bool:
        o = outbox.c
        claimed = self._db.execute(
            update(outbox)
            .where(o.id == message_id, o.finished_at.is_(None))
            .where(or_(o.claimed_until.is_(None), o.claimed_until <= now))
            .values(claimed_until=now + timedelta(seconds=lease_seconds))
        )
        return claimed.rowcount == 1

    def release(self, message_id: int) -> None:
        statement = update(outbox).where(outbox.c.id == message_id).values(claimed_until=None)
        self._db.execute(statement)

    def finish(self, message_id: int, *, now: datetime) -> None:
        statement = update(outbox).where(outbox.c.id == message_id).values(finished_at=now)
        self._db.execute(statement)

    def bury(self, message_id: int, *, now: datetime) -> None:
        statement = update(outbox).where(outbox.c.id == message_id).values(dead_at=now)
        self._db.execute(statement)


def mark_published(connection: Connection, ids: Sequence[int], now: datetime) -> None:
    statement = update(outbox).where(outbox.c.id.in_(ids)).values(published_at=now)
    connection.execute(statement)
