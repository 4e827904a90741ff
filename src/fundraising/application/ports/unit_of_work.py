"""The write side: repositories and the unit of work that makes their changes one transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from attrs import frozen

from fundraising.application.ports.security import RefreshToken
from fundraising.application.ports.tasks import OutboxMessage, Task
from fundraising.application.ports.webhooks import WebhookRepository
from fundraising.domain.collect import Collect, Milestone
from fundraising.domain.membership import Member, Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment
from fundraising.domain.update import CollectUpdate
from fundraising.domain.user import User


class DuplicateUser(Exception):
    """The username or e-mail is taken; `field` says which."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class DuplicateTransaction(Exception):
    """A payment with this transaction id exists already (found by the unique constraint)."""


@frozen
class RefundedBatch:
    """The payments a batch refunded and their sum, and the payers it left without a completed
    payment to the collect (they are no longer among its donors)."""

    payment_ids: tuple[int, ...]
    payers_done: tuple[int, ...]
    amount: Money

    @property
    def count(self) -> int:
        return len(self.payment_ids)


class CollectClosed(Exception):
    """Nothing was counted: no collect with this id accepts donations now (unknown, inactive,
    ended), or the payer is not an active user."""


class UserRepository(Protocol):
    def add(self, user: User) -> User:
        """Insert and assign the id; raise `DuplicateUser` on a taken username or e-mail."""
        ...

    def save(self, user: User) -> None:
        """Write every field (`DuplicateUser` on a taken e-mail). A user whose tokens were
        revoked is marked for its unit of work (see `mark_revoked`)."""
        ...

    def get(self, user_id: int, *, for_update: bool = False) -> User | None: ...

    def by_email(self, email: str) -> User | None: ...

    def existing(self, user_ids: Collection[int]) -> frozenset[int]:
        """Which of these ids name a user (one query, whatever their number)."""
        ...

    def by_login(self, username: str) -> User | None:
        """The account a login names: the exact username, else the one it is the same as
        (`Alice` logs in `alice`)."""
        ...

    def taken(self, username: str, email: str) -> str | None:
        """ "username" or "email" when an account has the same one already, else None."""
        ...


class CollectRepository(Protocol):
    """Every write marks the collect changed for its unit of work (see `mark_changed`)."""

    def add(self, collect: Collect) -> Collect: ...

    def get(self, collect_id: int, *, for_update: bool = False) -> Collect | None:
        """The collect; `for_update` locks its row until the transaction ends, so that a
        read-modify-write (a change, a cover result) never overwrites a concurrent one."""
        ...

    def visibility(self, collect_id: int) -> Visibility | None:
        """Who may see the collect, read alone (None: no such collect): what a donation to a
        public collect needs to know of it, without the whole row."""
        ...

    def save(self, collect: Collect) -> None:
        """Write the fields a user may change and the cover; never the counters."""
        ...

    def delete(self, collect_id: int) -> None: ...

    def has_payments(self, collect_id: int) -> bool: ...

    def close_open_of(self, author_id: int, *, now: datetime) -> None:
        """Close every open collect of this author (it leaves the service)."""
        ...

    def recount(self, collect_ids: Sequence[int]) -> None:
        """Set the counters of these collects to what their completed payments say."""
        ...

    def milestones_due(self, now: datetime, *, limit: int) -> Sequence[tuple[int, Milestone]]:
        """Collects (up to `limit` per milestone) that reached a milestone not announced yet:
        the goal, the last day before `end_date` while open, the end (closed or ended)."""
        ...

    def claim_milestone(self, collect_id: int, milestone: Milestone, *, now: datetime) -> bool:
        """Mark it announced; False when it was already (by another worker, say)."""
        ...


class PaymentRepository(Protocol):
    def add_donation(self, payment: Payment, *, now: datetime) -> Payment:
        """Count a completed donation into its collect, then insert it; one atomic step.

        The collect's counters are incremented in the database, only if it exists and accepts
        donations at `now` and the payer is an active user (else `CollectClosed`, checked in the
        same statement); a used transaction id raises
        `DuplicateTransaction`. The caller's transaction must be rolled back after either.
        """
        ...

    def refund(self, payment: Payment) -> bool:
        """Record a refund (`Payment.refund`) and reverse its collect's counters with in-database
        decrements; `donors_count` drops when the payer has no other completed payment to it.
        False, and nothing changed, when the payment was not completed any more. The caller holds
        the collect's row lock (`CollectRepository.get(for_update=True)`), as a donation does."""
        ...

    def refund_oldest(
        self, collect_id: int, *, limit: int, now: datetime, reason: str
    ) -> RefundedBatch:
        """Refund up to `limit` of the collect's completed payments, oldest first, and take
        them off its counters in the database. The caller holds the collect's row lock."""
        ...

    def get(self, payment_id: int) -> Payment | None: ...

    def many(self, payment_ids: Collection[int]) -> Sequence[Payment]:
        """These payments, by id (one query)."""
        ...

    def by_transaction_id(self, transaction_id: str) -> Payment | None: ...


class MemberRepository(Protocol):
    """Who takes part in which collect; every change marks the collect changed."""

    def add(self, member: Member) -> bool:
        """Insert; False (and nothing changed) when the user already is a member."""
        ...

    def get(self, collect_id: int, user_id: int) -> Member | None: ...

    def save(self, member: Member) -> None:
        """Write its role and when it was last reminded."""
        ...

    def remove(self, collect_id: int, user_id: int) -> None: ...

    def ids(self, collect_id: int) -> frozenset[int]:
        """The ids of every member, the author included."""
        ...

    def unpaid(self, collect_id: int) -> Sequence[Member]:
        """The members, active users, with no completed payment to the collect."""
        ...

    def running(self, collect_id: int) -> Sequence[int]:
        """The ids of its author and organisers, active users."""
        ...

    def paying(self, collect_id: int) -> Sequence[int]:
        """The ids of the members, active users, with a completed payment to the collect."""
        ...


class UpdateRepository(Protocol):
    def add(self, update: CollectUpdate) -> CollectUpdate:
        """Insert and assign the id."""
        ...

    def get(self, update_id: int) -> CollectUpdate | None: ...

    def delete(self, update_id: int) -> None: ...


class RefreshTokens(Protocol):
    def add(self, issued: RefreshToken) -> None: ...

    def use(self, jti: str, *, now: datetime) -> bool:
        """Mark the token rotated; False when it was unknown, expired, used or revoked."""
        ...

    def is_live(self, jti: str, *, now: datetime) -> bool: ...

    def revoke_family(self, family: str, *, now: datetime) -> None: ...

    def purge(self, *, expired_before: datetime) -> int: ...


@frozen
class OutboxSummary:
    """What waits in the outbox: tasks not done yet (the oldest one's age says whether the
    workers keep up), those a worker runs now, and dead letters (retries exhausted)."""

    waiting: int
    oldest_waiting_since: datetime | None
    running: int
    dead: int


@frozen
class DeadLetter:
    message: OutboxMessage
    created_at: datetime
    dead_at: datetime


class Outbox(Protocol):
    """Tasks recorded with the write that asked for them, until a worker has run them."""

    def add(self, task: Task, *, now: datetime) -> OutboxMessage: ...

    def due(
        self, *, created_before: datetime, relayed_before: datetime, now: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        """Unfinished messages, oldest first, that may have been lost on the way to a worker:
        created before `created_before`, not relayed since `relayed_before`, not running."""
        ...

    def mark_relayed(self, ids: Sequence[int], *, now: datetime) -> None: ...

    def claim(self, message_id: int, *, now: datetime, lease_seconds: int) -> bool:
        """Take a message for execution: False if it is finished or another worker holds it."""
        ...

    def held_until(self, message_id: int, *, now: datetime) -> datetime | None:
        """When another worker's claim on this unfinished message runs out; None if unheld."""
        ...

    def release(self, message_id: int) -> None:
        """Give a claimed message back after a failed attempt."""
        ...

    def hold(self, message_id: int, *, until: datetime) -> None:
        """Keep a claimed message from the relay and other workers until then (its task
        deferred itself)."""
        ...

    def finish(self, message_id: int, *, now: datetime) -> None: ...

    def bury(self, message_id: int, *, now: datetime) -> None:
        """A dead letter: its retries are exhausted; it is never relayed again."""
        ...

    def purge(self, *, finished_before: datetime) -> int:
        """Forget messages finished before then; how many. Dead letters stay until an
        operator retries or drops them."""
        ...

    def summary(self, *, now: datetime) -> OutboxSummary: ...

    def dead_letters(self, *, limit: int) -> Sequence[DeadLetter]:
        """The dead letters, oldest first."""
        ...

    def revive(self, ids: Collection[int] | None) -> int:
        """Make these dead letters (None: all) due again, for the relay to publish; how many."""
        ...

    def drop(self, ids: Collection[int] | None) -> int:
        """Delete these dead letters (None: all); how many."""
        ...


class Leases(Protocol):
    """Named leases: what one process of the cluster does at a time (the outbox relay)."""

    def take(self, name: str, holder: str, *, seconds: float) -> bool:
        """Hold (or renew) the lease for `seconds` from now by the database's clock (the
        hosts' may disagree); False while another holder's runs."""
        ...

    def release(self, name: str, holder: str) -> None:
        """Give the lease up, if this holder has it (another may take it at once)."""
        ...


class UnitOfWork(Protocol):
    """One transaction: leave the `with` block without `commit()` and nothing happened."""

    users: UserRepository
    collects: CollectRepository
    payments: PaymentRepository
    members: MemberRepository
    updates: UpdateRepository
    refresh_tokens: RefreshTokens
    outbox: Outbox
    webhooks: WebhookRepository
    leases: Leases

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def enqueue(self, task: Task, *, now: datetime) -> None:
        """Record a task in the outbox (created `now`), within this transaction; it is
        published after commit."""
        ...

    def commit(self) -> None:
        """Commit; then publish the enqueued tasks, make the cache forget the changed collects,
        and run the `after_commit` effects."""
        ...

    def after_commit(self, effect: Callable[[], None]) -> None:
        """Run `effect` once this transaction has committed; never if it rolls back."""
        ...

    def mark_revoked(self, user_id: int, before: datetime) -> None:
        """The user's tokens issued before `before` are refused from this commit on: the cache
        learns it *before* the commit (so no hit accepts them even for a moment), and the
        commit fails if it cannot."""
        ...

    def mark_changed(self, collect_id: int) -> None:
        """The cached views of this collect (and the lists) are stale once this commits. The
        repositories mark what they write; a use case marks only what it did not write."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
