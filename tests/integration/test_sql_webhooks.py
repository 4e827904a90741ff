"""Webhooks and their deliveries in SQL on SQLite and MariaDB: round trips field for field, who
subscribes to a collect's events, deliveries stored with the event's exact body and saved after
each attempt, deletion with the deliveries, and the owner's lists newest first."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, select, update

from fundraising.adapters.sql.tables import users, webhook_deliveries
from fundraising.adapters.sql.webhooks import SqlWebhookQueries
from fundraising.adapters.webhooks.bodies import event_body
from fundraising.application.pagination import PageRequest
from fundraising.application.views import DeliveryView, WebhookView
from fundraising.domain.collect import Collect
from fundraising.domain.membership import Member, Role
from fundraising.domain.user import User
from fundraising.domain.webhook import (
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    RetrySchedule,
    Webhook,
    new_event_id,
    new_secret,
)
from tests.integration.conftest import NOW, Rows, UowFactory
from tests.integration.sql_helpers import MOSCOW, _is_utc_with_microseconds

EVERY_EVENT = frozenset(EventType)
SCHEDULE = RetrySchedule(max_attempts=3, backoff=timedelta(seconds=30))


def _webhook(
    user: User,
    collect: Collect | None = None,
    events: frozenset[EventType] = EVERY_EVENT,
    *,
    url: str = "https://hooks.example.com/fundraising",
    created_at: datetime = NOW,
) -> Webhook:
    assert user.id is not None
    collect_id = None if collect is None else collect.id
    return Webhook(None, user.id, url, events, collect_id, new_secret(), created_at)


def _add(uow_factory: UowFactory, *webhooks: Webhook) -> list[int]:
    """The webhooks, added in one committed unit of work; their ids."""
    with uow_factory() as uow:
        added = [uow.webhooks.add(webhook) for webhook in webhooks]
        uow.commit()
    ids = [webhook.id for webhook in added]
    assert all(isinstance(webhook_id, int) for webhook_id in ids)
    return [webhook_id for webhook_id in ids if webhook_id is not None]


def _join(uow_factory: UowFactory, collect: Collect, *people: tuple[User, Role]) -> None:
    with uow_factory() as uow:
        for user, role in people:
            assert collect.id is not None and user.id is not None
            uow.members.add(Member(collect.id, user.id, role, joined_at=NOW))
        uow.commit()


def _event(
    event_type: EventType = EventType.PAYMENT_CREATED, *, description: str = "На подарок"
) -> Event:
    data = {
        "id": 17,
        "amount": Decimal("150.50"),
        "collect": {"id": 3, "title": "Подарок «Марии»", "description": description},
        "payment_date": NOW,
        "comment": None,
    }
    return Event(new_event_id(), event_type, NOW + timedelta(seconds=5), data)


def _deliver(uow_factory: UowFactory, event: Event, webhook_ids: list[int]) -> list[int]:
    with uow_factory() as uow:
        ids = list(uow.webhooks.add_deliveries(event, webhook_ids))
        uow.commit()
    return ids


def _delivery(uow_factory: UowFactory, delivery_id: int) -> Delivery:
    with uow_factory() as uow:
        found = uow.webhooks.delivery(delivery_id)
    assert found is not None
    return found


def _at(value: datetime | None, expected: datetime) -> bool:
    """The stored moment is `expected`, in UTC, to the microsecond."""
    return value is not None and _is_utc_with_microseconds(value, expected)


def _delivery_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(webhook_deliveries)).one()[0]
        )


def test_a_webhook_round_trips_every_field(rows: Rows, uow_factory: UowFactory):
    owner, other = rows.user("owner"), rows.user("other")
    collect = rows.collect(owner)
    moscow_time = (NOW + timedelta(days=1, microseconds=1)).astimezone(MOSCOW)
    every = _webhook(owner, url="http://receiver.example.org:8080/hooks?token=%D0%B6")
    one = _webhook(owner, collect, frozenset({EventType.COLLECT_CLOSED}), created_at=moscow_time)
    every_id, one_id = _add(uow_factory, every, one)

    with uow_factory() as uow:
        found = [uow.webhooks.get(every_id), uow.webhooks.get(one_id)]
        counts = (uow.webhooks.count_of(owner.id), uow.webhooks.count_of(other.id))
        locked = uow.webhooks.count_of(owner.id, for_update=True)
        missing = uow.webhooks.get(999_999)

    assert every_id != one_id
    for stored, added in zip(found, (every, one), strict=True):
        assert stored is not None
        assert (stored.id, stored.user_id, stored.url, stored.secret) == (
            added.id,
            added.user_id,
            added.url,
            added.secret,
        )
        assert stored.events == added.events
        assert all(type(event) is EventType for event in stored.events)
        assert stored.collect_id == added.collect_id
    assert found[0] is not None and found[1] is not None
    assert found[0].collect_id is None and found[1].collect_id == collect.id
    assert found[0].events == EVERY_EVENT
    assert found[1].events == frozenset({EventType.COLLECT_CLOSED})
    assert found[0].secret.startswith("whsec_") and found[0].secret != found[1].secret
    assert _is_utc_with_microseconds(found[0].created_at, NOW)
    assert _is_utc_with_microseconds(found[1].created_at, moscow_time)
    assert counts == (2, 0)
    assert locked == 2
    assert missing is None


def test_deleting_a_webhook_leaves_the_others(rows: Rows, uow_factory: UowFactory):
    owner = rows.user("owner")
    gone, kept = _add(uow_factory, _webhook(owner), _webhook(owner))

    with uow_factory() as uow:
        uow.webhooks.delete(gone)
        uow.commit()

    with uow_factory() as uow:
        assert uow.webhooks.get(gone) is None
        assert uow.webhooks.get(kept) is not None
        assert uow.webhooks.count_of(owner.id) == 1


def test_a_delete_not_committed_changes_nothing(rows: Rows, uow_factory: UowFactory):
    owner = rows.user("owner")
    (webhook_id,) = _add(uow_factory, _webhook(owner))

    with uow_factory() as uow:
        uow.webhooks.delete(webhook_id)

    with uow_factory() as uow:
        assert uow.webhooks.get(webhook_id) is not None


def test_subscribers_are_the_webhooks_of_those_running_the_collect(
    rows: Rows, uow_factory: UowFactory, engine: Engine
):
    author, organiser, participant = rows.user("author"), rows.user("organiser"), rows.user("p")
    outsider, retired = rows.user("outsider"), rows.user("retired")
    collect, other = rows.collect(author, title="Этот"), rows.collect(author, title="Другой")
    _join(
        uow_factory,
        collect,
        (author, Role.AUTHOR),
        (organiser, Role.ORGANISER),
        (participant, Role.PARTICIPANT),
        (retired, Role.ORGANISER),
    )
    _join(uow_factory, other, (author, Role.AUTHOR))
    payments = frozenset({EventType.PAYMENT_CREATED, EventType.PAYMENT_REFUNDED})
    (
        author_every,
        author_this,
        author_other,
        author_closing,
        organiser_payments,
        participant_this,
        participant_every,
        outsider_every,
        retired_every,
    ) = _add(
        uow_factory,
        _webhook(author),
        _webhook(author, collect, frozenset({EventType.PAYMENT_CREATED})),
        _webhook(author, other),
        _webhook(author, collect, frozenset({EventType.COLLECT_CLOSED})),
        _webhook(organiser, None, payments),
        _webhook(participant, collect),
        _webhook(participant),
        _webhook(outsider),
        _webhook(retired),
    )
    with engine.begin() as connection:
        connection.execute(update(users).where(users.c.id == retired.id).values(is_active=False))

    with uow_factory() as uow:
        created = uow.webhooks.subscribers(collect.id, EventType.PAYMENT_CREATED)
        closed = uow.webhooks.subscribers(collect.id, EventType.COLLECT_CLOSED)
        reached = uow.webhooks.subscribers(collect.id, EventType.COLLECT_GOAL_REACHED)
        on_other = uow.webhooks.subscribers(other.id, EventType.PAYMENT_REFUNDED)

    assert list(created) == [author_every, author_this, organiser_payments]
    assert list(closed) == [author_every, author_closing]
    assert list(reached) == [author_every]
    assert list(on_other) == [author_every, author_other]
    never = {participant_this, participant_every, outsider_every, retired_every}
    assert never.isdisjoint({*created, *closed, *reached, *on_other})


def test_add_deliveries_stores_one_pending_delivery_per_webhook_with_the_exact_body(
    rows: Rows, uow_factory: UowFactory
):
    owner = rows.user("owner")
    first, second = _add(uow_factory, _webhook(owner), _webhook(owner))
    event = _event(EventType.PAYMENT_REFUNDED)

    ids = _deliver(uow_factory, event, [first, second])
    none = _deliver(uow_factory, _event(), [])

    assert len(ids) == len(set(ids)) == 2 and none == []
    for delivery_id, webhook_id in zip(ids, (first, second), strict=True):
        delivery = _delivery(uow_factory, delivery_id)
        assert delivery.id == delivery_id
        assert delivery.webhook_id == webhook_id
        assert (delivery.event_id, delivery.event_type) == (event.id, EventType.PAYMENT_REFUNDED)
        assert delivery.body == event_body(event)
        assert delivery.status is DeliveryStatus.PENDING
        assert _is_utc_with_microseconds(delivery.created_at, event.occurred_at)
        assert delivery.attempts == 0
        assert delivery.first_attempt_at is None and delivery.last_attempt_at is None
        assert delivery.last_status_code is None and delivery.next_attempt_at is None
    sent = json.loads(_delivery(uow_factory, ids[0]).body)
    assert sent["id"] == event.id and sent["type"] == "payment.refunded"
    assert sent["data"]["amount"] == "150.50"
    assert sent["data"]["collect"]["title"] == "Подарок «Марии»"
    with uow_factory() as uow:
        assert uow.webhooks.delivery(999_999) is None


def test_a_body_larger_than_a_text_column_comes_back_byte_for_byte(
    rows: Rows, uow_factory: UowFactory
):
    """On MariaDB TEXT holds 65,535 bytes: the body is MEDIUMTEXT there."""
    owner = rows.user("owner")
    (webhook_id,) = _add(uow_factory, _webhook(owner))
    event = _event(EventType.COLLECT_CLOSED, description="Ёжик в тумане, " * 4_000)  # 60,000
    expected = event_body(event)

    (delivery_id,) = _deliver(uow_factory, event, [webhook_id])

    assert len(expected) > 100_000  # Cyrillic is two bytes a character
    assert _delivery(uow_factory, delivery_id).body == expected


def test_save_delivery_round_trips_every_attempt_field(rows: Rows, uow_factory: UowFactory):
    owner = rows.user("owner")
    (webhook_id,) = _add(uow_factory, _webhook(owner))
    retried, untouched = _deliver(uow_factory, _event(), [webhook_id, webhook_id])
    delivery = _delivery(uow_factory, retried)
    first_at = (NOW + timedelta(seconds=7, microseconds=1)).astimezone(MOSCOW)
    second_at = NOW + timedelta(minutes=1, microseconds=999_999)

    delivery.record(503, now=first_at, schedule=SCHEDULE)
    delivery.record(None, now=second_at, schedule=SCHEDULE)
    with uow_factory() as uow:
        uow.webhooks.save_delivery(delivery)
        uow.commit()
    pending = _delivery(uow_factory, retried)

    assert pending.status is DeliveryStatus.PENDING
    assert pending.attempts == 2
    assert _at(pending.first_attempt_at, first_at)
    assert _at(pending.last_attempt_at, second_at)
    assert pending.last_status_code is None
    assert delivery.next_attempt_at is not None
    assert _at(pending.next_attempt_at, delivery.next_attempt_at)
    assert pending.body == delivery.body and pending.event_id == delivery.event_id

    pending.record(204, now=second_at + timedelta(hours=1), schedule=SCHEDULE)
    with uow_factory() as uow:
        uow.webhooks.save_delivery(pending)
        uow.commit()
    delivered = _delivery(uow_factory, retried)

    assert delivered.status is DeliveryStatus.DELIVERED
    assert (delivered.attempts, delivered.last_status_code) == (3, 204)
    assert delivered.next_attempt_at is None
    assert _at(delivered.first_attempt_at, first_at)
    assert delivered.last_attempt_at == second_at + timedelta(hours=1)
    other = _delivery(uow_factory, untouched)
    assert (other.status, other.attempts, other.last_attempt_at) == (
        DeliveryStatus.PENDING,
        0,
        None,
    )


def test_a_failed_delivery_is_saved_as_failed(rows: Rows, uow_factory: UowFactory):
    owner = rows.user("owner")
    (webhook_id,) = _add(uow_factory, _webhook(owner))
    (delivery_id,) = _deliver(uow_factory, _event(), [webhook_id])
    delivery = _delivery(uow_factory, delivery_id)

    delivery.record(410, now=NOW, schedule=SCHEDULE)
    delivery.give_up()
    with uow_factory() as uow:
        uow.webhooks.save_delivery(delivery)
        uow.commit()
    failed = _delivery(uow_factory, delivery_id)

    assert failed.status is DeliveryStatus.FAILED and failed.done
    assert (failed.attempts, failed.last_status_code, failed.next_attempt_at) == (1, 410, None)


def test_deleting_a_webhook_deletes_its_deliveries_and_only_those(
    rows: Rows, uow_factory: UowFactory, engine: Engine
):
    owner = rows.user("owner")
    gone, kept = _add(uow_factory, _webhook(owner), _webhook(owner))
    event = _event()
    gone_delivery, kept_delivery = _deliver(uow_factory, event, [gone, kept])
    (later_gone,) = _deliver(uow_factory, _event(EventType.COLLECT_CLOSED), [gone])
    assert _delivery_rows(engine) == 3

    with uow_factory() as uow:
        uow.webhooks.delete(gone)
        uow.commit()

    with uow_factory() as uow:
        assert uow.webhooks.delivery(gone_delivery) is None
        assert uow.webhooks.delivery(later_gone) is None
        assert uow.webhooks.delivery(kept_delivery) is not None
    assert _delivery_rows(engine) == 1


def test_a_users_webhooks_are_listed_newest_first_with_their_count(
    rows: Rows, uow_factory: UowFactory, engine: Engine
):
    owner, other = rows.user("owner"), rows.user("other")
    collect = rows.collect(owner)
    closing = frozenset({EventType.COLLECT_CLOSED, EventType.COLLECT_GOAL_REACHED})
    oldest, middle, newest = _add(
        uow_factory,
        _webhook(owner, url="https://a.example.com/"),
        _webhook(owner, collect, closing, url="https://b.example.com/"),
        _webhook(owner, url="https://c.example.com/"),
    )
    (others,) = _add(uow_factory, _webhook(other))
    queries = SqlWebhookQueries(engine)

    first = queries.of_user(owner.id, PageRequest.of(1, 2))
    second = queries.of_user(owner.id, PageRequest.of(2, 2))
    theirs = queries.of_user(other.id, PageRequest.of())
    nobodys = queries.of_user(999_999, PageRequest.of())

    assert [view.id for view in first.items] == [newest, middle]
    assert [view.id for view in second.items] == [oldest]
    assert (first.count, second.count, first.has_next, second.has_next) == (3, 3, True, False)
    assert [view.id for view in theirs.items] == [others] and theirs.count == 1
    assert (list(nobodys.items), nobodys.count) == ([], 0)
    assert first.items[1] == WebhookView(
        middle,
        "https://b.example.com/",
        (EventType.COLLECT_CLOSED, EventType.COLLECT_GOAL_REACHED),
        collect.id,
        NOW,
    )
    assert first.items[0].collect is None
    assert first.items[0].events == tuple(sorted(EventType))


def test_a_webhooks_deliveries_are_listed_newest_first_with_their_count(
    rows: Rows, uow_factory: UowFactory, engine: Engine
):
    owner = rows.user("owner")
    webhook_id, other_id = _add(uow_factory, _webhook(owner), _webhook(owner))
    events = [_event(EventType.PAYMENT_CREATED), _event(EventType.COLLECT_GOAL_REACHED)]
    events.append(_event(EventType.COLLECT_CLOSED))
    ids = [_deliver(uow_factory, event, [webhook_id])[0] for event in events]
    _deliver(uow_factory, _event(), [other_id])
    delivered = _delivery(uow_factory, ids[1])
    delivered.record(200, now=NOW + timedelta(seconds=9), schedule=SCHEDULE)
    with uow_factory() as uow:
        uow.webhooks.save_delivery(delivered)
        uow.commit()
    queries = SqlWebhookQueries(engine)

    first = queries.deliveries(webhook_id, PageRequest.of(1, 2))
    second = queries.deliveries(webhook_id, PageRequest.of(2, 2))
    others = queries.deliveries(other_id, PageRequest.of())

    assert [view.id for view in first.items] == [ids[2], ids[1]]
    assert [view.id for view in second.items] == [ids[0]]
    assert (first.count, second.count, others.count) == (3, 3, 1)
    assert first.items[1] == DeliveryView(
        ids[1],
        events[1].id,
        EventType.COLLECT_GOAL_REACHED,
        DeliveryStatus.DELIVERED,
        1,
        200,
        NOW + timedelta(seconds=9),
    )
    assert first.items[0] == DeliveryView(
        ids[2], events[2].id, EventType.COLLECT_CLOSED, DeliveryStatus.PENDING, 0, None, None
    )
