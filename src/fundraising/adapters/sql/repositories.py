"""Repositories over one connection and its transaction; they never commit."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import asdict
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    CursorResult,
    Update,
    and_,
    bindparam,
    case,
    delete,
    distinct,
    exists,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError

from fundraising.adapters.sql import rows
from fundraising.adapters.sql.errors import is_duplicate_key, violated_constraint
from fundraising.adapters.sql.tables import (
    collect_members,
    collect_updates,
    collects,
    leases,
    outbox,
    payments,
    refresh_tokens,
    users,
)
from fundraising.adapters.sql.types import Kopecks, UTCDateTime
from fundraising.adapters.task_codec import decode_task, encode_task
from fundraising.application.ports.security import RefreshToken
from fundraising.application.ports.tasks import OutboxMessage, Task
from fundraising.application.ports.unit_of_work import (
    CollectClosed,
    DeadLetter,
    DuplicateTransaction,
    DuplicateUser,
    OutboxSummary,
    RefundedBatch,
)
from fundraising.domain.collect import ENDING_SOON_WITHIN, Collect, Milestone
from fundraising.domain.membership import Member, Role, Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment, PaymentStatus
from fundraising.domain.update import CollectUpdate
from fundraising.domain.user import User, username_key

_VISIBILITY = select(collects.c.visibility).where(collects.c.id == bindparam("collect_id"))
_COUNT_DONATION = (
    update(collects)
    .where(collects.c.id == bindparam("collect_id"), collects.c.is_active.is_(True))
    .where(collects.c.blocked_at.is_(None), collects.c.cancelled_at.is_(None))
    .where(exists().where(users.c.id == bindparam("payer_id"), users.c.is_active.is_(True)))
    .where(
        or_(
            collects.c.end_date.is_(None),
            collects.c.end_date > bindparam("now", type_=UTCDateTime),
        )
    )
    .values(
        collected_kopecks=collects.c.collected_kopecks + bindparam("amount", type_=Kopecks),
        donations_count=collects.c.donations_count + 1,
    )
)
_MILESTONE_COLUMNS = {
    Milestone.GOAL_REACHED: collects.c.goal_reached_mailed_at,
    Milestone.ENDING_SOON: collects.c.ending_soon_mailed_at,
    Milestone.ENDED: collects.c.ended_mailed_at,
}


def _donors_by(step: int) -> Update:
    """Add `step` to a collect's donors if the payer has no completed payment to it (run
    after the donation is counted but before its row exists, or after a refund)."""
    return (
        update(collects)
        .where(collects.c.id == bindparam("collect_id"))
        .where(
            ~exists().where(
                payments.c.collect_id == bindparam("collect_id"),
                payments.c.payer_id == bindparam("payer_id"),
                payments.c.status == PaymentStatus.COMPLETED.value,
            )
        )
        .values(donors_count=collects.c.donors_count + step)
    )


_COUNT_NEW_DONOR = _donors_by(1)
_UNCOUNT_DONOR = _donors_by(-1)


def recount(collect_ids: Sequence[int]) -> Update:
    """The counters of these collects, computed again from their completed payments."""
    p = payments.c
    completed = and_(p.collect_id == collects.c.id, p.status == PaymentStatus.COMPLETED.value)

    def of_payments(expression: Any) -> Any:
        return select(expression).where(completed).scalar_subquery()

    return (
        update(collects)
        .where(collects.c.id.in_(collect_ids))
        .values(
            collected_kopecks=func.coalesce(
                of_payments(func.sum(p.amount_kopecks, type_=BigInteger)), 0
            ),
            donations_count=of_payments(func.count()),
            donors_count=of_payments(func.count(distinct(p.payer_id))),
        )
    )


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


def _duplicate_user(error: IntegrityError) -> DuplicateUser:
    if not is_duplicate_key(error):
        raise error
    field = "email" if violated_constraint(error).endswith("email") else "username"
    return DuplicateUser(field)


class SqlUsers:
    def __init__(self, connection: Connection, revoked: Callable[[int, datetime], None]) -> None:
        self._db = connection
        self._revoked = revoked

    def add(self, user: User) -> User:
        try:
            result = self._db.execute(insert(users), rows.user_values(user))
        except IntegrityError as error:
            raise _duplicate_user(error) from None
        user.id = new_id(result)
        return user

    def save(self, user: User) -> None:
        assert user.id is not None
        statement = update(users).where(users.c.id == user.id).values(rows.user_values(user))
        try:
            self._db.execute(statement)
        except IntegrityError as error:
            raise _duplicate_user(error) from None
        if user.revoked_now and user.tokens_valid_after is not None:
            self._revoked(user.id, user.tokens_valid_after)

    def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        query = select(users).where(users.c.id == user_id)
        row = self._db.execute(query.with_for_update() if for_update else query).mappings().first()
        return rows.user_of(row) if row else None

    def existing(self, user_ids: Collection[int]) -> frozenset[int]:
        if not user_ids:
            return frozenset()
        return frozenset(self._db.scalars(select(users.c.id).where(users.c.id.in_(user_ids))))

    def by_email(self, email: str) -> User | None:
        row = self._db.execute(select(users).where(users.c.email == email)).mappings().first()
        return rows.user_of(row) if row else None

    def by_login(self, username: str) -> User | None:
        for column, value in (
            (users.c.username, username),
            (users.c.username_key, username_key(username)),
        ):
            row = self._db.execute(select(users).where(column == value)).mappings().first()
            if row:
                return rows.user_of(row)
        return None

    def taken(self, username: str, email: str) -> str | None:
        u, same_name = users.c, users.c.username_key == username_key(username)
        query = select(same_name, u.email == email).where(or_(same_name, u.email == email))
        found = self._db.execute(query.limit(2)).all()
        if any(same_name for same_name, _ in found):
            return "username"
        return "email" if found else None


class SqlCollects:
    def __init__(self, connection: Connection, changed: Callable[[int], None]) -> None:
        self._db = connection
        self._changed = changed

    def add(self, collect: Collect) -> Collect:
        result = self._db.execute(insert(collects), collect_row(collect))
        collect.id = new_id(result)
        self._changed(collect.id)
        return collect

    def get(self, collect_id: int, *, for_update: bool = False) -> Collect | None:
        query = select(collects).where(collects.c.id == collect_id)
        if for_update:  # (SQLite has no row locks: its writers are serialized anyway)
            query = query.with_for_update()
        row = self._db.execute(query).mappings().first()
        return rows.collect_of(row) if row else None

    def visibility(self, collect_id: int) -> Visibility | None:
        found = self._db.scalar(_VISIBILITY, {"collect_id": collect_id})
        return None if found is None else Visibility(found)

    def save(self, collect: Collect) -> None:
        assert collect.id is not None
        statement = update(collects).where(collects.c.id == collect.id)
        self._db.execute(statement.values(rows.collect_values(collect)))
        self._changed(collect.id)

    def delete(self, collect_id: int) -> None:
        self._db.execute(delete(collects).where(collects.c.id == collect_id))
        self._changed(collect_id)

    def has_payments(self, collect_id: int) -> bool:
        query = select(exists().where(payments.c.collect_id == collect_id))
        return bool(self._db.execute(query).scalar())

    def close_open_of(self, author_id: int, *, now: datetime) -> None:
        c = collects.c
        mine = and_(c.author_id == author_id, c.is_active.is_(True))
        closing = list(self._db.scalars(select(c.id).where(mine)))
        if closing:
            closed = (
                update(collects).where(c.id.in_(closing)).values(is_active=False, updated_at=now)
            )
            self._db.execute(closed)
        for collect_id in closing:
            self._changed(collect_id)

    def recount(self, collect_ids: Sequence[int]) -> None:
        self._db.execute(recount(collect_ids))
        for collect_id in collect_ids:
            self._changed(collect_id)

    def milestones_due(self, now: datetime, *, limit: int) -> Sequence[tuple[int, Milestone]]:
        c = collects.c
        running = and_(c.blocked_at.is_(None), c.cancelled_at.is_(None))
        open_now = and_(running, c.is_active.is_(True), or_(c.end_date.is_(None), c.end_date > now))
        conditions = {
            Milestone.GOAL_REACHED: and_(
                running, c.goal_kopecks.is_not(None), c.collected_kopecks >= c.goal_kopecks
            ),
            Milestone.ENDING_SOON: and_(open_now, c.end_date <= now + ENDING_SOON_WITHIN),
            Milestone.ENDED: and_(running, or_(c.is_active.is_(False), c.end_date <= now)),
        }
        due: list[tuple[int, Milestone]] = []
        for milestone, reached in conditions.items():
            column = _MILESTONE_COLUMNS[milestone]
            query = select(c.id).where(reached, column.is_(None)).order_by(c.id).limit(limit)
            due += [(collect_id, milestone) for collect_id in self._db.scalars(query)]
        return due

    def claim_milestone(self, collect_id: int, milestone: Milestone, *, now: datetime) -> bool:
        column = _MILESTONE_COLUMNS[milestone]
        claimed = self._db.execute(
            update(collects)
            .where(collects.c.id == collect_id, column.is_(None))
            .values({column: now})
        )
        return claimed.rowcount == 1


class SqlPayments:
    def __init__(self, connection: Connection, changed: Callable[[int], None]) -> None:
        self._db = connection
        self._changed = changed

    def add_donation(self, payment: Payment, *, now: datetime) -> Payment:
        # The collect's row is locked first (by the increment), then the payment inserted: the
        # reverse order takes a shared lock (the foreign-key check) before the exclusive one and
        # deadlocks under concurrent donations.
        counted = self._db.execute(
            _COUNT_DONATION,
            {
                "collect_id": payment.collect_id,
                "payer_id": payment.payer_id,
                "amount": payment.amount,
                "now": now,
            },
        )
        if counted.rowcount != 1:
            raise CollectClosed
        # A statement of its own, run holding the row lock: its read sees every donation
        # committed before ours (READ COMMITTED), so a payer is counted once.
        self._db.execute(
            _COUNT_NEW_DONOR, {"collect_id": payment.collect_id, "payer_id": payment.payer_id}
        )
        try:
            result = self._db.execute(insert(payments), rows.payment_values(payment))
        except IntegrityError as error:
            if is_duplicate_key(error):
                raise DuplicateTransaction from None
            raise
        payment.id = new_id(result)
        self._changed(payment.collect_id)
        return payment

    def refund(self, payment: Payment) -> bool:
        p, c = payments.c, collects.c
        assert payment.id is not None
        refunded = self._db.execute(
            update(payments)
            .where(p.id == payment.id, p.status == PaymentStatus.COMPLETED.value)
            .values(
                status=payment.status.value,
                refunded_at=payment.refunded_at,
                refund_reason=payment.refund_reason,
            )
        )
        if refunded.rowcount != 1:
            return False
        self._db.execute(
            update(collects)
            .where(c.id == payment.collect_id)
            .values(
                collected_kopecks=c.collected_kopecks
                - bindparam("amount", payment.amount, type_=Kopecks),
                donations_count=c.donations_count - 1,
            )
        )
        if payment.payer_id is not None:  # a gone payer is not counted among the donors
            self._db.execute(
                _UNCOUNT_DONOR, {"collect_id": payment.collect_id, "payer_id": payment.payer_id}
            )
        self._changed(payment.collect_id)
        return True

    def refund_oldest(
        self, collect_id: int, *, limit: int, now: datetime, reason: str
    ) -> RefundedBatch:
        p, c = payments.c, collects.c
        completed = and_(p.collect_id == collect_id, p.status == PaymentStatus.COMPLETED.value)
        chosen = self._db.execute(
            select(p.id, p.payer_id, p.amount_kopecks)
            .where(completed)
            .order_by(p.payment_date, p.id)
            .limit(limit)
        ).all()
        if not chosen:
            return RefundedBatch((), (), Money.zero())
        ids = [row.id for row in chosen]
        self._db.execute(
            update(payments)
            .where(p.id.in_(ids))
            .values(status=PaymentStatus.REFUNDED.value, refunded_at=now, refund_reason=reason)
        )
        payers = {row.payer_id for row in chosen if row.payer_id is not None}
        done = [payer for payer in sorted(payers) if not self._pays(collect_id, payer)]
        total = sum((row.amount_kopecks for row in chosen), Money.zero())
        self._db.execute(
            update(collects)
            .where(c.id == collect_id)
            .values(
                collected_kopecks=c.collected_kopecks - bindparam("total", type_=Kopecks),
                donations_count=c.donations_count - len(ids),
                donors_count=c.donors_count - len(done),
            ),
            {"total": total},
        )
        self._changed(collect_id)
        return RefundedBatch(tuple(ids), tuple(done), total)

    def _pays(self, collect_id: int, payer_id: int) -> bool:
        """Whether the payer still has a completed payment to the collect: one index probe,
        however many payments they made (a scan of them all took seconds at a million)."""
        p = payments.c
        query = select(p.id).where(
            p.collect_id == collect_id,
            p.payer_id == payer_id,
            p.status == PaymentStatus.COMPLETED.value,
        )
        return self._db.execute(query.limit(1)).first() is not None

    def get(self, payment_id: int) -> Payment | None:
        query = select(payments).where(payments.c.id == payment_id)
        row = self._db.execute(query).mappings().first()
        return rows.payment_of(row) if row else None

    def many(self, payment_ids: Collection[int]) -> Sequence[Payment]:
        query = select(payments).where(payments.c.id.in_(payment_ids)).order_by(payments.c.id)
        return [rows.payment_of(row) for row in self._db.execute(query).mappings()]

    def by_transaction_id(self, transaction_id: str) -> Payment | None:
        query = select(payments).where(payments.c.transaction_id == transaction_id)
        row = self._db.execute(query).mappings().first()
        return rows.payment_of(row) if row else None


class SqlMembers:
    def __init__(self, connection: Connection, changed: Callable[[int], None]) -> None:
        self._db = connection
        self._changed = changed

    def add(self, member: Member) -> bool:
        if self.get(member.collect_id, member.user_id) is not None:
            return False  # the usual case for a donor: no failed insert to undo
        try:
            with self._db.begin_nested():  # a racing add's key undoes this insert only
                self._db.execute(insert(collect_members), rows.member_values(member))
        except IntegrityError as error:
            if is_duplicate_key(error):
                return False
            raise
        self._changed(member.collect_id)
        return True

    def get(self, collect_id: int, user_id: int) -> Member | None:
        m = collect_members.c
        query = select(collect_members).where(m.collect_id == collect_id, m.user_id == user_id)
        row = self._db.execute(query).mappings().first()
        return rows.member_of(row) if row else None

    def save(self, member: Member) -> None:
        m = collect_members.c
        self._db.execute(
            update(collect_members)
            .where(m.collect_id == member.collect_id, m.user_id == member.user_id)
            .values(role=member.role.value, last_reminded_at=member.last_reminded_at)
        )
        self._changed(member.collect_id)

    def remove(self, collect_id: int, user_id: int) -> None:
        m = collect_members.c
        self._db.execute(
            delete(collect_members).where(m.collect_id == collect_id, m.user_id == user_id)
        )
        self._changed(collect_id)

    def ids(self, collect_id: int) -> frozenset[int]:
        m = collect_members.c
        return frozenset(self._db.scalars(select(m.user_id).where(m.collect_id == collect_id)))

    def unpaid(self, collect_id: int) -> Sequence[Member]:
        m, p, u = collect_members.c, payments.c, users.c
        paid = exists().where(
            p.collect_id == collect_id,
            p.payer_id == m.user_id,
            p.status == PaymentStatus.COMPLETED.value,
        )
        query = (
            select(collect_members)
            .join(users, u.id == m.user_id)
            .where(m.collect_id == collect_id, u.is_active.is_(True), u.deleted_at.is_(None), ~paid)
            .order_by(m.joined_at, m.user_id)
        )
        return [rows.member_of(row) for row in self._db.execute(query).mappings()]

    def running(self, collect_id: int) -> Sequence[int]:
        m, u = collect_members.c, users.c
        query = (
            select(m.user_id)
            .join(users, u.id == m.user_id)
            .where(
                m.collect_id == collect_id,
                m.role.in_([Role.AUTHOR.value, Role.ORGANISER.value]),
                u.is_active.is_(True),
                u.deleted_at.is_(None),
            )
            .order_by(m.user_id)
        )
        return list(self._db.scalars(query))

    def paying(self, collect_id: int) -> Sequence[int]:
        m, p, u = collect_members.c, payments.c, users.c
        paid = exists().where(
            p.collect_id == collect_id,
            p.payer_id == m.user_id,
            p.status == PaymentStatus.COMPLETED.value,
        )
        query = (
            select(m.user_id)
            .join(users, u.id == m.user_id)
            .where(m.collect_id == collect_id, u.is_active.is_(True), u.deleted_at.is_(None), paid)
            .order_by(m.user_id)
        )
        return list(self._db.scalars(query))


class SqlUpdates:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, update: CollectUpdate) -> CollectUpdate:
        values = {
            "collect_id": update.collect_id,
            "writer_id": update.writer_id,
            "text": update.text,
            "created_at": update.created_at,
        }
        update.id = new_id(self._db.execute(insert(collect_updates), values))
        return update

    def get(self, update_id: int) -> CollectUpdate | None:
        query = select(collect_updates).where(collect_updates.c.id == update_id)
        row = self._db.execute(query).mappings().first()
        if row is None:
            return None
        return CollectUpdate(
            row["id"], row["collect_id"], row["writer_id"], row["text"], row["created_at"]
        )

    def delete(self, update_id: int) -> None:
        self._db.execute(delete(collect_updates).where(collect_updates.c.id == update_id))


class SqlRefreshTokens:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, issued: RefreshToken) -> None:
        self._db.execute(insert(refresh_tokens), asdict(issued))

    def use(self, jti: str, *, now: datetime) -> bool:
        r = refresh_tokens.c
        used = self._db.execute(
            update(refresh_tokens)
            .where(r.jti == jti, r.used_at.is_(None), r.revoked_at.is_(None), r.expires_at > now)
            .values(used_at=now)
        )
        return used.rowcount == 1

    def is_live(self, jti: str, *, now: datetime) -> bool:
        r = refresh_tokens.c
        query = select(r.jti).where(
            r.jti == jti, r.used_at.is_(None), r.revoked_at.is_(None), r.expires_at > now
        )
        return self._db.execute(query).first() is not None

    def revoke_family(self, family: str, *, now: datetime) -> None:
        r = refresh_tokens.c
        self._db.execute(
            update(refresh_tokens)
            .where(r.family == family, r.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def purge(self, *, expired_before: datetime) -> int:
        expired = refresh_tokens.c.expires_at < expired_before
        return int(self._db.execute(delete(refresh_tokens).where(expired)).rowcount)


class SqlOutbox:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, task: Task, *, now: datetime) -> OutboxMessage:
        values = {"task": encode_task(task), "created_at": now}
        result = self._db.execute(insert(outbox), values)
        return OutboxMessage(new_id(result), task)

    def due(
        self, *, created_before: datetime, relayed_before: datetime, now: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        o = outbox.c
        query = (
            select(o.id, o.task)
            .where(o.finished_at.is_(None), o.dead_at.is_(None), o.created_at < created_before)
            .where(or_(o.relayed_at.is_(None), o.relayed_at < relayed_before))
            .where(or_(o.claimed_until.is_(None), o.claimed_until <= now))
            .order_by(o.id)
            .limit(limit)
        )
        return [OutboxMessage(row.id, decode_task(row.task)) for row in self._db.execute(query)]

    def mark_relayed(self, ids: Sequence[int], *, now: datetime) -> None:
        self._db.execute(update(outbox).where(outbox.c.id.in_(ids)).values(relayed_at=now))

    def claim(self, message_id: int, *, now: datetime, lease_seconds: int) -> bool:
        o = outbox.c
        claimed = self._db.execute(
            update(outbox)
            .where(o.id == message_id, o.finished_at.is_(None), o.dead_at.is_(None))
            .where(or_(o.claimed_until.is_(None), o.claimed_until <= now))
            .values(claimed_until=now + timedelta(seconds=lease_seconds))
        )
        return claimed.rowcount == 1

    def held_until(self, message_id: int, *, now: datetime) -> datetime | None:
        o = outbox.c
        query = select(o.claimed_until).where(
            o.id == message_id,
            o.finished_at.is_(None),
            o.dead_at.is_(None),
            o.claimed_until > now,
        )
        until: datetime | None = self._db.execute(query).scalar_one_or_none()
        return until

    def release(self, message_id: int) -> None:
        self.hold(message_id, until=None)

    def hold(self, message_id: int, *, until: datetime | None) -> None:
        statement = update(outbox).where(outbox.c.id == message_id).values(claimed_until=until)
        self._db.execute(statement)

    def finish(self, message_id: int, *, now: datetime) -> None:
        statement = update(outbox).where(outbox.c.id == message_id).values(finished_at=now)
        self._db.execute(statement)

    def bury(self, message_id: int, *, now: datetime) -> None:
        statement = update(outbox).where(outbox.c.id == message_id).values(dead_at=now)
        self._db.execute(statement)

    def purge(self, *, finished_before: datetime) -> int:
        ended = outbox.c.finished_at < finished_before
        return int(self._db.execute(delete(outbox).where(ended)).rowcount)

    def summary(self, *, now: datetime) -> OutboxSummary:
        o = outbox.c
        undone = and_(o.finished_at.is_(None), o.dead_at.is_(None))
        running = and_(undone, o.claimed_until > now)
        query = select(  # CASE, not FILTER (WHERE …): MariaDB has no FILTER clause
            func.count(case((undone, 1))),
            func.min(case((undone, o.created_at))),
            func.count(case((running, 1))),
            func.count(case((o.dead_at.is_not(None), 1))),
        )
        waiting, oldest, held, dead = self._db.execute(query).one()
        return OutboxSummary(int(waiting), oldest, int(held), int(dead))

    def dead_letters(self, *, limit: int) -> Sequence[DeadLetter]:
        o = outbox.c
        query = select(o.id, o.task, o.created_at, o.dead_at).where(o.dead_at.is_not(None))
        found = self._db.execute(query.order_by(o.id).limit(limit))
        return [
            DeadLetter(OutboxMessage(row.id, decode_task(row.task)), row.created_at, row.dead_at)
            for row in found
        ]

    def revive(self, ids: Collection[int] | None) -> int:
        revived = update(outbox).where(self._dead(ids))
        values = {"dead_at": None, "claimed_until": None, "relayed_at": None}
        return int(self._db.execute(revived.values(values)).rowcount)

    def drop(self, ids: Collection[int] | None) -> int:
        return int(self._db.execute(delete(outbox).where(self._dead(ids))).rowcount)

    @staticmethod
    def _dead(ids: Collection[int] | None) -> ColumnElement[bool]:
        dead = outbox.c.dead_at.is_not(None)
        return dead if ids is None else and_(dead, outbox.c.id.in_(ids))


class SqlLeases:
    """Leases timed by the database's clock: the hosts' clocks may disagree, it cannot."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def take(self, name: str, holder: str, *, seconds: float) -> bool:
        now = self._database_now()
        until = now + timedelta(seconds=seconds)
        renewed = self._db.execute(
            update(leases)
            .where(leases.c.name == name)
            .where(or_(leases.c.holder == holder, leases.c.expires_at <= now))
            .values(holder=holder, expires_at=until)
        )
        if renewed.rowcount == 1:
            return True
        try:
            with self._db.begin_nested():  # a first holder; another may insert it meanwhile
                values = {"name": name, "holder": holder, "expires_at": until}
                self._db.execute(insert(leases), values)
        except IntegrityError:
            return False
        return True

    def release(self, name: str, holder: str) -> None:
        self._db.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))

    def _database_now(self) -> datetime:
        if self._db.dialect.name == "mysql":
            clock = func.utc_timestamp(6)
        else:
            clock = func.strftime("%Y-%m-%d %H:%M:%f", "now")
        now: datetime = self._db.execute(select(type_coerce(clock, UTCDateTime))).scalar_one()
        return now
