"""Webhooks and their deliveries in SQL: the repository of a unit of work, and the lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, delete, func, insert, or_, select, update

from fundraising.adapters.sql.queries import page_of
from fundraising.adapters.sql.repositories import new_id
from fundraising.adapters.sql.tables import collect_members, users, webhook_deliveries, webhooks
from fundraising.adapters.webhooks.bodies import event_body
from fundraising.application.pagination import PageRequest
from fundraising.application.views import DeliveryView, Page, WebhookView
from fundraising.domain.membership import Role
from fundraising.domain.webhook import Delivery, DeliveryStatus, Event, EventType, Webhook

_RUNNING = (Role.AUTHOR.value, Role.ORGANISER.value)


def _events(text: str) -> frozenset[EventType]:
    return frozenset(EventType(name) for name in text.split(","))


def _webhook(row: RowMapping) -> Webhook:
    return Webhook(
        row["id"],
        row["user_id"],
        row["url"],
        _events(row["events"]),
        row["collect_id"],
        row["secret"],
        row["created_at"],
    )


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        webhook_id=row["webhook_id"],
        event_id=row["event_id"],
        event_type=EventType(row["event_type"]),
        body=row["body"].encode(),
        status=DeliveryStatus(row["status"]),
        created_at=row["created_at"],
        attempts=row["attempts"],
        first_attempt_at=row["first_attempt_at"],
        last_attempt_at=row["last_attempt_at"],
        last_status_code=row["last_status_code"],
        next_attempt_at=row["next_attempt_at"],
    )


class SqlWebhooks:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, webhook: Webhook) -> Webhook:
        values = {
            "user_id": webhook.user_id,
            "collect_id": webhook.collect_id,
            "url": webhook.url,
            "events": ",".join(sorted(webhook.events)),
            "secret": webhook.secret,
            "created_at": webhook.created_at,
        }
        webhook.id = new_id(self._db.execute(insert(webhooks), values))
        return webhook

    def count_of(self, user_id: int, *, for_update: bool = False) -> int:
        if for_update:
            self._db.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
        query = select(func.count()).where(webhooks.c.user_id == user_id)
        return int(self._db.execute(query).scalar_one())

    def get(self, webhook_id: int) -> Webhook | None:
        row = self._db.execute(select(webhooks).where(webhooks.c.id == webhook_id)).mappings()
        found = row.first()
        return _webhook(found) if found else None

    def delete(self, webhook_id: int) -> None:
        self._db.execute(
            delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
        )
        self._db.execute(delete(webhooks).where(webhooks.c.id == webhook_id))

    def subscribers(self, collect_id: int, event: EventType) -> Sequence[int]:
        w, m, u = webhooks.c, collect_members.c, users.c
        query = (
            select(w.id, w.events)
            .join(collect_members, (m.user_id == w.user_id) & (m.collect_id == collect_id))
            .join(users, u.id == w.user_id)
            .where(
                or_(w.collect_id == collect_id, w.collect_id.is_(None)),
                m.role.in_(_RUNNING),
                u.is_active.is_(True),
            )
            .order_by(w.id)
        )
        return [row.id for row in self._db.execute(query) if event in _events(row.events)]

    def add_deliveries(self, event: Event, webhook_ids: Sequence[int]) -> Sequence[int]:
        body = event_body(event).decode()
        ids = []
        for webhook_id in webhook_ids:  # one by one: only so is every id known on every database
            values: dict[str, Any] = {
                "webhook_id": webhook_id,
                "event_id": event.id,
                "event_type": event.type.value,
                "body": body,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "created_at": event.occurred_at,
            }
            ids.append(new_id(self._db.execute(insert(webhook_deliveries), values)))
        return ids

    def delivery(self, delivery_id: int) -> Delivery | None:
        query = select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        row = self._db.execute(query).mappings().first()
        return _delivery(row) if row else None

    def save_delivery(self, delivery: Delivery) -> None:
        self._db.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery.id)
            .values(
                status=delivery.status.value,
                attempts=delivery.attempts,
                first_attempt_at=delivery.first_attempt_at,
                last_attempt_at=delivery.last_attempt_at,
                last_status_code=delivery.last_status_code,
                next_attempt_at=delivery.next_attempt_at,
            )
        )


class SqlWebhookQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of_user(self, user_id: int, page: PageRequest) -> Page[WebhookView]:
        w = webhooks.c
        query = select(webhooks).where(w.user_id == user_id).order_by(w.id.desc())
        return page_of(self._engine, query, page, lambda row: WebhookView.of(_webhook(row)))

    def deliveries(self, webhook_id: int, page: PageRequest) -> Page[DeliveryView]:
        d = webhook_deliveries.c
        query = select(webhook_deliveries).where(d.webhook_id == webhook_id).order_by(d.id.desc())
        return page_of(self._engine, query, page, lambda row: DeliveryView.of(_delivery(row)))
