"""The outbox: relay committed tasks to the queue, and run each one at most once to completion."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import timedelta
from typing import Any

from attrs import field, frozen

from fundraising.application.ports.clock import Clock
from fundraising.application.ports.tasks import (
    OutboxMessage,
    Task,
    TaskDeferred,
    TaskHeld,
    TaskQueue,
    TaskQueueUnavailable,
)
from fundraising.application.ports.unit_of_work import (
    DeadLetter,
    OutboxSummary,
    UnitOfWorkFactory,
)

log = logging.getLogger(__name__)
RELAY_AGAIN_AFTER = timedelta(minutes=15)
KEEP_FINISHED = timedelta(days=7)
RELAY_BATCH = 500
CLAIM_LEASE_SECONDS = 120


@frozen
class RelayOutbox:
    """Publish again what a worker has not finished `grace` after its commit: the broker was
    down, or lost it, or the process died between commit and publication. A message the
    queue still holds may so be delivered twice; the claim in `RunTask` runs it once."""

    uow_factory: UnitOfWorkFactory
    queue: TaskQueue
    clock: Clock
    grace: timedelta

    def __call__(self) -> int:
        now = self.clock.now()
        with self.uow_factory() as uow:
            due = uow.outbox.due(
                created_before=now - self.grace,
                relayed_before=now - RELAY_AGAIN_AFTER,
                now=now,
                limit=RELAY_BATCH,
            )
        relayed = []
        for message in due:
            try:
                self.queue.publish(message)
            except TaskQueueUnavailable:
                log.warning("task queue still unavailable; %d messages wait", len(due))
                break
            relayed.append(message.id)
        with self.uow_factory() as uow:
            if relayed:
                uow.outbox.mark_relayed(relayed, now=now)
            uow.outbox.purge(finished_before=now - KEEP_FINISHED)
            uow.commit()
        return len(relayed)


@frozen
class RunTask:
    """Execute an outbox message's task unless it already ran; a failure leaves it to a retry."""

    uow_factory: UnitOfWorkFactory
    handlers: Mapping[type[Any], Callable[[Any], None]]
    clock: Clock
    give_ups: Mapping[type[Any], Callable[[Any], None]] = field(factory=dict)
    lease: timedelta = timedelta(seconds=CLAIM_LEASE_SECONDS)

    def __call__(self, message: OutboxMessage) -> None:
        """Run it once; raise `TaskHeld` while another worker holds it (it may have died)."""
        now = self.clock.now()
        with self.uow_factory() as uow:
            claimed = uow.outbox.claim(
                message.id, now=now, lease_seconds=int(self.lease.total_seconds())
            )
            held_until = None if claimed else uow.outbox.held_until(message.id, now=now)
            uow.commit()
        if held_until is not None:
            raise TaskHeld((held_until - now).total_seconds())
        if not claimed:
            log.info("outbox message %s already done; skipped", message.id)
            return
        try:
            self._handler(message.task)(message.task)
        except TaskDeferred as deferred:  # not to be relayed before it is due again
            with self.uow_factory() as uow:
                until = self.clock.now() + timedelta(seconds=deferred.retry_in)
                uow.outbox.hold(message.id, until=until)
                uow.commit()
            raise
        except BaseException:
            with self.uow_factory() as uow:
                uow.outbox.release(message.id)
                uow.commit()
            raise
        with self.uow_factory() as uow:
            uow.outbox.finish(message.id, now=self.clock.now())
            uow.commit()

    def give_up(self, message: OutboxMessage) -> None:
        """Retries are exhausted: bury the message, and let its task record the failure."""
        with self.uow_factory() as uow:
            uow.outbox.bury(message.id, now=self.clock.now())
            uow.commit()
        if (give_up := self.give_ups.get(type(message.task))) is not None:
            give_up(message.task)

    def _handler(self, task: Task) -> Callable[[Any], None]:
        return self.handlers[type(task)]


@frozen
class InspectOutbox:
    """For operators: what waits, and the dead letters (an outage longer than the retries)."""

    uow_factory: UnitOfWorkFactory
    clock: Clock

    def summary(self) -> OutboxSummary:
        with self.uow_factory() as uow:
            return uow.outbox.summary(now=self.clock.now())

    def dead_letters(self, limit: int = 1_000) -> Sequence[DeadLetter]:
        with self.uow_factory() as uow:
            return uow.outbox.dead_letters(limit=limit)

    def retry(self, ids: Collection[int] | None) -> int:
        """Due again at once: the next relay (one worker process runs it) publishes them."""
        with self.uow_factory() as uow:
            revived = uow.outbox.revive(ids)
            uow.commit()
        return revived

    def drop(self, ids: Collection[int] | None) -> int:
        with self.uow_factory() as uow:
            dropped = uow.outbox.drop(ids)
            uow.commit()
        return dropped
