"""The webhook rules of the domain, without any port: the URL and the events a webhook may
have, its secret, the limit per user, the retry schedule, and what one attempt of a delivery
does to it."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

import pytest

from fundraising.domain.errors import (
    REQUIRED,
    FieldError,
    FieldErrors,
    InvalidValue,
    ValidationFailed,
)
from fundraising.domain.webhook import (
    URL_MAX,
    WEBHOOKS_PER_USER,
    Delivery,
    DeliveryStatus,
    EventType,
    RetrySchedule,
    Webhook,
    ensure_room_for_another,
    new_event_id,
    new_secret,
    parse_events,
    parse_url,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DEFAULT = RetrySchedule(6, timedelta(seconds=30))  # the settings' defaults
ALL_EVENTS = ("collect.closed", "collect.goal_reached", "payment.created", "payment.refunded")


# --- parse_url ---


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/in",
        "http://hooks.example.com",
        "https://hooks.example.com:8443/in?source=fundraising&v=1",
        "https://[2001:db8::1]/hook",
        "https://hooks.example.com:65535/",
        "HTTPS://Hooks.Example.com/In",
        "https://xn--wda.example/%D0%B6?q=%20&a=(1);b=$'*',~",
    ],
)
def test_an_absolute_http_or_https_url_is_kept_as_written(url: str):
    assert parse_url(url, https_only=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "hooks.example.com/in",
        "/relative/path",
        "ftp://hooks.example.com/in",
        "javascript:alert(1)",
        "mailto:hooks@example.com",
        "file:///etc/passwd",
        "https://",
        "http:///path-without-host",
    ],
)
def test_anything_but_an_http_or_https_url_with_a_host_is_refused(url: str):
    with pytest.raises(InvalidValue, match=r"valid http:// or https:// URL"):
        parse_url(url, https_only=False)


def test_https_only_refuses_plain_http_and_keeps_https():
    with pytest.raises(InvalidValue, match="https://"):
        parse_url("http://hooks.example.com/in", https_only=True)
    assert parse_url("https://hooks.example.com/in", https_only=True) == (
        "https://hooks.example.com/in"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@hooks.example.com/in",
        "https://user@hooks.example.com/in",
        "https://:secret@hooks.example.com/in",
        "https://@hooks.example.com/in",
    ],
)
def test_a_url_carrying_credentials_is_refused(url: str):
    with pytest.raises(InvalidValue, match="credentials"):
        parse_url(url, https_only=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/in#part",
        "https://hooks.example.com/in path",
        " https://hooks.example.com/in",
        "https://hooks.example.com/in\t",
        "https://hooks.example.com/in\n",
        "https://hooks.example.com/in\u00a0",
        "https://hooks.example.com/in#",  # an empty fragment
        "https://hooks.example.com/in\x00",
        "https://hooks.example.com/in\x7f",
        "https://\u00cf/in",  # an IRI: its host goes in punycode (https://xn--wda/in)
        "https://hooks.example.com/\u0436",
        "https://hooks.example.com/{in}",
        "https://hooks.example.com/in%zz",
        "https://hooks.example.com/in%4",
    ],
)
def test_a_url_not_ascii_rfc3986_or_with_a_fragment_is_refused(url: str):
    with pytest.raises(InvalidValue, match="without spaces, control characters or a fragment"):
        parse_url(url, https_only=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://hooks.example.com:0/in", "valid port"),
        ("https://a..b.example/in", "valid host name"),
        ("https://" + "x" * 64 + ".example/in", "valid host name"),
    ],
)
def test_a_url_with_port_0_or_a_host_name_idna_cannot_encode_is_refused(url: str, message: str):
    with pytest.raises(InvalidValue, match=message):
        parse_url(url, https_only=False)


def test_a_url_may_be_2000_characters_long_and_no_longer():
    base = "https://hooks.example.com/"
    longest = base + "a" * (URL_MAX - len(base))
    assert len(longest) == URL_MAX == 2000
    assert parse_url(longest, https_only=True) == longest
    with pytest.raises(InvalidValue, match="2000"):
        parse_url(longest + "a", https_only=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com:65536/in",
        "https://hooks.example.com:99999/in",
        "https://hooks.example.com:-1/in",
        "https://hooks.example.com:abc/in",
        "https://[::1/in",
    ],
)
def test_a_bad_port_or_host_is_refused(url: str):
    with pytest.raises(InvalidValue, match="valid URL"):
        parse_url(url, https_only=False)


# --- parse_events ---


def test_naming_no_event_is_refused():
    with pytest.raises(InvalidValue, match="at least one event"):
        parse_events([])


@pytest.mark.parametrize(
    "events", [["payment.created", "payment.deleted"], ["Payment.Created"], ["*"]]
)
def test_an_unknown_event_is_refused_naming_it_and_every_choice(events: list[str]):
    with pytest.raises(InvalidValue) as raised:
        parse_events(events)
    message = str(raised.value)
    unknown = next(e for e in events if e not in ALL_EVENTS)
    assert repr(unknown) in message
    assert all(choice in message for choice in ALL_EVENTS)


def test_every_known_event_is_accepted():
    assert parse_events(list(ALL_EVENTS)) == frozenset(EventType)


def test_duplicate_events_collapse():
    events = ["payment.created", "collect.closed", "payment.created"]
    assert parse_events(events) == {EventType.PAYMENT_CREATED, EventType.COLLECT_CLOSED}


# --- secrets, event ids, the limit ---


def test_a_secret_is_whsec_and_the_base64_of_32_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    assert len(key) == 32


def test_each_secret_differs():
    assert len({new_secret() for _ in range(50)}) == 50


def test_an_event_id_is_evt_and_128_random_bits():
    event_id = new_event_id()
    assert event_id.startswith("evt_")
    assert len(binascii.unhexlify(event_id.removeprefix("evt_"))) == 16
    assert new_event_id() != event_id


@pytest.mark.parametrize("count", [0, 1, WEBHOOKS_PER_USER - 1])
def test_a_user_with_fewer_than_10_webhooks_may_add_one(count: int):
    ensure_room_for_another(count)


@pytest.mark.parametrize("count", [WEBHOOKS_PER_USER, WEBHOOKS_PER_USER + 1])
def test_a_user_with_10_webhooks_may_not_add_another_and_the_error_is_on_url(count: int):
    assert WEBHOOKS_PER_USER == 10
    with pytest.raises(ValidationFailed) as raised:
        ensure_room_for_another(count)
    assert [error.field for error in raised.value.errors] == ["url"]
    assert "10 webhooks" in raised.value.errors[0].message


# --- Webhook.create ---


def create(
    url: str | None = "https://hooks.example.com/in",
    events: list[str] | None = None,
    errors: tuple[FieldError, ...] = (),
) -> Webhook:
    return Webhook.create(
        user_id=7,
        url=url,
        events=["payment.created"] if events is None else events,
        collect_id=3,
        https_only=False,
        now=NOW,
        errors=FieldErrors(errors),
    )


def test_a_new_webhook_has_its_fields_and_a_fresh_secret():
    webhook = create(events=["collect.closed", "payment.created", "collect.closed"])
    assert (webhook.id, webhook.user_id, webhook.url, webhook.collect_id) == (
        None,
        7,
        "https://hooks.example.com/in",
        3,
    )
    assert webhook.events == {EventType.COLLECT_CLOSED, EventType.PAYMENT_CREATED}
    assert webhook.created_at == NOW
    assert webhook.secret.startswith("whsec_")
    assert create().secret != webhook.secret


def test_a_webhook_wants_only_its_events():
    webhook = create(events=["payment.refunded"])
    assert webhook.wants(EventType.PAYMENT_REFUNDED)
    assert not webhook.wants(EventType.PAYMENT_CREATED)


def test_a_new_webhook_names_every_missing_field():
    with pytest.raises(ValidationFailed) as raised:
        Webhook.create(
            user_id=7,
            url=None,
            events=None,
            collect_id=None,
            https_only=False,
            now=NOW,
            errors=FieldErrors(),
        )
    assert raised.value.errors == (FieldError("url", REQUIRED), FieldError("events", REQUIRED))


def test_a_new_webhook_names_every_bad_field_with_what_the_edge_could_not_convert():
    converted = (FieldError("collect", "Expected `int | null`, got `str`."),)
    with pytest.raises(ValidationFailed) as raised:
        create(url="ftp://hooks.example.com", events=["nope"], errors=converted)
    assert [error.field for error in raised.value.errors] == ["collect", "url", "events"]


def test_an_error_the_edge_found_on_a_field_is_not_repeated():
    converted = (FieldError("events", "Expected `array`, got `str`."),)
    with pytest.raises(ValidationFailed) as raised:
        create(events=[], errors=converted)
    assert raised.value.errors == converted


# --- RetrySchedule ---


def waits(schedule: RetrySchedule) -> list[timedelta]:
    """The waits between the attempts when each attempt is made as soon as it is due."""
    found: list[timedelta] = []
    while True:
        since_first = sum(found, timedelta())
        delay = schedule.delay_after(len(found) + 1, since_first=since_first)
        if delay is None:
            return found
        found.append(delay)


def test_the_default_schedule_doubles_from_30_seconds_and_spans_an_hour_in_6_attempts():
    delays = waits(DEFAULT)
    assert [d.total_seconds() for d in delays[:4]] == [30, 60, 120, 240]
    assert len(delays) == 5  # six attempts
    assert delays[4] >= timedelta(seconds=480)  # never shorter than the doubling
    assert sum(delays, timedelta()) >= timedelta(hours=1)
    assert sum(delays, timedelta()) == timedelta(hours=1)  # and no longer than needed


def test_no_attempt_follows_the_last():
    assert DEFAULT.delay_after(6, since_first=timedelta(hours=1)) is None
    assert DEFAULT.delay_after(7, since_first=timedelta(hours=2)) is None


def test_the_last_wait_is_the_doubling_when_the_attempts_already_took_longer():
    """Attempts made late (a busy worker) need no stretching to span the hour."""
    assert DEFAULT.delay_after(5, since_first=timedelta(hours=2)) == timedelta(seconds=480)


def test_the_last_wait_counts_the_time_the_attempts_really_took():
    since_first = timedelta(minutes=20)
    assert DEFAULT.delay_after(5, since_first=since_first) == timedelta(minutes=40)


def test_a_small_backoff_scales_the_same_way():
    delays = waits(RetrySchedule(6, timedelta(seconds=1)))
    assert [d.total_seconds() for d in delays] == [1, 2, 4, 8, 105]
    assert sum(delays, timedelta()) == timedelta(seconds=120)


def test_fewer_attempts_still_span_120_backoffs():
    delays = waits(RetrySchedule(3, timedelta(seconds=30)))
    assert [d.total_seconds() for d in delays] == [30, 3570]


def test_a_single_attempt_is_never_retried():
    assert waits(RetrySchedule(1, timedelta(seconds=30))) == []


# --- Delivery ---


def pending() -> Delivery:
    return Delivery(
        1,
        webhook_id=7,
        event_id="evt_1",
        event_type=EventType.PAYMENT_CREATED,
        body=b'{"id": "evt_1"}',
        status=DeliveryStatus.PENDING,
        created_at=NOW,
    )


@pytest.mark.parametrize("status_code", [200, 201, 204, 299])
def test_a_2xx_answer_delivers_it(status_code: int):
    delivery = pending()
    delivery.record(status_code, now=NOW, schedule=DEFAULT)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.done
    assert (delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        1,
        status_code,
        None,
    )
    assert delivery.first_attempt_at == delivery.last_attempt_at == NOW
    assert delivery.wait(NOW) is None


@pytest.mark.parametrize("status_code", [None, 100, 199, 301, 400, 410, 500, 503])
def test_any_other_answer_or_none_leaves_it_pending_until_the_next_attempt(
    status_code: int | None,
):
    delivery = pending()
    delivery.record(status_code, now=NOW, schedule=DEFAULT)
    assert delivery.status is DeliveryStatus.PENDING
    assert not delivery.done
    assert (delivery.attempts, delivery.last_status_code) == (1, status_code)
    assert delivery.next_attempt_at == NOW + timedelta(seconds=30)
    assert delivery.wait(NOW) == timedelta(seconds=30)


def test_the_attempts_follow_the_schedule_then_the_delivery_fails():
    delivery = pending()
    now = NOW
    next_attempts = []
    for _ in range(6):
        delivery.record(500, now=now, schedule=DEFAULT)
        next_attempts.append(delivery.next_attempt_at)
        if delivery.next_attempt_at is not None:
            now = delivery.next_attempt_at
    offsets = [(at - NOW).total_seconds() for at in next_attempts[:5] if at is not None]
    assert offsets == [30, 90, 210, 450, 3600]
    assert next_attempts[5] is None
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.done
    assert (delivery.attempts, delivery.last_status_code) == (6, 500)
    assert delivery.first_attempt_at == NOW
    assert delivery.last_attempt_at == NOW + timedelta(hours=1)
    assert delivery.wait(now) is None


def test_a_2xx_after_failures_delivers_it():
    delivery = pending()
    delivery.record(None, now=NOW, schedule=DEFAULT)
    later = NOW + timedelta(seconds=30)
    delivery.record(202, now=later, schedule=DEFAULT)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        2,
        202,
        None,
    )
    assert (delivery.first_attempt_at, delivery.last_attempt_at) == (NOW, later)


def test_waiting_lasts_until_the_next_attempt_is_due():
    delivery = pending()
    assert delivery.wait(NOW) is None  # never tried: due now
    delivery.record(500, now=NOW, schedule=DEFAULT)
    assert delivery.wait(NOW + timedelta(seconds=10)) == timedelta(seconds=20)
    assert delivery.wait(NOW + timedelta(seconds=30)) is None
    assert delivery.wait(NOW + timedelta(hours=1)) is None


def test_giving_up_fails_it_with_no_next_attempt():
    delivery = pending()
    delivery.record(500, now=NOW, schedule=DEFAULT)
    delivery.give_up()
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.done
    assert delivery.next_attempt_at is None
    assert delivery.wait(NOW) is None
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
