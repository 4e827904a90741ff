"""Brokers, and the task queue port over them (publishing by actor name: no actor needed)."""

from __future__ import annotations

from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import DramatiqError
from redis.exceptions import RedisError

from fundraising.adapters.task_codec import encode_task
from fundraising.application.ports.tasks import (
    AnnounceUpdate,
    DeliverWebhook,
    OutboxMessage,
    ProcessCover,
    RefundCollect,
    SendEmail,
    TaskQueueUnavailable,
)

NAMESPACE = "fundraising-tasks"
EMAILS = "emails"
COVERS = "covers"
REFUNDS = "refunds"
WEBHOOKS = "webhooks"
ROUTES: dict[type[Any], tuple[str, str]] = {
    SendEmail: ("send_email", EMAILS),
    ProcessCover: ("process_cover", COVERS),
    RefundCollect: ("refund_collect", REFUNDS),
    AnnounceUpdate: ("announce_update", EMAILS),
    DeliverWebhook: ("deliver_webhook", WEBHOOKS),
}
"""Each task's actor and queue."""


def build_broker(url: str | None, *, publisher_only: bool = False) -> dramatiq.Broker:
    """Redis when `url` is set, else an in-process broker for the embedded worker threads.

    A publisher (the web app) gets short socket timeouts so that a dead Redis delays no
    request: the outbox keeps what could not be published.
    """
    broker: dramatiq.Broker
    if url is None:
        broker = StubBroker()
    elif publisher_only:  # (given with url=, RedisBroker would drop these timeouts)
        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        broker = RedisBroker(client=client, namespace=NAMESPACE)  # type: ignore[no-untyped-call]
    else:
        broker = RedisBroker(url=url, namespace=NAMESPACE)  # type: ignore[no-untyped-call]
    for queue in (EMAILS, COVERS, REFUNDS, WEBHOOKS):
        broker.declare_queue(queue)
    return broker


class DramatiqTaskQueue:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker

    def publish(self, message: OutboxMessage) -> None:
        actor_name, queue_name = ROUTES[type(message.task)]
        envelope: dramatiq.Message[None] = dramatiq.Message(
            queue_name=queue_name,
            actor_name=actor_name,
            args=(message.id, encode_task(message.task)),
            kwargs={},
            options={},
        )
        try:
            self._broker.enqueue(envelope)
        except (DramatiqError, RedisError, OSError) as error:
            raise TaskQueueUnavailable(str(error)) from error
