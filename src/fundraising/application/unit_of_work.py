"""What every unit of work shares: effects and task publication happen only after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from fundraising.application.errors import TransientFailure
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
    """Mixin for unit-of-work adapters: holds the effects of the current transaction."""

    outbox: Outbox

    def __init__(self, task_queue: TaskQueue) -> None:
        self._task_queue = task_queue
        self._effects: list[Callable[[], None]] = []
        self._messages: list[OutboxMessage] = []

    def after_commit(self, effect: Callable[[], None]) -> None:
        self._effects.append(effect)

    def enqueue(self, task: Task) -> None:
        self._messages.append(self.outbox.add(task))

    def _discard_effects(self) -> None:
        self._effects.clear()
        self._messages.clear()

    def _run_effects(self) -> None:
        """Called by the adapter right after its commit succeeded."""
        messages, effects = list(self._messages), list(self._effects)
        self._discard_effects()
        for message in messages:
            self._publish(message)
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


def in_transaction(uow_factory: UnitOfWorkFactory, work: Callable[[UnitOfWork], R]) -> R:
    """Run `work` in a fresh unit of work, again when it loses a race, a bounded number of times."""
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            with uow_factory() as uow:
                return work(uow)
        except TransientFailure:
            if attempt == TRANSACTION_ATTEMPTS:
                raise
            log.info("transaction lost a race (attempt %d), running it again", attempt)
    raise AssertionError("unreachable")
