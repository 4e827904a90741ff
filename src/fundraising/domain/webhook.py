"""Webhooks: where a user wants the events of the collects they run POSTed, and the deliveries
of those events, each retried on a schedule until the receiver takes it or the attempts run
out."""

from __future__ import annotations

import base64
import enum
import re
import secrets
import string
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from attrs import define, frozen

from fundraising.domain.errors import FieldErrors, InvalidValue, ValidationFailed

URL_MAX = 2_000
# RFC 3986's unreserved and reserved characters, and "%" before two hex digits; not "#": a
# fragment is never sent to a receiver.
_URI_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?[]@!$&'()*+,;=%")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
WEBHOOKS_PER_USER = 10
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


class EventType(enum.StrEnum):
    PAYMENT_CREATED = "payment.created"
    PAYMENT_REFUNDED = "payment.refunded"
    COLLECT_GOAL_REACHED = "collect.goal_reached"
    COLLECT_CLOSED = "collect.closed"  # closed, cancelled or ended


def parse_url(url: str, *, https_only: bool) -> str:
    """An absolute http(s) URL with a host, no credentials and no fragment (what a receiver's
    address may look like; where it points is checked when it is resolved)."""
    if len(url) > URL_MAX:
        raise InvalidValue(f"Must be at most {URL_MAX} characters long.")
    if not set(url) <= _URI_CHARACTERS or _STRAY_PERCENT.search(url):
        raise InvalidValue(
            "Enter a valid URL without spaces, control characters or a fragment: ASCII "
            "(RFC 3986), its host name in punycode and anything else percent-encoded."
        )
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port out of range
    except ValueError:
        raise InvalidValue("Enter a valid URL.") from None
    if port == 0:
        raise InvalidValue("Enter a valid port.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValue("Enter a valid http:// or https:// URL.")
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        raise InvalidValue("Enter a URL with a valid host name.") from None
    if https_only and parts.scheme != "https":
        raise InvalidValue("Must be an https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise InvalidValue("Must not carry credentials.")
    return url


def parse_events(events: Sequence[str]) -> frozenset[EventType]:
    if not events:
        raise InvalidValue("Name at least one event.")
    known = {event.value for event in EventType}
    unknown = [event for event in events if event not in known]
    if unknown:
        choices = ", ".join(sorted(known))
        raise InvalidValue(f"Unknown event {unknown[0]!r}; choose from {choices}.")
    return frozenset(EventType(event) for event in events)


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and a base64 random key."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@define(eq=False)
class Webhook:
    id: int | None
    user_id: int
    url: str
    events: frozenset[EventType]
    collect_id: int | None  # None: every collect its user authors or organises
    secret: str
    created_at: datetime

    @classmethod
    def create(
        cls,
        *,
        user_id: int,
        url: str | None,
        events: Sequence[str] | None,
        collect_id: int | None,
        https_only: bool,
        now: datetime,
        errors: FieldErrors,
    ) -> Webhook:
        """A new webhook with a fresh secret, or `ValidationFailed` naming every bad field."""
        errors.require("url", url)
        errors.require("events", events)
        checked_url = errors.check("url", lambda: parse_url(url or "", https_only=https_only))
        checked_events = errors.check("events", lambda: parse_events(events or ()))
        errors.raise_if_any()
        assert checked_url is not None and checked_events is not None
        return cls(None, user_id, checked_url, checked_events, collect_id, new_secret(), now)

    def wants(self, event: EventType) -> bool:
        return event in self.events


def ensure_room_for_another(count: int) -> None:
    """A user keeps at most `WEBHOOKS_PER_USER` webhooks (the contract names `url`)."""
    if count >= WEBHOOKS_PER_USER:
        raise ValidationFailed.single(
            "url", f"You have {WEBHOOKS_PER_USER} webhooks already; delete one first."
        )


def new_event_id() -> str:
    """The id of an event, the same in every delivery and attempt (`webhook-id`)."""
    return f"evt_{secrets.token_hex(16)}"


@frozen
class Event:
    """Something that happened to a collect or a payment, as its subscribers receive it:
    `data` is the payment or the collect in the API's shape."""

    id: str
    type: EventType
    occurred_at: datetime
    data: dict[str, Any]


MIN_SPAN_IN_BACKOFFS = 120  # the attempts span at least an hour with the default 30 s


@frozen
class RetrySchedule:
    """When to try a delivery again: after `backoff`, then twice as long each time; the last
    attempt waits long enough for the attempts to span `MIN_SPAN_IN_BACKOFFS` backoffs (six
    attempts over an hour by default: a receiver down for a deploy still gets its events)."""

    max_attempts: int
    backoff: timedelta

    def delay_after(self, attempts: int, *, since_first: timedelta) -> timedelta | None:
        """The wait before the next attempt, `attempts` having been made the first of them
        `since_first` ago; None when none is left."""
        if attempts >= self.max_attempts:
            return None
        delay = self.backoff * (1 << (attempts - 1))
        if attempts == self.max_attempts - 1:
            delay = max(delay, self.backoff * MIN_SPAN_IN_BACKOFFS - since_first)
        return delay


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@define(eq=False)
class Delivery:
    """One event on its way to one webhook."""

    id: int | None
    webhook_id: int
    event_id: str
    event_type: EventType
    body: bytes  # the event as sent, the same bytes in every attempt
    status: DeliveryStatus
    created_at: datetime
    attempts: int = 0
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    next_attempt_at: datetime | None = None

    def wait(self, now: datetime) -> timedelta | None:
        """How long until the next attempt is due, if it is not yet."""
        if self.next_attempt_at is None or self.next_attempt_at <= now:
            return None
        return self.next_attempt_at - now

    def record(self, status_code: int | None, *, now: datetime, schedule: RetrySchedule) -> None:
        """An attempt's outcome: the receiver's status, None when there was no answer (a
        timeout, a refused address, a connection that failed)."""
        self.attempts += 1
        self.first_attempt_at = self.first_attempt_at or now
        self.last_attempt_at = now
        self.last_status_code = status_code
        if status_code is not None and 200 <= status_code < 300:
            self.status, self.next_attempt_at = DeliveryStatus.DELIVERED, None
            return
        delay = schedule.delay_after(self.attempts, since_first=now - self.first_attempt_at)
        if delay is None:
            self.status, self.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            self.next_attempt_at = now + delay

    def give_up(self) -> None:
        self.status, self.next_attempt_at = DeliveryStatus.FAILED, None

    @property
    def done(self) -> bool:
        return self.status is not DeliveryStatus.PENDING
