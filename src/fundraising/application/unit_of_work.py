"""What every unit of work shares: nothing it caused happens before its commit, and the cache
forgets every collect it changed, without a use case having to say so."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from fundraising.application.errors import TransientFailure
from fundraising.application.ports.cache import Cache
from fundraising.application.ports.tasks import (
    OutboxMessage,
    Task,
    TaskQueue,
    TaskQueueUnavailable,
)
from fundraising.application.ports.unit_of_work import Outbox, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
R = TypeVar("R")
TRANSACTION_ATTEMPTS = 3


class AfterCommit:
    """Mixin for unit-of-work adapters: holds what the current transaction caused.

    Its repositories call `mark_changed` for every collect they write, and `mark_revoked` for
    every user whose tokens were revoked. The cache learns of revocations before the commit
    (the adapter calls `_before_commit`: no cache hit may accept a revoked token, even for a
    moment); after the commit the tasks are published, the cache forgets the collects, then
    the other effects run.
    """

    outbox: Outbox

    def __init__(self, task_queue: TaskQueue, cache: Cache) -> None:
        self._task_queue = task_queue
        self._cache = cache
        self._effects: list[Callable[[], None]] = []
        self._messages: list[OutboxMessage] = []
        self._changed: set[int] = set()
        self._revoked: dict[int, datetime] = {}

    def after_commit(self, effect: Callable[[], None]) -> None:
        self._effects.append(effect)

    def enqueue(self, task: Task, *, now: datetime) -> None:
        self._messages.append(self.outbox.add(task, now=now))

    def mark_changed(self, collect_id: int) -> None:
        self._changed.add(collect_id)

    def mark_revoked(self, user_id: int, before: datetime) -> None:
        self._revoked[user_id] = before

    def _before_commit(self) -> None:
        """Raises (and the adapter then does not commit) when the cache cannot record them."""
        for user_id, before in self._revoked.items():
            self._cache.tokens_revoked(user_id, before)

    def _discard_effects(self) -> None:
        self._effects.clear()
        self._messages.clear()
        self._changed.clear()
        self._revoked.clear()

    def _run_effects(self) -> None:
        """Called by the adapter right after its commit succeeded."""
        messages, changed, effects = list(self._messages), sorted(self._changed), self._effects[:]
        self._discard_effects()
        for message in messages:
            self._publish(message)
        for collect_id in changed:
            self._cache.collect_changed(collect_id)
        for effect in effects:
            try:
                effect()
            except Exception:
                log.exception("an after-commit effect failed")

    def _publish(self, message: OutboxMessage) -> None:
        """Hand it to the queue; if that fails, the outbox keeps it for the relay."""
        try:
            self._task_queue.publish(message)
        except TaskQueueUnavailable:
            log.warning("task queue unavailable; outbox message %s waits for the relay", message.id)


def retrying_transaction(uow_factory: UnitOfWorkFactory, work: Callable[[UnitOfWork], R]) -> R:
    """Run `work` in a fresh unit of work, and again from the start when the transaction loses
    a race (a deadlock, a lock timeout), a bounded number of times: `work` may run more than
    once, so it must do nothing outside its unit of work before the commit."""
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            with uow_factory() as uow:
                return work(uow)
        except TransientFailure:
            if attempt == TRANSACTION_ATTEMPTS:
                raise
            log.info("transaction lost a race (attempt %d), running it again", attempt)
    raise AssertionError("unreachable")
