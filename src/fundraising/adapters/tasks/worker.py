"""The actors, and the worker that runs them plus the outbox relay."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dramatiq
from attrs import frozen
from dramatiq.middleware import Middleware

from fundraising.adapters.task_codec import decode_task
from fundraising.adapters.tasks.broker import ROUTES
from fundraising.application.ports.tasks import OutboxMessage, TaskDeferred

log = logging.getLogger(__name__)


class DeadLetters(Middleware):
    """A message whose retries are exhausted is handed to `give_up`, then logged as an error."""

    def __init__(self, give_up: Callable[[OutboxMessage], None]) -> None:
        self._give_up = give_up

    def after_nack(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        message_id, task = message.args[0], decode_task(message.args[1])
        try:
            self._give_up(OutboxMessage(message_id, task))
        except Exception:
            log.exception("could not record the failure of outbox message %s", message_id)
        log.error(
            "dead letter: outbox message %s (%s) failed for good after %s attempts",
            message_id,
            task,
            message.options.get("retries", 0),
        )


def declare_actors(
    broker: dramatiq.Broker,
    *,
    run: Callable[[OutboxMessage], None],
    give_up: Callable[[OutboxMessage], None],
    max_retries: int,
    min_backoff_ms: int,
    max_backoff_ms: int,
    time_limit_ms: int,
    max_retries_by_queue: Mapping[str, int] | None = None,
) -> None:
    """Bind the actors to `broker`; they take outbox ids and run the task through `run`. A
    queue may allow more retries than `max_retries` (its tasks defer themselves)."""

    def run_message(message_id: int, task: dict[str, Any]) -> None:
        try:
            run(OutboxMessage(message_id, decode_task(task)))
        except TaskDeferred as deferred:  # held by a worker (which may have died), or not due
            raise dramatiq.Retry(str(deferred), delay=int(deferred.retry_in * 1000) + 100) from None

    retry = {
        "max_retries": max_retries,
        "min_backoff": min_backoff_ms,
        "max_backoff": max_backoff_ms,
        "time_limit": time_limit_ms,  # a task never outlives its claim on the outbox message
    }
    retries_of = max_retries_by_queue or {}
    for actor_name, queue_name in ROUTES.values():
        dramatiq.Actor(
            run_message,
            broker=broker,
            actor_name=actor_name,
            queue_name=queue_name,
            priority=0,
            options=retry | {"max_retries": retries_of.get(queue_name, max_retries)},
        )
    broker.add_middleware(DeadLetters(give_up))


@frozen
class Periodic:
    """A job a worker runs every `interval` seconds, on a thread of its own; `run` says how
    many things it did (logged when not 0)."""

    name: str
    run: Callable[[], int]
    interval: float
    stopped: Callable[[], None] | None = None  # called once its thread has stopped


class BackgroundWorker:
    """Dramatiq worker threads, plus a thread per periodic job (the outbox relay, the
    lifecycle sweep)."""

    def __init__(self, broker: dramatiq.Broker, *, threads: int, jobs: Sequence[Periodic]) -> None:
        self._worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=250)
        self._stopping = threading.Event()
        self._jobs = list(jobs)
        self._job_threads = [
            threading.Thread(target=self._forever, args=(job,), name=job.name) for job in jobs
        ]

    def start(self) -> None:
        self._worker.start()
        for thread in self._job_threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._job_threads:
            thread.join(timeout=10)
        for job in self._jobs:
            if job.stopped is not None:
                try:
                    job.stopped()
                except Exception:
                    log.exception("%s: could not finish stopping", job.name)
        self._worker.stop(timeout=10_000)

    def _forever(self, job: Periodic) -> None:
        while True:
            try:
                if done := job.run():
                    log.info("%s: %d done", job.name, done)
            except Exception:
                log.exception("%s failed; trying again in %.0f s", job.name, job.interval)
            if self._stopping.wait(job.interval):
                return
