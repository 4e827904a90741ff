"""Webhooks through the core as the container wires it over the fakes: creating one (the order
of checks 401, 404, 400; at most 10; refused addresses; https only in production), deleting
and listing them and their deliveries, the events the writes record (donations, refunds, a
cancel and its refunds, the lifecycle sweep) and their delivery by the worker: signed, retried
on the schedule by deferring the task, and held in the outbox until the next attempt."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
import standardwebhooks

from fundraising.application.errors import (
    AuthenticationFailed,
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.tasks import (
    DeliverWebhook,
    OutboxMessage,
    RefundCollect,
    TaskDeferred,
    TaskHeld,
)
from fundraising.application.representations import payment_fields
from fundraising.application.use_cases.collects import CollectChange, CollectDeletion, CollectFields
from fundraising.application.use_cases.membership import Join, MemberRequest
from fundraising.application.use_cases.payments import Donation, Refund
from fundraising.application.use_cases.webhooks import (
    CreatedWebhook,
    CreateWebhook,
    NewWebhook,
    WebhookRequest,
)
from fundraising.application.views import DeliveryView, Page, PaymentView, WebhookView
from fundraising.domain.errors import REQUIRED
from fundraising.domain.money import Money
from fundraising.domain.webhook import Delivery, DeliveryStatus, EventType
from tests.fakes import FakeUnitOfWork, OutboxRow

NOBODY = 999_999  # neither a user, a collect, a webhook nor a delivery
URL = "https://hooks.example.com/in"
ALL_EVENTS = ("payment.created", "payment.refunded", "collect.goal_reached", "collect.closed")


# --- the use cases, as the container builds them ---


def create(
    core,
    user_id: int,
    *,
    url: str | None = URL,
    events: Sequence[str] | None = ("payment.created",),
    collect: int | None = None,
    errors: tuple[FieldError, ...] = (),
) -> CreatedWebhook:
    new = NewWebhook(
        user_id, url, None if events is None else list(events), collect, conversion_errors=errors
    )
    return core.container.create_webhook()(new)  # type: ignore[no-any-return]


def delete(core, webhook_id: int, user_id: int) -> None:
    core.container.delete_webhook()(WebhookRequest(webhook_id, user_id))


def webhooks_of(core, user_id: int, page: int = 1, size: int = 10) -> Page[WebhookView]:
    return core.container.list_webhooks()(user_id, PageRequest.of(page, size))  # type: ignore[no-any-return]


def deliveries_page(
    core, webhook_id: int, user_id: int, page: int = 1, size: int = 10
) -> Page[DeliveryView]:
    request = WebhookRequest(webhook_id, user_id)
    return core.container.list_deliveries()(request, PageRequest.of(page, size))  # type: ignore[no-any-return]


def deliver(core, delivery_id: int) -> None:
    core.container.deliver_webhook()(DeliverWebhook(delivery_id))


def refund(core, payment_id: int, actor_id: int) -> PaymentView:
    return core.container.refund_payment()(Refund(payment_id, actor_id))  # type: ignore[no-any-return]


def sweep(core) -> int:
    return core.container.lifecycle_sweep()()  # type: ignore[no-any-return]


def pay(core, payer, collect_id: int, amount: str = "100.00") -> PaymentView:
    return core.give(payer, collect_id, amount).payment  # type: ignore[no-any-return]


# --- reading what happened ---


def deliveries(
    core, *, webhook: int | None = None, event: EventType | None = None
) -> list[Delivery]:
    """The stored deliveries, oldest first, of one webhook or event type if named."""
    return [
        d
        for _, d in sorted(core.db.deliveries.items())
        if (webhook is None or d.webhook_id == webhook) and (event is None or d.event_type is event)
    ]


def webhook_messages(core) -> list[OutboxMessage]:
    """The DeliverWebhook messages in the outbox, oldest first."""
    return [
        row.message
        for _, row in sorted(core.db.outbox.items())
        if isinstance(row.message.task, DeliverWebhook)
    ]


def message_of(core, delivery_id: int) -> OutboxMessage:
    (message,) = [m for m in webhook_messages(core) if m.task == DeliverWebhook(delivery_id)]
    return message


def body_of(delivery: Delivery) -> dict[str, Any]:
    return json.loads(delivery.body)  # type: ignore[no-any-return]


def as_json(value: dict[str, Any]) -> Any:
    """`value` as the fake repository writes it into a body."""
    return json.loads(json.dumps(value, default=str))


def stored(core) -> tuple[object, ...]:
    """Everything creating or deleting a webhook may change, by value (the rows of the fake
    database are copied whenever a unit of work rolls back)."""
    webhooks = {i: attrs.astuple(w) for i, w in core.db.webhooks.items()}
    kept = {i: attrs.astuple(d) for i, d in core.db.deliveries.items()}
    return webhooks, kept, len(core.db.outbox)


def errors_of(raised: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [error.field for error in raised.value.errors]


def promote(core, collect_id: int, author_id: int, user_id: int) -> None:
    core.container.add_organiser()(MemberRequest(collect_id, author_id, user_id))


@attrs.frozen
class Scene:
    author: Any
    organiser: Any
    participant: Any
    donor: Any
    stranger: Any
    collect_id: int


@pytest.fixture
def scene(core) -> Scene:
    """A public collect by Ivan: Maria organises it (she joined, then was promoted), Pyotr
    takes part, Olga will donate, Anna takes part in nothing."""
    author = core.user("ivan", "Иван", "Петров")
    organiser = core.user("maria")
    participant = core.user("pyotr")
    donor = core.user("olga")
    stranger = core.user("anna")
    collect_id = core.collect(author, title="Юбилей").collect.id
    for member in (organiser, participant):
        core.join_collect(Join(collect_id, member.id))
    promote(core, collect_id, author.id, organiser.id)
    return Scene(author, organiser, participant, donor, stranger, collect_id)


# --- CreateWebhook ---


def test_a_new_webhook_answers_its_secret_once_and_its_view_without_it(core, scene):
    core.clock.advance(minutes=3)
    created = create(
        core,
        scene.author.id,
        events=["payment.created", "collect.closed", "payment.created"],
        collect=scene.collect_id,
    )
    view = created.webhook
    assert created.secret.startswith("whsec_")
    assert (view.url, view.collect, view.created_at) == (URL, scene.collect_id, core.clock.now())
    assert view.events == (EventType.COLLECT_CLOSED, EventType.PAYMENT_CREATED)
    assert not hasattr(view, "secret")
    assert created.secret not in repr(view)

    kept = core.db.webhooks[view.id]
    assert (kept.user_id, kept.url, kept.collect_id, kept.secret) == (
        scene.author.id,
        URL,
        scene.collect_id,
        created.secret,
    )
    assert webhooks_of(core, scene.author.id).items == [view]  # listed without the secret
    assert create(core, scene.author.id).secret != created.secret


def test_a_webhook_for_every_collect_one_runs_names_no_collect(core, scene):
    created = create(core, scene.stranger.id, events=ALL_EVENTS)
    assert created.webhook.collect is None
    assert core.db.webhooks[created.webhook.id].collect_id is None
    assert set(created.webhook.events) == set(EventType)


def test_an_organiser_subscribes_to_a_collect_they_organise(core, scene):
    created = create(core, scene.organiser.id, collect=scene.collect_id)
    assert created.webhook.collect == scene.collect_id
    assert core.db.webhooks[created.webhook.id].user_id == scene.organiser.id


def test_development_accepts_a_plain_http_url(core, scene):
    created = create(core, scene.author.id, url="http://localhost:9000/hook")
    assert created.webhook.url == "http://localhost:9000/hook"


@pytest.mark.parametrize("fate", ["unknown", "deleted", "deactivated"])
@pytest.mark.parametrize("case", ["valid", "invalid", "foreign collect", "missing collect"])
def test_a_caller_who_is_gone_or_inactive_is_not_authenticated_first(core, scene, fate, case):
    caller = NOBODY
    if fate == "deleted":
        caller = scene.author.id
        del core.db.users[caller]
    elif fate == "deactivated":
        caller = scene.author.id
        core.db.users[caller].is_active = False
    other = core.collect(core.user("boris")).collect.id
    arguments: dict[str, Any] = {
        "valid": {"collect": scene.collect_id},
        "invalid": {"url": "ftp://x", "events": ["nope"], "collect": scene.collect_id},
        "foreign collect": {"collect": other, "url": None},
        "missing collect": {"collect": NOBODY, "events": []},
    }[case]
    before = stored(core)
    with pytest.raises(AuthenticationFailed):
        create(core, caller, **arguments)
    assert stored(core) == before


@pytest.mark.parametrize("who", ["participant", "donor", "stranger", "demoted", "other author"])
def test_a_collect_the_caller_neither_authors_nor_organises_is_not_found(core, scene, who):
    pay(core, scene.donor, scene.collect_id)  # the donor takes part now
    if who == "demoted":
        core.container.remove_organiser()(
            MemberRequest(scene.collect_id, scene.author.id, scene.organiser.id)
        )
        caller = scene.organiser.id
    elif who == "other author":
        other = core.user("boris")
        core.collect(other)
        caller = other.id
    else:
        caller = getattr(scene, who).id
    before = stored(core)
    with pytest.raises(NotFound) as hidden:
        create(core, caller, collect=scene.collect_id)
    with pytest.raises(NotFound) as missing:
        create(core, scene.author.id, collect=NOBODY)
    assert hidden.value.detail == missing.value.detail
    assert stored(core) == before


@pytest.mark.parametrize(
    "invalid",
    [{"url": "not a url"}, {"events": ["nope"]}, {"url": None, "events": None}],
)
def test_a_collect_not_found_comes_before_invalid_fields(core, scene, invalid):
    before = stored(core)
    for caller, collect in ((scene.stranger.id, scene.collect_id), (scene.author.id, NOBODY)):
        with pytest.raises(NotFound):
            create(core, caller, collect=collect, **invalid)
    assert stored(core) == before


def test_every_missing_field_is_named(core, scene):
    before = stored(core)
    with pytest.raises(ValidationFailed) as raised:
        create(core, scene.author.id, url=None, events=None, collect=scene.collect_id)
    assert raised.value.errors == (FieldError("url", REQUIRED), FieldError("events", REQUIRED))
    assert stored(core) == before


@pytest.mark.parametrize(
    ("url", "events", "fields"),
    [
        ("ftp://hooks.example.com", ["payment.created"], ["url"]),
        (URL, [], ["events"]),
        (URL, ["payment.created", "payment.deleted"], ["events"]),
        ("https://user:pw@hooks.example.com", ["nope"], ["url", "events"]),
        ("https://hooks.example.com/#x", [], ["url", "events"]),
    ],
)
def test_every_invalid_field_is_named(core, scene, url, events, fields):
    before = stored(core)
    with pytest.raises(ValidationFailed) as raised:
        create(core, scene.organiser.id, url=url, events=events, collect=scene.collect_id)
    assert errors_of(raised) == fields
    assert stored(core) == before


def test_what_the_edge_could_not_convert_is_named_with_the_other_fields(core, scene):
    """An unconvertible `collect` is no lookup (no 404), just one more bad field."""
    rejected = (FieldError("collect", "Expected `int | null`, got `str`."),)
    with pytest.raises(ValidationFailed) as raised:
        create(core, scene.stranger.id, url="nope", errors=rejected)
    assert raised.value.errors[0] == rejected[0]
    assert errors_of(raised) == ["collect", "url"]
    assert core.db.webhooks == {}


def test_an_11th_webhook_is_refused_on_url_and_nothing_is_stored(core, scene):
    for number in range(10):
        create(core, scene.author.id, url=f"{URL}/{number}")
    before = stored(core)
    for collect in (None, scene.collect_id):
        with pytest.raises(ValidationFailed) as raised:
            create(core, scene.author.id, url=f"{URL}/11", collect=collect)
        assert errors_of(raised) == ["url"]
        assert "10 webhooks" in raised.value.errors[0].message
    assert stored(core) == before
    assert webhooks_of(core, scene.author.id).count == 10

    create(core, scene.organiser.id)  # the limit is per user
    delete(core, webhooks_of(core, scene.author.id).items[0].id, scene.author.id)
    create(core, scene.author.id, url=f"{URL}/11")
    assert webhooks_of(core, scene.author.id).count == 10


def test_a_url_the_transport_refuses_is_refused_on_url(core, scene):
    core.webhooks.refused = {"internal.example"}
    before = stored(core)
    with pytest.raises(ValidationFailed) as raised:
        create(core, scene.author.id, url="https://internal.example:8443/hook")
    assert raised.value.errors == (FieldError("url", "Must not point at a private address."),)
    assert stored(core) == before
    assert create(core, scene.author.id, url="https://public.example/hook").webhook.id


def test_a_refused_url_is_named_with_the_other_invalid_fields(core, scene):
    core.webhooks.refused = {"internal.example"}
    with pytest.raises(ValidationFailed) as raised:
        create(core, scene.author.id, url="https://internal.example/hook", events=["nope"])
    assert errors_of(raised) == ["url", "events"]


def test_production_accepts_only_https(core, scene):
    https_only = CreateWebhook(core.uow, core.webhooks, core.clock, https_only=True)
    with pytest.raises(ValidationFailed) as raised:
        https_only(NewWebhook(scene.author.id, "http://hooks.example.com/in", ["payment.created"]))
    assert errors_of(raised) == ["url"]
    assert "https://" in raised.value.errors[0].message
    assert core.db.webhooks == {}
    created = https_only(NewWebhook(scene.author.id, URL, ["payment.created"]))
    assert core.db.webhooks[created.webhook.id].url == URL


# --- DeleteWebhook, ListWebhooks, ListDeliveries ---


def test_deleting_a_webhook_removes_it_and_its_deliveries_only(core, scene):
    gone = create(core, scene.author.id).webhook.id
    kept = create(core, scene.author.id, url=f"{URL}/kept").webhook.id
    pay(core, scene.donor, scene.collect_id)
    assert {d.webhook_id for d in deliveries(core)} == {gone, kept}

    delete(core, gone, scene.author.id)
    assert gone not in core.db.webhooks
    assert [d.webhook_id for d in deliveries(core)] == [kept]
    assert [w.id for w in webhooks_of(core, scene.author.id).items] == [kept]
    with pytest.raises(NotFound):
        delete(core, gone, scene.author.id)  # deleted already


def test_another_users_webhook_is_not_found_for_deleting_or_its_deliveries(core, scene):
    webhook = create(core, scene.author.id).webhook.id
    pay(core, scene.donor, scene.collect_id)
    before = stored(core)
    for user in (scene.organiser, scene.stranger):
        for action in (delete, deliveries_page):
            with pytest.raises(NotFound) as hidden:
                action(core, webhook, user.id)
            with pytest.raises(NotFound) as missing:
                action(core, NOBODY, user.id)
            assert hidden.value.detail == missing.value.detail
    assert stored(core) == before


def test_a_deactivated_owner_is_not_authenticated_to_delete_or_list_deliveries(core, scene):
    webhook = create(core, scene.author.id).webhook.id
    core.db.users[scene.author.id].is_active = False
    for action in (delete, deliveries_page):
        with pytest.raises(AuthenticationFailed):
            action(core, webhook, scene.author.id)
    assert webhook in core.db.webhooks


def test_a_users_webhooks_are_paged_newest_first(core, scene):
    ids = []
    for number in range(3):
        ids.append(create(core, scene.author.id, url=f"{URL}/{number}").webhook.id)
        core.clock.advance(minutes=1)
    create(core, scene.organiser.id)

    first = webhooks_of(core, scene.author.id, 1, 2)
    assert ([w.id for w in first.items], first.count, first.number, first.size) == (
        [ids[2], ids[1]],
        3,
        1,
        2,
    )
    second = webhooks_of(core, scene.author.id, 2, 2)
    assert [w.url for w in second.items] == [f"{URL}/0"]
    with pytest.raises(NotFound):
        webhooks_of(core, scene.author.id, 3, 2)
    empty = webhooks_of(core, scene.stranger.id)
    assert (list(empty.items), empty.count) == ([], 0)


def test_a_webhooks_deliveries_are_paged_newest_first_with_their_state(core, scene):
    webhook = create(core, scene.author.id).webhook.id
    assert deliveries_page(core, webhook, scene.author.id).items == []
    for amount in ("1.00", "2.00", "3.00"):
        pay(core, scene.donor, scene.collect_id, amount)
    oldest, middle, newest = deliveries(core, webhook=webhook)
    core.clock.advance(seconds=5)
    deliver(core, oldest.id)  # type: ignore[arg-type]

    page = deliveries_page(core, webhook, scene.author.id, 1, 2)
    assert ([d.id for d in page.items], page.count) == ([newest.id, middle.id], 3)
    assert page.items[0] == DeliveryView(
        newest.id,  # type: ignore[arg-type]
        newest.event_id,
        EventType.PAYMENT_CREATED,
        DeliveryStatus.PENDING,
        attempts=0,
        last_status_code=None,
        last_attempt_at=None,
    )
    (last,) = deliveries_page(core, webhook, scene.author.id, 2, 2).items
    assert (last.id, last.status, last.attempts, last.last_status_code, last.last_attempt_at) == (
        oldest.id,
        DeliveryStatus.DELIVERED,
        1,
        200,
        core.clock.now(),
    )
    with pytest.raises(NotFound):
        deliveries_page(core, webhook, scene.author.id, 3, 2)


# --- the events a write records ---


def test_a_donation_records_one_delivery_per_webhook_that_wants_it(core, scene):
    author, organiser = scene.author.id, scene.organiser.id
    here = create(core, author, collect=scene.collect_id).webhook.id
    everywhere = create(core, author, url=f"{URL}/all", events=ALL_EVENTS).webhook.id
    organisers = create(core, organiser).webhook.id
    elsewhere = core.collect(scene.author, title="Другой").collect.id
    create(core, author, collect=elsewhere)  # another collect's
    create(core, author, events=["payment.refunded"], collect=scene.collect_id)  # unwanted
    create(core, scene.participant.id)  # takes part, runs nothing
    create(core, scene.stranger.id)  # runs no collect
    boris = core.user("boris")
    core.join_collect(Join(scene.collect_id, boris.id))
    promote(core, scene.collect_id, author, boris.id)
    create(core, boris.id)
    core.db.users[boris.id].is_active = False  # an owner deactivated since
    assert deliveries(core) == []

    pay(core, scene.donor, scene.collect_id)
    recorded = deliveries(core)
    assert [d.webhook_id for d in recorded] == [here, everywhere, organisers]
    assert {(d.event_type, d.status, d.attempts) for d in recorded} == {
        (EventType.PAYMENT_CREATED, DeliveryStatus.PENDING, 0)
    }
    assert len({d.event_id for d in recorded}) == 1  # one event, three deliveries
    assert len({d.body for d in recorded}) == 1
    tasks = [DeliverWebhook(d.id) for d in recorded]  # type: ignore[arg-type]
    assert [m.task for m in webhook_messages(core)] == tasks
    assert [t for t in core.queue.tasks if isinstance(t, DeliverWebhook)] == tasks


def test_a_donation_to_another_collect_goes_to_its_webhooks_only(core, scene):
    here = create(core, scene.author.id, collect=scene.collect_id).webhook.id
    everywhere = create(core, scene.author.id).webhook.id
    elsewhere = core.collect(scene.author, title="Другой").collect.id
    there = create(core, scene.author.id, collect=elsewhere).webhook.id
    pay(core, scene.donor, elsewhere)
    assert [d.webhook_id for d in deliveries(core)] == [everywhere, there]
    assert deliveries(core, webhook=here) == []


def test_the_body_is_the_event_with_the_payment_as_data(core, scene):
    create(core, scene.author.id)
    core.clock.advance(hours=1)
    payment = core.give(scene.donor, scene.collect_id, "250.50").payment
    (delivery,) = deliveries(core)
    body = body_of(delivery)
    assert set(body) == {"id", "type", "timestamp", "data"}
    assert body["id"] == delivery.event_id
    assert delivery.event_id.startswith("evt_")
    assert body["type"] == "payment.created"
    assert datetime.fromisoformat(body["timestamp"]) == core.clock.now()
    assert body["data"] == as_json(payment_fields(payment))
    assert (body["data"]["id"], body["data"]["amount"]) == (payment.id, "250.50")
    assert delivery.created_at == core.clock.now()


def test_a_donation_without_any_webhook_records_no_delivery(core, scene):
    create(core, scene.author.id, collect=core.collect(scene.author).collect.id)
    pay(core, scene.donor, scene.collect_id)
    assert deliveries(core) == []
    assert webhook_messages(core) == []


def test_a_refund_records_payment_refunded_once(core, scene):
    refunds = create(core, scene.organiser.id, events=["payment.refunded"]).webhook.id
    paid = pay(core, scene.donor, scene.collect_id)
    assert deliveries(core) == []
    core.clock.advance(minutes=5)
    refunded = refund(core, paid.id, scene.author.id)
    (delivery,) = deliveries(core)
    assert (delivery.webhook_id, delivery.event_type) == (refunds, EventType.PAYMENT_REFUNDED)
    data = body_of(delivery)["data"]
    assert data == as_json(payment_fields(refunded))
    assert data["status"] == "refunded"
    assert [m.task for m in webhook_messages(core)] == [DeliverWebhook(delivery.id)]  # type: ignore[arg-type]

    refund(core, paid.id, scene.organiser.id)  # refunded already: nothing happens
    assert len(deliveries(core)) == 1


def test_cancelling_records_collect_closed_once_and_each_refund(core, scene):
    everything = create(core, scene.author.id, events=ALL_EVENTS).webhook.id
    refunds = create(core, scene.organiser.id, events=["payment.refunded"]).webhook.id
    paid = [
        pay(core, scene.donor, scene.collect_id, "10.00"),
        pay(core, scene.donor, scene.collect_id, "20.00"),
        pay(core, scene.participant, scene.collect_id, "30.00"),
    ]
    created = len(deliveries(core))
    assert created == 3  # payment.created, to the author's webhook

    core.clock.advance(hours=1)
    core.container.cancel_collect()(CollectDeletion(scene.collect_id, scene.author.id))
    (closed,) = deliveries(core, event=EventType.COLLECT_CLOSED)
    assert closed.webhook_id == everything
    data = body_of(closed)["data"]
    assert (data["id"], data["status"]) == (scene.collect_id, "cancelled")
    assert deliveries(core, event=EventType.PAYMENT_REFUNDED) == []  # not before the task runs

    (task,) = [
        row.message.task
        for row in core.db.outbox.values()
        if isinstance(row.message.task, RefundCollect)
    ]
    core.container.refund_cancelled_collect()(task)
    for webhook in (everything, refunds):
        refunded = deliveries(core, webhook=webhook, event=EventType.PAYMENT_REFUNDED)
        assert [body_of(d)["data"]["id"] for d in refunded] == [p.id for p in paid]
        assert {body_of(d)["data"]["status"] for d in refunded} == {"refunded"}
        assert len({d.event_id for d in refunded}) == 3  # one event per refund
    mine, theirs = (
        deliveries(core, webhook=webhook, event=EventType.PAYMENT_REFUNDED)
        for webhook in (everything, refunds)
    )
    assert [d.event_id for d in mine] == [d.event_id for d in theirs]  # the same events
    assert len(webhook_messages(core)) == created + 1 + 6

    core.container.refund_cancelled_collect()(task)  # nothing is left to refund
    sweep(core)  # and a cancelled collect does not end again
    assert len(deliveries(core, event=EventType.COLLECT_CLOSED)) == 1
    assert len(deliveries(core)) == created + 1 + 6


def test_a_collect_that_ended_and_is_cancelled_after_is_closed_once(core, scene):
    collect = core.collect(scene.author, end_date=core.clock.now() + timedelta(days=1)).collect.id
    create(core, scene.author.id, events=["collect.closed"], collect=collect)
    core.clock.advance(days=2)
    sweep(core)
    (closed,) = deliveries(core, event=EventType.COLLECT_CLOSED)
    assert body_of(closed)["data"]["status"] == "ended"

    core.container.cancel_collect()(CollectDeletion(collect, scene.author.id))
    assert deliveries(core, event=EventType.COLLECT_CLOSED) == [closed]


def test_the_sweep_records_goal_reached_once(core, scene):
    collect = core.collect(
        scene.author, goal_amount=Money.of("150.00"), end_date=core.clock.now() + timedelta(days=7)
    ).collect.id
    create(core, scene.author.id, events=["collect.goal_reached"], collect=collect)
    first = pay(core, scene.donor, collect, "100.00")
    sweep(core)
    assert deliveries(core) == []

    pay(core, scene.participant, collect, "60.00")
    sweep(core)
    (reached,) = deliveries(core, event=EventType.COLLECT_GOAL_REACHED)
    data = body_of(reached)["data"]
    assert (data["id"], data["collected_amount"], data["goal_amount"]) == (
        collect,
        "160.00",
        "150.00",
    )
    assert [m.task for m in webhook_messages(core)] == [DeliverWebhook(reached.id)]  # type: ignore[arg-type]

    sweep(core)
    refund(core, first.id, scene.author.id)
    pay(core, scene.donor, collect, "100.00")  # reached again
    sweep(core)
    assert len(deliveries(core)) == 1


def test_the_sweep_records_collect_closed_once_when_the_collect_ends(core, scene):
    ends = core.clock.now() + timedelta(days=2)
    collect = core.collect(scene.author, end_date=ends).collect.id
    create(core, scene.author.id, events=["collect.closed"], collect=collect)
    sweep(core)
    core.clock.current = ends - timedelta(hours=12)  # ending soon is no event
    sweep(core)
    assert deliveries(core) == []

    core.clock.current = ends + timedelta(minutes=1)
    sweep(core)
    sweep(core)
    (closed,) = deliveries(core)
    assert closed.event_type is EventType.COLLECT_CLOSED
    data = body_of(closed)["data"]
    assert (data["id"], data["status"]) == (collect, "ended")
    assert datetime.fromisoformat(body_of(closed)["timestamp"]) == core.clock.now()


def test_the_sweep_records_collect_closed_once_when_the_author_closes_it(core, scene):
    create(core, scene.author.id, events=["collect.closed"])
    core.update_collect(
        CollectChange(scene.collect_id, scene.author.id, CollectFields(is_active=False))
    )
    assert deliveries(core) == []  # the sweep announces it
    sweep(core)
    sweep(core)
    (closed,) = deliveries(core)
    assert body_of(closed)["data"]["status"] == "closed"


def test_a_refused_donation_records_nothing(core, scene):
    create(core, scene.author.id)
    core.container.cancel_collect()(CollectDeletion(scene.collect_id, scene.author.id))
    with pytest.raises(Conflict):
        pay(core, scene.donor, scene.collect_id)
    assert deliveries(core) == []
    assert webhook_messages(core) == []


def test_a_donation_whose_commit_fails_records_nothing(core, scene):
    """The event was recorded in the transaction; the transaction is gone, and so is it."""
    create(core, scene.author.id)

    def failing() -> FakeUnitOfWork:
        uow = core.uow()
        uow.fail_commit = True
        return uow

    donate = attrs.evolve(core.container.donate(), uow_factory=failing)
    published = len(core.queue.published)
    with pytest.raises(RuntimeError, match="commit failed"):
        donate(Donation(scene.donor.id, scene.collect_id, Money.of("10.00"), "tx-failing"))
    assert deliveries(core) == []
    assert webhook_messages(core) == []
    assert len(core.queue.published) == published


# --- DeliverWebhookTask ---


@pytest.fixture
def pending(core, scene) -> tuple[CreatedWebhook, Delivery]:
    """A webhook of the author's and the one delivery a donation recorded for it."""
    created = create(core, scene.author.id)
    pay(core, scene.donor, scene.collect_id)
    (delivery,) = deliveries(core)
    return created, delivery


def delivery_now(core, delivery: Delivery) -> Delivery:
    return core.db.deliveries[delivery.id]  # type: ignore[no-any-return]


def signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    """The signature the real library makes for these headers (without its clock check)."""
    moment = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    return standardwebhooks.Webhook(secret).sign(headers["webhook-id"], moment, body)


def test_a_delivery_is_signed_with_the_webhooks_secret_per_standard_webhooks(core, pending):
    created, delivery = pending
    core.clock.current = datetime.now(UTC)  # the library checks the timestamp against real time
    deliver(core, delivery.id)
    ((url, body, headers),) = core.webhooks.posts
    assert (url, body) == (URL, delivery.body)
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == delivery.event_id
    assert headers["webhook-timestamp"] == str(int(core.clock.now().timestamp()))
    assert headers["webhook-signature"].startswith("v1,")

    received = standardwebhooks.Webhook(created.secret).verify(body, headers)
    assert received["id"] == headers["webhook-id"]
    assert received == body_of(delivery)
    another = create(core, core.user("boris").id).secret
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(another).verify(body, headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(created.secret).verify(body + b" ", headers)

    after = delivery_now(core, delivery)
    assert (after.status, after.attempts, after.last_status_code, after.last_attempt_at) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
        core.clock.now(),
    )


def test_a_failed_attempt_defers_the_task_by_the_backoff(core, pending):
    _, delivery = pending
    core.webhooks.statuses = [500, 200]
    with pytest.raises(TaskDeferred) as deferred:
        deliver(core, delivery.id)
    assert deferred.value.retry_in == 30.0
    assert "500" in str(deferred.value)
    after = delivery_now(core, delivery)
    assert (after.status, after.attempts, after.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        500,
    )
    assert after.last_attempt_at == core.clock.now()
    assert after.next_attempt_at == core.clock.now() + timedelta(seconds=30)


def test_no_answer_is_a_failed_attempt_too(core, pending):
    _, delivery = pending
    core.webhooks.statuses = [None, 204]
    with pytest.raises(TaskDeferred):
        deliver(core, delivery.id)
    after = delivery_now(core, delivery)
    assert (after.status, after.attempts, after.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        None,
    )


def test_the_next_attempt_waits_until_due_then_resends_the_same_event_freshly_signed(core, pending):
    created, delivery = pending
    core.webhooks.statuses = [500, 200]
    with pytest.raises(TaskDeferred):
        deliver(core, delivery.id)

    for elapsed, remaining in ((0, 30.0), (10, 20.0), (19, 1.0)):
        core.clock.advance(seconds=elapsed)
        with pytest.raises(TaskDeferred) as early:
            deliver(core, delivery.id)
        assert early.value.retry_in == remaining
        assert len(core.webhooks.posts) == 1  # not posted before it is due
    assert delivery_now(core, delivery).attempts == 1

    core.clock.advance(seconds=1)
    deliver(core, delivery.id)
    (_, first_body, first), (_, second_body, second) = core.webhooks.posts
    assert second["webhook-id"] == first["webhook-id"] == delivery.event_id
    assert int(second["webhook-timestamp"]) == int(first["webhook-timestamp"]) + 30
    assert second["webhook-signature"] != first["webhook-signature"]
    assert second_body == first_body == delivery.body
    for headers in (first, second):
        assert headers["webhook-signature"] == signature(created.secret, headers, delivery.body)
    after = delivery_now(core, delivery)
    assert (after.status, after.attempts, after.last_status_code, after.next_attempt_at) == (
        DeliveryStatus.DELIVERED,
        2,
        200,
        None,
    )
    assert after.first_attempt_at == core.clock.now() - timedelta(seconds=30)


def test_after_the_last_attempt_the_delivery_fails_without_an_exception(core, pending):
    _, delivery = pending
    core.webhooks.statuses = [503]
    waits = []
    for _ in range(10):
        try:
            deliver(core, delivery.id)
        except TaskDeferred as deferred:
            waits.append(deferred.retry_in)
            core.clock.advance(seconds=deferred.retry_in)
        else:
            break
    assert waits == [30, 60, 120, 240, 3150]
    assert len(core.webhooks.posts) == 6
    stamps = [int(headers["webhook-timestamp"]) for _, _, headers in core.webhooks.posts]
    assert stamps[-1] - stamps[0] == 3600
    assert {headers["webhook-id"] for _, _, headers in core.webhooks.posts} == {delivery.event_id}
    after = delivery_now(core, delivery)
    assert (after.status, after.attempts, after.last_status_code, after.next_attempt_at) == (
        DeliveryStatus.FAILED,
        6,
        503,
        None,
    )

    core.clock.advance(hours=1)
    deliver(core, delivery.id)  # a late copy of the message does nothing
    assert len(core.webhooks.posts) == 6


def test_a_delivered_delivery_is_not_posted_again(core, pending):
    _, delivery = pending
    deliver(core, delivery.id)
    deliver(core, delivery.id)
    assert len(core.webhooks.posts) == 1
    assert delivery_now(core, delivery).attempts == 1


def test_a_deleted_webhooks_delivery_is_skipped_silently(core, scene, pending):
    created, delivery = pending
    delete(core, created.webhook.id, scene.author.id)
    deliver(core, delivery.id)
    deliver(core, NOBODY)
    assert core.webhooks.posts == []


def test_giving_up_fails_a_pending_delivery_and_nothing_else(core, pending):
    _, delivery = pending
    core.webhooks.statuses = [500, 200]
    with pytest.raises(TaskDeferred):
        deliver(core, delivery.id)
    deliver_webhook = core.container.deliver_webhook()
    deliver_webhook.give_up(DeliverWebhook(delivery.id))
    after = delivery_now(core, delivery)
    assert (after.status, after.attempts, after.next_attempt_at) == (DeliveryStatus.FAILED, 1, None)
    core.clock.advance(minutes=1)
    deliver(core, delivery.id)
    assert len(core.webhooks.posts) == 1

    deliver_webhook.give_up(DeliverWebhook(NOBODY))  # gone: nothing to do


def test_giving_up_on_a_delivered_delivery_changes_nothing(core, pending):
    _, delivery = pending
    deliver(core, delivery.id)
    core.container.deliver_webhook().give_up(DeliverWebhook(delivery.id))
    assert delivery_now(core, delivery).status is DeliveryStatus.DELIVERED


# --- through the outbox: RunTask and the relay ---


def test_a_deferred_task_keeps_its_message_claimed_until_the_next_attempt(core, pending):
    _, delivery = pending
    message = message_of(core, delivery.id)  # type: ignore[arg-type]
    start = core.clock.now()

    def row() -> OutboxRow:  # read again: a rolled-back unit of work replaces the rows
        return core.db.outbox[message.id]  # type: ignore[no-any-return]

    core.webhooks.statuses = [500, 500, 200]

    with pytest.raises(TaskDeferred) as deferred:
        core.run_task(message)
    assert type(deferred.value) is TaskDeferred
    assert deferred.value.retry_in == 30.0
    assert row().claimed_until == delivery_now(core, delivery).next_attempt_at
    assert row().claimed_until == start + timedelta(seconds=30)
    assert row().finished_at is None

    core.clock.advance(seconds=10)
    with pytest.raises(TaskHeld) as held:  # a copy delivered early is not run
        core.run_task(message)
    assert held.value.retry_in == 20.0
    assert len(core.webhooks.posts) == 1

    core.clock.advance(seconds=20)
    with pytest.raises(TaskDeferred):
        core.run_task(message)  # the second attempt, answered 500 too
    assert len(core.webhooks.posts) == 2
    assert row().claimed_until == delivery_now(core, delivery).next_attempt_at
    assert row().claimed_until == start + timedelta(seconds=90)

    core.clock.current = start + timedelta(seconds=75)  # past the relay's grace, not yet due
    core.queue.published.clear()
    core.relay()
    assert core.queue.published  # the relay ran: the donation's e-mails went again
    assert message not in core.queue.published

    core.clock.current = start + timedelta(seconds=90)
    core.relay()
    assert message in core.queue.published
    core.run_task(message)
    assert len(core.webhooks.posts) == 3
    assert row().finished_at == core.clock.now()
    assert delivery_now(core, delivery).status is DeliveryStatus.DELIVERED


def test_when_the_worker_gives_up_the_message_is_buried_and_the_delivery_fails(core, pending):
    _, delivery = pending
    message = message_of(core, delivery.id)  # type: ignore[arg-type]
    core.webhooks.statuses = [500]
    with pytest.raises(TaskDeferred):
        core.run_task(message)
    core.run_task.give_up(message)
    assert core.db.outbox[message.id].dead_at == core.clock.now()
    after = delivery_now(core, delivery)
    assert (after.status, after.attempts) == (DeliveryStatus.FAILED, 1)
