"""Webhooks: the repository of subscriptions and deliveries, and the transport that POSTs them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from fundraising.application.pagination import PageRequest
from fundraising.application.views import DeliveryView, Page, WebhookView
from fundraising.domain.webhook import Delivery, Event, EventType, Webhook


class WebhookRepository(Protocol):
    def add(self, webhook: Webhook) -> Webhook:
        """Insert and assign the id."""
        ...

    def count_of(self, user_id: int, *, for_update: bool = False) -> int:
        """How many webhooks the user has; `for_update` locks the user's row first, so that
        two creations at once cannot both see room for one more."""
        ...

    def get(self, webhook_id: int) -> Webhook | None: ...

    def delete(self, webhook_id: int) -> None:
        """Delete it and its deliveries."""
        ...

    def subscribers(self, collect_id: int, event: EventType) -> Sequence[int]:
        """The webhooks that want this event of this collect: those of its author and its
        organisers (active users) naming it or no collect."""
        ...

    def add_deliveries(self, event: Event, webhook_ids: Sequence[int]) -> Sequence[int]:
        """Record one pending delivery of `event` per webhook; their ids."""
        ...

    def delivery(self, delivery_id: int) -> Delivery | None: ...

    def save_delivery(self, delivery: Delivery) -> None: ...


class WebhookQueries(Protocol):
    def of_user(self, user_id: int, page: PageRequest) -> Page[WebhookView]: ...

    def deliveries(self, webhook_id: int, page: PageRequest) -> Page[DeliveryView]:
        """Newest first."""
        ...


class WebhookTransport(Protocol):
    """POSTs to receivers, refusing addresses they must not reach (SSRF)."""

    def refusal(self, url: str) -> str | None:
        """Why this URL may not be a webhook's (its host resolves to a loopback, private,
        link-local or reserved address, or to nothing), or None."""
        ...

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int | None:
        """The receiver's status code; None when there was no answer in time, the connection
        failed, or the address is refused now (checked again as the connection is made)."""
        ...


class WebhookSigner(Protocol):
    def sign(self, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
        """The `webhook-signature` header of this body."""
        ...
