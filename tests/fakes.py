"""In-memory fakes of every port: written once, shared by the unit tests."""

from __future__ import annotations

import copy
import io
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, BinaryIO, Self

from attrs import define, evolve, field

from fundraising.application.errors import AuthenticationFailed, Unavailable
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.files import InvalidImage
from fundraising.application.ports.mail import Notification
from fundraising.application.ports.queries import (
    FEED_IN_DETAIL,
    CollectFilter,
    Drift,
    Totals,
)
from fundraising.application.ports.security import (
    IssuedTokens,
    RefreshToken,
    TokenClaims,
    TokenPair,
    TokenType,
)
from fundraising.application.ports.tasks import OutboxMessage, Task, TaskQueueUnavailable
from fundraising.application.ports.unit_of_work import (
    CollectClosed,
    DeadLetter,
    DuplicateTransaction,
    DuplicateUser,
    OutboxSummary,
    RefundedBatch,
)
from fundraising.application.unit_of_work import AfterCommit
from fundraising.application.views import (
    CollectDetail,
    CollectView,
    DeliveryView,
    ExportedPayment,
    FeedEntry,
    Page,
    ParticipantView,
    PaymentView,
    UpdateView,
    WebhookView,
)
from fundraising.domain.collect import ENDING_SOON_WITHIN, Collect, Milestone
from fundraising.domain.errors import InvalidValue
from fundraising.domain.membership import Access, Member, Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment, PaymentStatus
from fundraising.domain.update import CollectUpdate
from fundraising.domain.user import DELETED_USER, AccountToken, User, username_key
from fundraising.domain.webhook import Delivery, DeliveryStatus, Event, EventType, Webhook

T = Any


@define
class OutboxRow:
    message: OutboxMessage
    created_at: datetime
    relayed_at: datetime | None = None
    claimed_until: datetime | None = None
    finished_at: datetime | None = None
    dead_at: datetime | None = None


@define
class RefreshRow:
    token: RefreshToken
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.token.expires_at > now


@define
class FakeDatabase:
    """The rows behind the fake repositories and queries."""

    users: dict[int, User] = field(factory=dict)
    collects: dict[int, Collect] = field(factory=dict)
    payments: dict[int, Payment] = field(factory=dict)
    outbox: dict[int, OutboxRow] = field(factory=dict)
    refresh_tokens: dict[str, RefreshRow] = field(factory=dict)
    members: dict[tuple[int, int], Member] = field(factory=dict)
    updates: dict[int, CollectUpdate] = field(factory=dict)
    milestones: set[tuple[int, Milestone]] = field(factory=set)
    webhooks: dict[int, Webhook] = field(factory=dict)
    deliveries: dict[int, Delivery] = field(factory=dict)
    leases: dict[str, tuple[str, datetime]] = field(factory=dict)
    ids: itertools.count[int] = field(factory=lambda: itertools.count(1))
    clock: FixedClock | None = None

    _TABLES = (
        "users",
        "collects",
        "payments",
        "outbox",
        "refresh_tokens",
        "members",
        "updates",
        "milestones",
        "webhooks",
        "deliveries",
        "leases",
    )

    def snapshot(self) -> tuple[Any, ...]:
        return copy.deepcopy(tuple(getattr(self, name) for name in self._TABLES))

    def restore(self, state: tuple[Any, ...]) -> None:
        for name, table in zip(self._TABLES, state, strict=True):
            setattr(self, name, table)

    def member_ids(self, collect_id: int) -> frozenset[int]:
        return frozenset(user for collect, user in self.members if collect == collect_id)

    def completed_payments(self, collect_id: int) -> list[Payment]:
        return [
            p
            for p in self.payments.values()
            if p.collect_id == collect_id and p.status is PaymentStatus.COMPLETED
        ]


class FakeUsers:
    def __init__(self, db: FakeDatabase, revoked: Callable[[int, datetime], None]) -> None:
        self.db = db
        self.revoked = revoked

    def add(self, user: User) -> User:
        if taken := self.taken(user.username, user.email):
            raise DuplicateUser(taken)
        user = evolve(user, id=next(self.db.ids))
        self.db.users[user.id] = copy.deepcopy(user)  # type: ignore[index]
        return user

    def save(self, user: User) -> None:
        assert user.id is not None
        others = [u for u in self.db.users.values() if u.id != user.id]
        if any(u.email == user.email for u in others):
            raise DuplicateUser("email")
        self.db.users[user.id] = copy.deepcopy(evolve(user, revoked_now=False))
        if user.revoked_now and user.tokens_valid_after is not None:
            self.revoked(user.id, user.tokens_valid_after)

    def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        return copy.deepcopy(self.db.users.get(user_id))

    def existing(self, user_ids: Collection[int]) -> frozenset[int]:
        return frozenset(user_ids) & self.db.users.keys()

    def by_email(self, email: str) -> User | None:
        found = [u for u in self.db.users.values() if u.email == email]
        return copy.deepcopy(found[0]) if found else None

    def by_login(self, username: str) -> User | None:
        exact = [u for u in self.db.users.values() if u.username == username]
        same = [
            u for u in self.db.users.values() if username_key(u.username) == username_key(username)
        ]
        found = exact or same
        return copy.deepcopy(found[0]) if found else None

    def taken(self, username: str, email: str) -> str | None:
        users = self.db.users.values()
        if any(username_key(u.username) == username_key(username) for u in users):
            return "username"
        return "email" if any(u.email == email for u in users) else None


class FakeCollects:
    def __init__(self, db: FakeDatabase, changed: Callable[[int], None]) -> None:
        self.db = db
        self.changed = changed

    def add(self, collect: Collect) -> Collect:
        collect.id = next(self.db.ids)
        self.db.collects[collect.id] = copy.deepcopy(collect)
        self.changed(collect.id)
        return collect

    def get(self, collect_id: int, *, for_update: bool = False) -> Collect | None:
        return copy.deepcopy(self.db.collects.get(collect_id))

    def visibility(self, collect_id: int) -> Visibility | None:
        found = self.db.collects.get(collect_id)
        return None if found is None else found.visibility

    def save(self, collect: Collect) -> None:
        assert collect.id is not None
        stored = self.db.collects[collect.id]
        counters = (stored.collected, stored.donations_count, stored.donors_count)
        saved = copy.deepcopy(collect)
        saved.collected, saved.donations_count, saved.donors_count = counters
        self.db.collects[collect.id] = saved
        self.changed(collect.id)

    def delete(self, collect_id: int) -> None:
        del self.db.collects[collect_id]
        self.changed(collect_id)

    def has_payments(self, collect_id: int) -> bool:
        return any(p.collect_id == collect_id for p in self.db.payments.values())

    def close_open_of(self, author_id: int, *, now: datetime) -> None:
        for collect in self.db.collects.values():
            if collect.author_id == author_id and collect.is_active:
                assert collect.id is not None
                collect.deactivate(now)
                self.changed(collect.id)

    def recount(self, collect_ids: Sequence[int]) -> None:
        for collect_id in collect_ids:
            payments = self.db.completed_payments(collect_id)
            collect = self.db.collects[collect_id]
            collect.collected = sum((p.amount for p in payments), Money.zero())
            collect.donations_count = len(payments)
            collect.donors_count = len({p.payer_id for p in payments})
            self.changed(collect_id)

    def milestones_due(self, now: datetime, *, limit: int) -> Sequence[tuple[int, Milestone]]:
        due = []
        for collect in sorted(self.db.collects.values(), key=lambda c: c.id or 0):
            running = collect.blocked_at is None and collect.cancelled_at is None
            reached = {
                Milestone.GOAL_REACHED: collect.goal is not None
                and collect.collected >= collect.goal,
                Milestone.ENDING_SOON: collect.accepts_donations(now)
                and collect.end_date is not None
                and collect.end_date <= now + ENDING_SOON_WITHIN,
                Milestone.ENDED: not collect.is_active
                or (collect.end_date is not None and collect.end_date <= now),
            }
            due += [
                (collect.id or 0, milestone)
                for milestone, happened in reached.items()
                if running and happened and (collect.id, milestone) not in self.db.milestones
            ]
        return [d for m in Milestone for d in [d for d in due if d[1] is m][:limit]]

    def claim_milestone(self, collect_id: int, milestone: Milestone, *, now: datetime) -> bool:
        if (collect_id, milestone) in self.db.milestones:
            return False
        self.db.milestones.add((collect_id, milestone))
        return True


class FakePayments:
    def __init__(self, db: FakeDatabase, changed: Callable[[int], None]) -> None:
        self.db = db
        self.changed = changed

    def add_donation(self, payment: Payment, *, now: datetime) -> Payment:
        collect = self.db.collects.get(payment.collect_id)
        payer = self.db.users.get(payment.payer_id) if payment.payer_id else None
        if collect is None or not collect.accepts_donations(now) or not (payer and payer.is_active):
            raise CollectClosed
        first = not any(
            p.payer_id == payment.payer_id for p in self.db.completed_payments(collect.id)
        )  # type: ignore[arg-type]
        collect.collected += payment.amount
        collect.donations_count += 1
        collect.donors_count += first
        if any(p.transaction_id == payment.transaction_id for p in self.db.payments.values()):
            raise DuplicateTransaction
        payment = evolve(payment, id=next(self.db.ids))
        self.db.payments[payment.id] = copy.deepcopy(payment)  # type: ignore[index]
        self.changed(payment.collect_id)
        return payment

    def refund(self, payment: Payment) -> bool:
        stored = self.db.payments[payment.id]  # type: ignore[index]
        if stored.status is not PaymentStatus.COMPLETED:
            return False
        self.db.payments[payment.id] = copy.deepcopy(payment)  # type: ignore[index]
        collect = self.db.collects[payment.collect_id]
        collect.collected = Money(collect.collected.amount - payment.amount.amount)
        collect.donations_count -= 1
        payers = {p.payer_id for p in self.db.completed_payments(payment.collect_id)}
        if payment.payer_id is not None and payment.payer_id not in payers:
            collect.donors_count -= 1
        self.changed(payment.collect_id)
        return True

    def refund_oldest(
        self, collect_id: int, *, limit: int, now: datetime, reason: str
    ) -> RefundedBatch:
        chosen = sorted(
            self.db.completed_payments(collect_id), key=lambda p: (p.payment_date, p.id)
        )[:limit]
        for payment in chosen:
            refunded = copy.deepcopy(payment)
            refunded.refund(now, reason)
            self.refund(refunded)
        still = {p.payer_id for p in self.db.completed_payments(collect_id)}
        done = {p.payer_id for p in chosen if p.payer_id is not None} - still
        ids = tuple(payment.id for payment in chosen)
        total = sum((payment.amount for payment in chosen), Money.zero())
        return RefundedBatch(ids, tuple(sorted(done)), total)  # type: ignore[arg-type]

    def get(self, payment_id: int) -> Payment | None:
        return copy.deepcopy(self.db.payments.get(payment_id))

    def many(self, payment_ids: Collection[int]) -> Sequence[Payment]:
        return [copy.deepcopy(self.db.payments[i]) for i in sorted(payment_ids)]

    def by_transaction_id(self, transaction_id: str) -> Payment | None:
        found = [p for p in self.db.payments.values() if p.transaction_id == transaction_id]
        return copy.deepcopy(found[0]) if found else None

    def insert(self, payment: Payment) -> Payment:
        """Test helper: a payment row written directly, counters untouched (e.g. pending ones)."""
        payment = evolve(payment, id=next(self.db.ids))
        self.db.payments[payment.id] = payment  # type: ignore[index]
        return payment


class FakeRefreshTokens:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, issued: RefreshToken) -> None:
        self.db.refresh_tokens[issued.jti] = RefreshRow(issued)

    def use(self, jti: str, *, now: datetime) -> bool:
        row = self.db.refresh_tokens.get(jti)
        if row is None or not row.live(now):
            return False
        row.used_at = now
        return True

    def is_live(self, jti: str, *, now: datetime) -> bool:
        row = self.db.refresh_tokens.get(jti)
        return row is not None and row.live(now)

    def revoke_family(self, family: str, *, now: datetime) -> None:
        for row in self.db.refresh_tokens.values():
            if row.token.family == family and row.revoked_at is None:
                row.revoked_at = now

    def purge(self, *, expired_before: datetime) -> int:
        gone = [j for j, r in self.db.refresh_tokens.items() if r.token.expires_at < expired_before]
        for jti in gone:
            del self.db.refresh_tokens[jti]
        return len(gone)


class FakeOutbox:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, task: Task, *, now: datetime) -> OutboxMessage:
        message = OutboxMessage(next(self.db.ids), task)
        self.db.outbox[message.id] = OutboxRow(message, created_at=now)
        return message

    def due(
        self, *, created_before: datetime, relayed_before: datetime, now: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        rows = [
            row
            for row in self.db.outbox.values()
            if row.finished_at is None
            and row.dead_at is None
            and row.created_at < created_before
            and (row.relayed_at is None or row.relayed_at < relayed_before)
            and (row.claimed_until is None or row.claimed_until <= now)
        ]
        return [row.message for row in rows[:limit]]

    def mark_relayed(self, ids: Sequence[int], *, now: datetime) -> None:
        for message_id in ids:
            self.db.outbox[message_id].relayed_at = now

    def claim(self, message_id: int, *, now: datetime, lease_seconds: int) -> bool:
        row = self.db.outbox.get(message_id)
        if row is None or row.finished_at or row.dead_at:
            return False
        if row.claimed_until and row.claimed_until > now:
            return False
        row.claimed_until = now + timedelta(seconds=lease_seconds)
        return True

    def held_until(self, message_id: int, *, now: datetime) -> datetime | None:
        row = self.db.outbox.get(message_id)
        if row is None or row.finished_at or row.dead_at:
            return None
        return row.claimed_until if row.claimed_until and row.claimed_until > now else None

    def release(self, message_id: int) -> None:
        self.db.outbox[message_id].claimed_until = None

    def hold(self, message_id: int, *, until: datetime) -> None:
        self.db.outbox[message_id].claimed_until = until

    def finish(self, message_id: int, *, now: datetime) -> None:
        self.db.outbox[message_id].finished_at = now

    def bury(self, message_id: int, *, now: datetime) -> None:
        self.db.outbox[message_id].dead_at = now

    def purge(self, *, finished_before: datetime) -> int:
        ended = [
            message_id
            for message_id, row in self.db.outbox.items()
            if (row.finished_at or finished_before) < finished_before
        ]
        for message_id in ended:
            del self.db.outbox[message_id]
        return len(ended)

    def summary(self, *, now: datetime) -> OutboxSummary:
        undone = [r for r in self.db.outbox.values() if not r.finished_at and not r.dead_at]
        return OutboxSummary(
            waiting=len(undone),
            oldest_waiting_since=min((r.created_at for r in undone), default=None),
            running=sum(1 for r in undone if r.claimed_until and r.claimed_until > now),
            dead=sum(1 for r in self.db.outbox.values() if r.dead_at),
        )

    def dead_letters(self, *, limit: int) -> Sequence[DeadLetter]:
        dead = [r for _, r in sorted(self.db.outbox.items()) if r.dead_at]
        return [DeadLetter(r.message, r.created_at, r.dead_at) for r in dead[:limit]]  # type: ignore[arg-type]

    def revive(self, ids: Collection[int] | None) -> int:
        rows = self._dead(ids)
        for row in rows:
            row.dead_at = row.claimed_until = row.relayed_at = None
        return len(rows)

    def drop(self, ids: Collection[int] | None) -> int:
        rows = self._dead(ids)
        for row in rows:
            del self.db.outbox[row.message.id]
        return len(rows)

    def _dead(self, ids: Collection[int] | None) -> list[OutboxRow]:
        return [
            row
            for message_id, row in self.db.outbox.items()
            if row.dead_at and (ids is None or message_id in ids)
        ]


class FakeMembers:
    def __init__(self, db: FakeDatabase, changed: Callable[[int], None]) -> None:
        self.db = db
        self.changed = changed

    def add(self, member: Member) -> bool:
        key = (member.collect_id, member.user_id)
        if key in self.db.members:
            return False
        self.db.members[key] = copy.deepcopy(member)
        self.changed(member.collect_id)
        return True

    def get(self, collect_id: int, user_id: int) -> Member | None:
        return copy.deepcopy(self.db.members.get((collect_id, user_id)))

    def save(self, member: Member) -> None:
        key = (member.collect_id, member.user_id)
        if key in self.db.members:
            self.db.members[key] = copy.deepcopy(member)
        self.changed(member.collect_id)

    def remove(self, collect_id: int, user_id: int) -> None:
        self.db.members.pop((collect_id, user_id), None)
        self.changed(collect_id)

    def ids(self, collect_id: int) -> frozenset[int]:
        return self.db.member_ids(collect_id)

    def unpaid(self, collect_id: int) -> Sequence[Member]:
        payers = {p.payer_id for p in self.db.completed_payments(collect_id)}
        members = (
            m
            for (c, user_id), m in self.db.members.items()
            if c == collect_id
            and user_id not in payers
            and self.db.users[user_id].is_active
            and self.db.users[user_id].deleted_at is None
        )
        return [copy.deepcopy(m) for m in sorted(members, key=lambda m: (m.joined_at, m.user_id))]

    def running(self, collect_id: int) -> Sequence[int]:
        return sorted(
            user_id
            for (c, user_id), member in self.db.members.items()
            if c == collect_id
            and member.manages
            and self.db.users[user_id].is_active
            and self.db.users[user_id].deleted_at is None
        )

    def paying(self, collect_id: int) -> Sequence[int]:
        payers = {p.payer_id for p in self.db.completed_payments(collect_id)}
        return sorted(
            user_id
            for (c, user_id) in self.db.members
            if c == collect_id
            and user_id in payers
            and self.db.users[user_id].is_active
            and self.db.users[user_id].deleted_at is None
        )


class FakeUpdates:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, update: CollectUpdate) -> CollectUpdate:
        update = evolve(update, id=next(self.db.ids))
        self.db.updates[update.id] = copy.deepcopy(update)  # type: ignore[index]
        return update

    def get(self, update_id: int) -> CollectUpdate | None:
        return copy.deepcopy(self.db.updates.get(update_id))

    def delete(self, update_id: int) -> None:
        self.db.updates.pop(update_id, None)


class FakeWebhooks:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, webhook: Webhook) -> Webhook:
        webhook = evolve(webhook, id=next(self.db.ids))
        self.db.webhooks[webhook.id] = webhook  # type: ignore[index]
        return copy.deepcopy(webhook)

    def count_of(self, user_id: int, *, for_update: bool = False) -> int:
        return sum(1 for w in self.db.webhooks.values() if w.user_id == user_id)

    def get(self, webhook_id: int) -> Webhook | None:
        return copy.deepcopy(self.db.webhooks.get(webhook_id))

    def delete(self, webhook_id: int) -> None:
        self.db.webhooks.pop(webhook_id, None)
        for delivery_id, delivery in list(self.db.deliveries.items()):
            if delivery.webhook_id == webhook_id:
                del self.db.deliveries[delivery_id]

    def subscribers(self, collect_id: int, event: EventType) -> Sequence[int]:
        running = {
            user
            for (collect, user), member in self.db.members.items()
            if collect == collect_id and member.manages and self.db.users[user].is_active
        }
        return [
            webhook_id
            for webhook_id, w in sorted(self.db.webhooks.items())
            if w.user_id in running and w.collect_id in (None, collect_id) and w.wants(event)
        ]

    def add_deliveries(self, event: Event, webhook_ids: Sequence[int]) -> Sequence[int]:
        body = json.dumps(
            {
                "id": event.id,
                "type": event.type,
                "timestamp": event.occurred_at,
                "data": event.data,
            },
            default=str,
        ).encode()
        ids = []
        for webhook_id in webhook_ids:
            delivery_id = next(self.db.ids)
            self.db.deliveries[delivery_id] = Delivery(
                delivery_id,
                webhook_id,
                event.id,
                event.type,
                body,
                DeliveryStatus.PENDING,
                created_at=event.occurred_at,
            )
            ids.append(delivery_id)
        return ids

    def delivery(self, delivery_id: int) -> Delivery | None:
        return copy.deepcopy(self.db.deliveries.get(delivery_id))

    def save_delivery(self, delivery: Delivery) -> None:
        assert delivery.id is not None
        if delivery.id in self.db.deliveries:  # an UPDATE: nothing if deleted meanwhile
            self.db.deliveries[delivery.id] = copy.deepcopy(delivery)


class FakeWebhookQueries:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def of_user(self, user_id: int, page: PageRequest) -> Page[WebhookView]:
        found = [WebhookView.of(w) for w in self.db.webhooks.values() if w.user_id == user_id]
        return _paged(sorted(found, key=lambda w: -w.id), page)

    def deliveries(self, webhook_id: int, page: PageRequest) -> Page[DeliveryView]:
        found = [
            DeliveryView.of(d) for d in self.db.deliveries.values() if d.webhook_id == webhook_id
        ]
        return _paged(sorted(found, key=lambda d: -d.id), page)


def _paged(items: Sequence[T], page: PageRequest) -> Page[T]:
    return Page(items[page.offset : page.offset + page.size], len(items), page.number, page.size)


@define
class FakeWebhookTransport:
    """Receivers that answer `statuses` in turn (None: no answer), with `refused` hosts."""

    statuses: list[int | None] = field(factory=lambda: [200])
    refused: set[str] = field(factory=set)
    posts: list[tuple[str, bytes, dict[str, str]]] = field(factory=list)

    def refusal(self, url: str) -> str | None:
        host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
        return "Must not point at a private address." if host in self.refused else None

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int | None:
        self.posts.append((url, body, dict(headers)))
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


class FakeLeases:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def take(self, name: str, holder: str, *, seconds: float) -> bool:
        assert self.db.clock is not None, "the database's clock"
        now = self.db.clock.now()
        current = self.db.leases.get(name)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self.db.leases[name] = (holder, now + timedelta(seconds=seconds))
        return True

    def release(self, name: str, holder: str) -> None:
        if self.db.leases.get(name, ("",))[0] == holder:
            del self.db.leases[name]


class FakeUnitOfWork(AfterCommit):
    """Rolls back by restoring a snapshot of the fake database unless `commit()` was called."""

    def __init__(self, db: FakeDatabase, task_queue: FakeTaskQueue, cache: FakeCache) -> None:
        super().__init__(task_queue, cache)
        self.db = db
        self.users = FakeUsers(db, self.mark_revoked)
        self.collects = FakeCollects(db, self.mark_changed)
        self.payments = FakePayments(db, self.mark_changed)
        self.members = FakeMembers(db, self.mark_changed)
        self.updates = FakeUpdates(db)
        self.refresh_tokens = FakeRefreshTokens(db)
        self.outbox = FakeOutbox(db)
        self.webhooks = FakeWebhooks(db)
        self.leases = FakeLeases(db)
        self.committed = False
        self.fail_commit = False
        self.open = False

    def __enter__(self) -> Self:
        self._snapshot = self.db.snapshot()
        self.committed = False
        self.open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.open = False
        if not self.committed:
            self.db.restore(self._snapshot)
            self._discard_effects()

    def commit(self) -> None:
        if self.fail_commit:
            raise RuntimeError("commit failed")
        self._before_commit()
        self.committed = True
        self._run_effects()


class FakeCollectQueries:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def _view(self, collect: Collect) -> CollectView:
        assert collect.id is not None
        return CollectView.of(
            collect,
            author_name=self.db.users[collect.author_id].display_name,
            participants_count=len(self.db.member_ids(collect.id)),
        )

    def _feed(self, collect_id: int) -> list[FeedEntry]:
        payments = sorted(
            self.db.completed_payments(collect_id),
            key=lambda p: (p.payment_date, p.id),
            reverse=True,
        )
        return [
            FeedEntry.of(
                amount=p.amount,
                payment_date=p.payment_date,
                visibility=p.visibility,
                comment=p.comment,
                payer_name=self._name_of(p.payer_id),
            )
            for p in payments
        ]

    def _name_of(self, user_id: int | None) -> str | None:
        """A donor's name; none once the payer is gone (deleted or erased)."""
        user = self.db.users.get(user_id) if user_id else None
        return user.display_name if user and user.deleted_at is None else None

    def list(self, filters: CollectFilter, page: PageRequest) -> Page[CollectView]:
        collects = [
            c
            for c in self.db.collects.values()
            if (filters.occasion is None or c.occasion is filters.occasion)
            and (filters.is_active is None or c.is_active is filters.is_active)
            and (filters.author_id is None or c.author_id == filters.author_id)
            and (
                c.visibility is Visibility.PUBLIC
                if filters.member_id is None
                else filters.member_id in self.db.member_ids(c.id or 0)
            )
            and (
                filters.search is None
                or filters.search.lower() in (c.title + "\n" + c.description).lower()
            )
        ]
        key: Callable[[Collect], Any] = {
            "created_at": lambda c: (c.created_at, c.id),
            "end_date": lambda c: (c.end_date or datetime.max.replace(tzinfo=UTC), c.id),
            "collected_amount": lambda c: (c.collected, c.id),
        }[filters.ordering.field]
        collects.sort(key=key, reverse=filters.ordering.descending)
        chosen = collects[page.offset : page.offset + page.size]
        return Page([self._view(c) for c in chosen], len(collects), page.number, page.size)

    def detail(self, collect_id: int) -> CollectDetail | None:
        collect = self.db.collects.get(collect_id)
        if collect is None:
            return None
        return CollectDetail(self._view(collect), tuple(self._feed(collect_id)[:FEED_IN_DETAIL]))

    def feed(self, collect_id: int, page: PageRequest) -> Page[FeedEntry] | None:
        if collect_id not in self.db.collects:
            return None
        entries = self._feed(collect_id)
        chosen = entries[page.offset : page.offset + page.size]
        return Page(chosen, len(entries), page.number, page.size)

    def access(self, collect_id: int) -> Access | None:
        collect = self.db.collects.get(collect_id)
        return None if collect is None else collect.access(self.db.member_ids(collect_id))

    def access_and_detail(self, collect_id: int) -> tuple[Access, CollectDetail] | None:
        access, detail = self.access(collect_id), self.detail(collect_id)
        return None if access is None or detail is None else (access, detail)

    def participants(
        self, collect_id: int, paid: bool | None, page: PageRequest
    ) -> Page[ParticipantView]:
        members = sorted(
            (m for (c, _), m in self.db.members.items() if c == collect_id),
            key=lambda m: (m.joined_at, m.user_id),
        )
        entries = [
            entry
            for m in members
            if (entry := self.participant(collect_id, m.user_id)) is not None
            and (paid is None or (entry.paid_amount > Money.zero()) is paid)
        ]
        chosen = entries[page.offset : page.offset + page.size]
        return Page(chosen, len(entries), page.number, page.size)

    def exported(self, collect_id: int) -> Iterator[ExportedPayment]:
        kept = (PaymentStatus.COMPLETED, PaymentStatus.REFUNDED)
        found = sorted(
            (
                p
                for p in self.db.payments.values()
                if p.collect_id == collect_id and p.status in kept
            ),
            key=lambda p: (p.payment_date, p.id),
        )
        for p in found:
            payer = self.db.users.get(p.payer_id) if p.payer_id else None
            gone = payer is None or payer.deleted_at is not None
            yield ExportedPayment(
                id=p.id or 0,
                payment_date=p.payment_date,
                status=p.status,
                amount=p.amount,
                donor_username="" if gone or payer is None else payer.username,
                donor_name=DELETED_USER if gone or payer is None else payer.display_name,
                visibility=p.visibility,
                comment=p.comment,
                transaction_id=p.transaction_id,
            )

    def updates(self, collect_id: int, page: PageRequest) -> Page[UpdateView]:
        found = sorted(
            (u for u in self.db.updates.values() if u.collect_id == collect_id),
            key=lambda u: (u.created_at, u.id),
            reverse=True,
        )
        views = [
            UpdateView(u.id or 0, u.text, self.db.users[u.writer_id].display_name, u.created_at)
            for u in found[page.offset : page.offset + page.size]
        ]
        return Page(views, len(found), page.number, page.size)

    def participant(self, collect_id: int, user_id: int) -> ParticipantView | None:
        member = self.db.members.get((collect_id, user_id))
        if member is None:
            return None
        paid = [p for p in self.db.completed_payments(collect_id) if p.payer_id == user_id]
        return ParticipantView(
            user=user_id,
            name=self.db.users[user_id].display_name,
            role=member.role,
            joined_at=member.joined_at,
            paid_amount=sum((p.amount for p in paid), Money.zero()),
            donations_count=len(paid),
            last_payment_at=max((p.payment_date for p in paid), default=None),
            last_reminded_at=member.last_reminded_at,
        )


class FakePaymentQueries:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def of_payer(self, payer_id: int, page: PageRequest) -> Page[PaymentView]:
        mine = sorted(
            (p for p in self.db.payments.values() if p.payer_id == payer_id),
            key=lambda p: (p.payment_date, p.id),
            reverse=True,
        )
        chosen = mine[page.offset : page.offset + page.size]
        return Page([PaymentView.of(p) for p in chosen], len(mine), page.number, page.size)


class FakeTotalsAudit:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def _actual(self, collect_id: int) -> Totals:
        payments = self.db.completed_payments(collect_id)
        total = sum((p.amount for p in payments), Money.zero())
        return Totals(total, len(payments), len({p.payer_id for p in payments}))

    def drifts(self) -> Sequence[Drift]:
        drifts = []
        for collect in self.db.collects.values():
            assert collect.id is not None
            stored = Totals(collect.collected, collect.donations_count, collect.donors_count)
            actual = self._actual(collect.id)
            if stored != actual:
                drifts.append(Drift(collect.id, stored, actual))
        return drifts


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


class FakeCache:
    def __init__(self) -> None:
        self.changed: list[int] = []
        self.revoked: dict[int, datetime] = {}
        self.available = True

    def collect_changed(self, collect_id: int) -> None:
        self.changed.append(collect_id)

    def tokens_revoked(self, user_id: int, before: datetime) -> None:
        if not self.available:
            raise Unavailable("cache down")
        self.revoked[user_id] = before


class FakeLinks:
    def collect(self, collect_id: int) -> str:
        return f"http://front/collects/{collect_id}"

    def media(self) -> str:
        return "http://test/media/"

    def activation(self, uid: str, token: str) -> str:
        return f"http://front/activate/{uid}/{token}"

    def share(self, collect_id: int, key: str) -> str:
        return f"http://front/collects/{collect_id}?key={key}"

    def password_reset(self, uid: str, token: str) -> str:
        return f"http://front/password/reset/confirm/{uid}/{token}"


class FakeTaskQueue:
    def __init__(self) -> None:
        self.published: list[OutboxMessage] = []
        self.available = True

    def publish(self, message: OutboxMessage) -> None:
        if not self.available:
            raise TaskQueueUnavailable("broker down")
        self.published.append(message)

    @property
    def tasks(self) -> list[Task]:
        return [message.task for message in self.published]


class FakeFileStorage:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self._names = itertools.count(1)

    def save(self, data: BinaryIO, *, folder: str, suffix: str, name: str | None = None) -> str:
        key = f"{folder}/{name or next(self._names)}{suffix}"
        self.files[key] = data.read()
        return key

    def read(self, key: str) -> bytes:
        try:
            return self.files[key]
        except KeyError:
            raise FileNotFoundError(key) from None

    def delete(self, key: str) -> None:
        self.files.pop(key, None)

    def exists(self, key: str) -> bool:
        return key in self.files


class FakeImages:
    """Accepts data starting with b"IMG"; the cover of `data` is b"COVER:" + data."""

    def check(self, data: BinaryIO) -> None:
        if not data.read(3) == b"IMG":
            raise InvalidImage("Upload a valid JPEG, PNG or WebP image.")

    def make_cover(self, data: bytes) -> bytes:
        if not data.startswith(b"IMG"):
            raise InvalidImage("not an image")
        return b"COVER:" + data


def image_upload(content: bytes = b"IMG-picture") -> BinaryIO:
    return io.BytesIO(content)


class FakeHasher:
    def __init__(self) -> None:
        self.dummy_calls = 0

    def hash(self, password: str) -> str:
        return f"hashed:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"hashed:{password}"

    def dummy_verify(self) -> None:
        self.dummy_calls += 1


class FakeTokens:
    """Readable tokens: `access:7:3` (kind, user, serial); each issued one remembers its claims.
    A well-formed token never issued (`access:7`) is read as issued at the epoch."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.claims: dict[str, TokenClaims] = {}
        self._serials = itertools.count(1)

    def issue(self, user_id: int, *, family: str | None = None) -> IssuedTokens:
        now, serial = self.clock.now(), next(self._serials)
        family = family or f"family{serial}"
        refresh = RefreshToken(f"jti{serial}", user_id, family, now, now + timedelta(days=7))
        pair = TokenPair(f"access:{user_id}:{serial}", f"refresh:{user_id}:{serial}")
        self.claims[pair.access] = TokenClaims(user_id, TokenType.ACCESS, now, f"a{serial}")
        self.claims[pair.refresh] = TokenClaims(
            user_id, TokenType.REFRESH, now, refresh.jti, family
        )
        return IssuedTokens(pair, refresh)

    def verify(self, token: str, expected: TokenType | None = None) -> TokenClaims:
        claims = self.claims.get(token) or self._unissued(token)
        if expected is not None and claims.token_type is not expected:
            raise AuthenticationFailed("Token has wrong type.")
        return claims

    @staticmethod
    def _unissued(token: str) -> TokenClaims:
        kind, _, user = token.partition(":")
        if kind not in {"access", "refresh"} or not user.isdigit():
            raise AuthenticationFailed("Token is invalid or expired.")
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return TokenClaims(int(user), TokenType(kind), epoch, f"unissued-{token}", "unissued")


class FakeAccountTokens:
    """E-mailed tokens `token-<n>`, remembered with what they were made for: good while the
    account's binding holds and within the age."""

    def __init__(self) -> None:
        self.made: dict[str, tuple[int, AccountToken, str, datetime]] = {}

    def make(self, user: User, purpose: AccountToken, *, now: datetime) -> str:
        token = f"token-{len(self.made) + 1}"
        self.made[token] = (user.id, purpose, user.token_binding(purpose), now)
        return token

    def check(
        self, user: User, purpose: AccountToken, token: str, *, now: datetime, max_age: timedelta
    ) -> bool:
        if token not in self.made:
            return False
        user_id, made_for, binding, made = self.made[token]
        bound = (user_id, made_for, binding) == (user.id, purpose, user.token_binding(purpose))
        return bound and now - made <= max_age


class FakeRateLimiter:
    """Counters without windows: a test moves time by `reset()`."""

    def __init__(self) -> None:
        self.counts: defaultdict[str, int] = defaultdict(int)
        self.window_seconds = 0

    def reserve(self, keys: Sequence[str], *, limit: int, window_seconds: int) -> int:
        if any(self.counts[key] >= limit for key in keys):
            return window_seconds
        for key in keys:
            self.counts[key] += 1
        return 0

    def release(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.counts[key] = max(0, self.counts[key] - 1)

    def reset(self) -> None:
        self.counts.clear()


class FakeIdentityRules:
    """One plain address (`a,b@x.y` refused), lower-cased; Latin mixed with Cyrillic deceives."""

    def email(self, value: str) -> str:
        address = value.strip().lower()
        if not re.fullmatch(r"[^@\s,<>\"]+@[^@\s,<>.]+(\.[^@\s,<>.]+)+", address):
            raise InvalidValue("Enter a valid e-mail address.")
        return address

    def deceptive(self, username: str) -> bool:
        return bool(re.search("[a-z]", username, re.I)) and bool(
            re.search("[а-яё]", username, re.I)
        )


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.failures_left = 0

    def send(self, notification: Notification) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionRefusedError("SMTP down")
        self.sent.append(notification)


class FakeMeter:
    """What the use cases told the meter, in order: ("donated", amount) or ("refunded", n, sum)."""

    def __init__(self) -> None:
        self.told: list[tuple[object, ...]] = []

    def donated(self, amount: Money) -> None:
        self.told.append(("donated", amount))

    def refunded(self, count: int, amount: Money) -> None:
        self.told.append(("refunded", count, amount))
