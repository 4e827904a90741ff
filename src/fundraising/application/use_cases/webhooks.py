"""Webhooks: a user's subscriptions to the events of the collects they run, the events
recorded with the writes that cause them, and their delivery by the worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from attrs import field, frozen

from fundraising.application.errors import FieldError, NotFound
from fundraising.application.pagination import PageRequest, page_or_404
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.links import Links
from fundraising.application.ports.tasks import DeliverWebhook, TaskDeferred
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.ports.webhooks import WebhookQueries, WebhookSigner, WebhookTransport
from fundraising.application.representations import collect_fields, payment_fields
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.auth import active_user
from fundraising.application.views import CollectView, DeliveryView, Page, PaymentView, WebhookView
from fundraising.domain.errors import FieldErrors, InvalidValue
from fundraising.domain.ids import parse_id
from fundraising.domain.payment import Payment
from fundraising.domain.webhook import (
    Event,
    EventType,
    RetrySchedule,
    Webhook,
    ensure_room_for_another,
    new_event_id,
    parse_url,
)

# --- events, recorded in the transaction of the write that causes them ---


def announce(
    uow: UnitOfWork,
    event_type: EventType,
    collect_id: int,
    data: Callable[[], dict[str, Any]],
    *,
    now: datetime,
) -> None:
    """Record the event for every webhook that wants it; `data` is made only if one does."""
    if webhook_ids := uow.webhooks.subscribers(collect_id, event_type):
        record(uow, Event(new_event_id(), event_type, now, data()), webhook_ids)


def record(uow: UnitOfWork, event: Event, webhook_ids: Sequence[int]) -> None:
    """One delivery per webhook, each sent by the worker after the commit."""
    for delivery_id in uow.webhooks.add_deliveries(event, webhook_ids):
        uow.enqueue(DeliverWebhook(delivery_id), now=event.occurred_at)


def payment_data(payment: Payment) -> dict[str, Any]:
    return payment_fields(PaymentView.of(payment))


def collect_data(uow: UnitOfWork, collect_id: int, links: Links, now: datetime) -> dict[str, Any]:
    """The collect as its detail shows it, without the feed."""
    collect = uow.collects.get(collect_id)
    assert collect is not None
    author = uow.users.get(collect.author_id)
    assert author is not None
    participants = len(uow.members.ids(collect_id))
    view = CollectView.of(collect, author_name=author.display_name, participants_count=participants)
    return collect_fields(view, links.media(), now)


# --- the subscriptions ---


@frozen
class NewWebhook:
    user_id: int
    url: str | None
    events: Sequence[str] | None
    collect_id: int | None = None
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class CreatedWebhook:
    webhook: WebhookView
    secret: str  # shown this once


@frozen
class CreateWebhook:
    """A webhook for the events of one collect its user runs, or of all of them; at most
    `WEBHOOKS_PER_USER`, each to an address the transport may reach."""

    uow_factory: UnitOfWorkFactory
    transport: WebhookTransport
    clock: Clock
    https_only: bool

    def __call__(self, new: NewWebhook) -> CreatedWebhook:
        refusal = self._refusal(new.url)  # a lookup: not while holding the user's row

        def create(uow: UnitOfWork) -> CreatedWebhook:
            active_user(uow, new.user_id)
            errors = FieldErrors(new.conversion_errors)
            if new.collect_id is not None:
                errors.check("collect", lambda: parse_id(new.collect_id or 0))
            if new.collect_id is not None and "collect" not in errors:
                member = uow.members.get(new.collect_id, new.user_id)
                if member is None or not member.manages:
                    raise NotFound("No collect with this id that you author or organise.")
            if refusal is not None:
                errors.add("url", refusal)
            webhook = Webhook.create(
                user_id=new.user_id,
                url=new.url,
                events=new.events,
                collect_id=new.collect_id,
                https_only=self.https_only,
                now=self.clock.now(),
                errors=errors,
            )
            ensure_room_for_another(uow.webhooks.count_of(new.user_id, for_update=True))
            added = uow.webhooks.add(webhook)
            uow.commit()
            return CreatedWebhook(WebhookView.of(added), added.secret)

        return retrying_transaction(self.uow_factory, create)

    def _refusal(self, url: str | None) -> str | None:
        """Why the transport refuses the URL; None also when it is invalid (said later)."""
        try:
            checked = parse_url(url or "", https_only=self.https_only)
        except InvalidValue:
            return None
        return self.transport.refusal(checked)


@frozen
class WebhookRequest:
    webhook_id: int
    user_id: int


def _owned(uow: UnitOfWork, request: WebhookRequest) -> Webhook:
    """The webhook, for its owner; anyone else learns nothing (404)."""
    active_user(uow, request.user_id)
    webhook = uow.webhooks.get(request.webhook_id)
    if webhook is None or webhook.user_id != request.user_id:
        raise NotFound.of("webhook")
    return webhook


@frozen
class DeleteWebhook:
    """Its deliveries go with it; those under way are not sent again."""

    uow_factory: UnitOfWorkFactory

    def __call__(self, request: WebhookRequest) -> None:
        def delete(uow: UnitOfWork) -> None:
            _owned(uow, request)
            uow.webhooks.delete(request.webhook_id)
            uow.commit()

        retrying_transaction(self.uow_factory, delete)


@frozen
class ListWebhooks:
    queries: WebhookQueries

    def __call__(self, user_id: int, page: PageRequest) -> Page[WebhookView]:
        return page_or_404(self.queries.of_user(user_id, page))


@frozen
class ListDeliveries:
    uow_factory: UnitOfWorkFactory
    queries: WebhookQueries

    def __call__(self, request: WebhookRequest, page: PageRequest) -> Page[DeliveryView]:
        with self.uow_factory() as uow:
            _owned(uow, request)
        return page_or_404(self.queries.deliveries(request.webhook_id, page))


# --- delivery, by the worker ---


@frozen
class DeliverWebhookTask:
    """One attempt of a delivery, signed per Standard Webhooks; when it is not taken, the
    task defers itself to the next attempt of the schedule (the same `webhook-id`, a new
    timestamp and signature)."""

    uow_factory: UnitOfWorkFactory
    transport: WebhookTransport
    signer: WebhookSigner
    clock: Clock
    schedule: RetrySchedule

    def __call__(self, task: DeliverWebhook) -> None:
        with self.uow_factory() as uow:
            delivery = uow.webhooks.delivery(task.delivery_id)
            webhook = None if delivery is None else uow.webhooks.get(delivery.webhook_id)
        if delivery is None or webhook is None or delivery.done:
            return  # deleted with its webhook, or done by an earlier copy of the message
        if (wait := delivery.wait(self.clock.now())) is not None:
            raise TaskDeferred(wait.total_seconds())
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self.signer.sign(
                webhook.secret, delivery.event_id, timestamp, delivery.body
            ),
        }
        status = self.transport.post(webhook.url, delivery.body, headers)
        now = self.clock.now()
        delivery.record(status, now=now, schedule=self.schedule)
        with self.uow_factory() as uow:
            uow.webhooks.save_delivery(delivery)
            uow.commit()
        if (wait := delivery.wait(now)) is not None:
            raise TaskDeferred(wait.total_seconds(), f"webhook answered {status}")

    def give_up(self, task: DeliverWebhook) -> None:
        """The worker gave up on the task itself (it kept failing): the delivery failed."""
        with self.uow_factory() as uow:
            delivery = uow.webhooks.delivery(task.delivery_id)
            if delivery is not None and not delivery.done:
                delivery.give_up()
                uow.webhooks.save_delivery(delivery)
                uow.commit()
