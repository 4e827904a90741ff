"""/api/v1/webhooks/ over HTTP, and the events POSTed to a real receiver: the owner creates
(201 with the secret, once), lists (newest first, no secret) and deletes webhooks, nobody else
sees them (404); invalid input is a 400 naming its field, a collect the caller does not run a
404, an 11th webhook and a private address (test profile) a 400 on `url`; each event is signed
per Standard Webhooks, reaches only the webhooks that want it, is retried with the same
`webhook-id` until it is taken or its attempts run out, and the delivery log tells so; refunds,
cancel and the lifecycle sweep announce what they did, each once."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import pytest
import standardwebhooks
from litestar.testing import TestClient
from sqlalchemy import select

from fundraising.adapters.sql.tables import outbox
from fundraising.adapters.task_codec import decode_task
from fundraising.application.ports.tasks import DeliverWebhook
from fundraising.container import Container
from tests.e2e.conftest import (
    Account,
    assert_problem,
    check_each,
    create_collect,
    donate,
    utc,
    wait_for,
)
from tests.e2e.webhook_receiver import Received, Receiver, running_receiver
from tests.fakes import FixedClock

MakeAccount = Callable[..., Account]
WEBHOOKS = "/api/v1/webhooks/"
COLLECTS = "/api/v1/collects/"
PAYMENTS = "/api/v1/payments/"
MISSING = 2**62  # a valid id that names nothing
PUBLIC = "https://93.184.215.14/hooks"  # a public address (no DNS needed); never sent to
CREATED, REFUNDED = "payment.created", "payment.refunded"
GOAL_REACHED, CLOSED = "collect.goal_reached", "collect.closed"
SETTLE = 20.0  # the outbox, the worker, the receiver: generous under load
STEP = 60  # seconds the app clock moves past a failed attempt's backoff
LEASE = timedelta(seconds=5)  # the test profile's task_lease_seconds: an attempt under way
LOCAL = {"webhooks_allow_private": True}  # the receivers listen on 127.0.0.1


# --- helpers ---


def _create(
    client: TestClient[Any], who: Account | None, url: Any, events: Any, **fields: Any
) -> Any:
    body = {"url": url, "events": events, **fields}
    return client.post(WEBHOOKS, json=body, headers=who.headers if who else {})


def _subscribe(
    client: TestClient[Any],
    who: Account,
    url: str,
    events: Iterable[str],
    collect: int | None = None,
) -> dict[str, Any]:
    fields = {} if collect is None else {"collect": collect}
    response = _create(client, who, url, list(events), **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _listed(client: TestClient[Any], who: Account, **params: Any) -> dict[str, Any]:
    response = client.get(WEBHOOKS, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _log_path(webhook_id: Any) -> str:
    return f"{WEBHOOKS}{webhook_id}/deliveries/"


def _log(client: TestClient[Any], who: Account, webhook_id: int) -> list[dict[str, Any]]:
    """The webhook's deliveries, newest first (recorded with the write that caused them)."""
    response = client.get(_log_path(webhook_id), params={"page_size": 100}, headers=who.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def _logged(
    client: TestClient[Any], who: Account, webhook_id: int, **wanted: Any
) -> dict[str, Any]:
    """The webhook's only delivery once it shows `wanted` (or as last seen, to fail on)."""

    def matches() -> dict[str, Any] | None:
        (delivery,) = _log(client, who, webhook_id)
        return delivery if all(delivery[key] == value for key, value in wanted.items()) else None

    found = wait_for(matches, timeout=SETTLE)
    assert found, (wanted, _log(client, who, webhook_id))
    return dict(found)


def _paid(
    client: TestClient[Any], who: Account, collect_id: int, amount: str, **fields: Any
) -> Any:
    response = donate(client, who, collect_id, amount, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def _payment(client: TestClient[Any], who: Account, payment_id: int) -> Any:
    response = client.get(f"{PAYMENTS}{payment_id}/", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _collect(client: TestClient[Any], who: Account, collect_id: int) -> Any:
    response = client.get(f"{COLLECTS}{collect_id}/", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _promote(client: TestClient[Any], author: Account, member: Account, collect_id: int) -> None:
    joined = client.post(f"{COLLECTS}{collect_id}/join/", json={}, headers=member.headers)
    assert joined.status_code == 200, joined.text
    promoted = client.post(
        f"{COLLECTS}{collect_id}/organisers/", json={"user": member.id}, headers=author.headers
    )
    assert promoted.status_code == 201, promoted.text


def _received(receiver: Receiver, count: int) -> list[Received]:
    received = receiver.wait_for(count, timeout=SETTLE)
    assert len(received) >= count, [r.body for r in received]
    return received


def _event(received: Received, secret: str) -> dict[str, Any]:
    """The event of a request, once its Standard Webhooks signature verifies with `secret`
    (and its timestamp is within the library's tolerance of the real time)."""
    verified = standardwebhooks.Webhook(secret).verify(received.body, received.headers)
    event = json.loads(received.body)
    assert verified == event
    assert set(event) == {"id", "type", "timestamp", "data"}, event
    assert event["id"] == received.headers["webhook-id"] and event["id"].startswith("evt_")
    utc(event["timestamp"])
    return dict(event)


def _held_until(container: Container, delivery_id: int) -> datetime | None:
    """Until when the outbox holds the delivery's task back (the claim of an attempt under
    way, or the wait for its next attempt once it deferred itself)."""
    wanted = DeliverWebhook(delivery_id)
    with container.engine().connect() as connection:
        rows = connection.execute(
            select(outbox.c.task, outbox.c.claimed_until).where(outbox.c.finished_at.is_(None))
        ).all()
    return next((row.claimed_until for row in rows if decode_task(row.task) == wanted), None)


def _past_next_attempt(
    container: Container, clock: FixedClock, delivery_id: int, seconds: float = STEP
) -> None:
    """Move the app clock `seconds` on, past the next attempt, once the task has deferred
    itself to it (a move before that would defer it past the new time: the clock only moves
    when told)."""

    def deferred() -> datetime | None:
        held = _held_until(container, delivery_id)
        if held is None or held <= clock.now() or held == clock.now() + LEASE:
            return None  # not claimed yet, an attempt under way, or an earlier wait
        return held

    held = wait_for(deferred, timeout=SETTLE)
    assert held, _held_until(container, delivery_id)
    assert clock.now() + timedelta(seconds=seconds) > held
    clock.advance(seconds=seconds)


# --- the subscriptions ---


def test_the_owner_creates_lists_and_deletes_webhooks_and_nobody_else_sees_them(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    owner, other = make_account(), make_account()
    collect_id = create_collect(client, owner)

    first = _subscribe(client, owner, PUBLIC, [CLOSED, CREATED], collect_id)
    second = _subscribe(client, owner, f"{PUBLIC}/all", [REFUNDED])

    assert set(first) == {"id", "url", "events", "collect", "created_at", "secret"}
    assert (first["url"], sorted(first["events"]), first["collect"]) == (
        PUBLIC,
        [CLOSED, CREATED],
        collect_id,
    )
    assert (second["url"], second["events"], second["collect"]) == (
        f"{PUBLIC}/all",
        [REFUNDED],
        None,
    )
    assert second["id"] != first["id"] and first["secret"] != second["secret"]
    for created in (first, second):
        utc(created["created_at"])
        assert created["secret"].startswith("whsec_")
        assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) >= 24
    public = [{k: v for k, v in w.items() if k != "secret"} for w in (second, first)]
    assert _listed(client, owner) == {"count": 2, "next": None, "previous": None, "results": public}
    page_one, page_two = (
        _listed(client, owner, page_size=1),
        _listed(client, owner, page=2, page_size=1),
    )
    assert (page_one["count"], page_one["previous"], page_one["results"]) == (2, None, public[:1])
    assert "page=2" in page_one["next"]
    assert (page_two["next"], page_two["results"]) == (None, public[1:])
    assert page_two["previous"] is not None
    assert_problem(client.get(WEBHOOKS, params={"page": 3}, headers=owner.headers), 404)
    assert _listed(client, other) == {"count": 0, "next": None, "previous": None, "results": []}
    empty = client.get(_log_path(first["id"]), headers=owner.headers)
    assert (empty.status_code, empty.json()["count"], empty.json()["results"]) == (200, 0, [])

    # nobody else: the same 404 as for an id that names nothing
    for webhook_id in (first["id"], MISSING):
        assert_problem(client.delete(f"{WEBHOOKS}{webhook_id}/", headers=other.headers), 404)
        assert_problem(client.get(_log_path(webhook_id), headers=other.headers), 404)
    assert_problem(client.delete(f"{WEBHOOKS}{MISSING}/", headers=owner.headers), 404)
    assert_problem(client.get(_log_path(MISSING), headers=owner.headers), 404)
    assert _listed(client, owner)["count"] == 2
    # no token
    assert_problem(_create(client, None, PUBLIC, [CREATED]), 401)
    assert_problem(client.get(WEBHOOKS), 401)
    assert_problem(client.delete(f"{WEBHOOKS}{first['id']}/"), 401)
    assert_problem(client.get(_log_path(first["id"])), 401)
    assert _listed(client, owner)["count"] == 2

    deleted = client.delete(f"{WEBHOOKS}{first['id']}/", headers=owner.headers)

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert_problem(client.delete(f"{WEBHOOKS}{first['id']}/", headers=owner.headers), 404)
    assert_problem(client.get(_log_path(first["id"]), headers=owner.headers), 404)
    assert _listed(client, owner) == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": public[:1],
    }


def test_invalid_webhooks_are_a_400_naming_each_bad_field_and_nothing_is_stored(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    owner = make_account()
    valid = {"url": PUBLIC, "events": [CREATED]}
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"url": "not a url"}, {"url"}),
        ({"url": "ftp://93.184.215.14/hooks"}, {"url"}),
        ({"url": "https://user:secret@93.184.215.14/hooks"}, {"url"}),
        ({"url": "https://:secret@93.184.215.14/hooks"}, {"url"}),
        ({"url": "http:///hooks"}, {"url"}),
        ({"url": "https://"}, {"url"}),
        ({"url": ""}, {"url"}),
        ({"url": f"{PUBLIC}/{'a' * 2000}"}, {"url"}),
        ({"url": 42}, {"url"}),
        ({"url": None}, {"url"}),
        ({"url": [PUBLIC]}, {"url"}),
        ({"events": ["payment.exploded"]}, {"events"}),
        ({"events": [CREATED, "collect.opened"]}, {"events"}),
        ({"events": []}, {"events"}),
        ({"events": CREATED}, {"events"}),
        ({"events": {CREATED: True}}, {"events"}),
        ({"events": [1]}, {"events"}),
        ({"events": None}, {"events"}),
        ({"collect": "7"}, {"collect"}),
        ({"collect": "abc"}, {"collect"}),
        ({"collect": 1.5}, {"collect"}),
        ({"collect": True}, {"collect"}),
        ({"collect": 0}, {"collect"}),
        ({"collect": -1}, {"collect"}),
        ({"collect": 2**63}, {"collect"}),
        ({"url": "ftp://x", "events": [], "collect": "7"}, {"url", "events", "collect"}),
        # the test profile refuses private addresses, at creation
        ({"url": "http://127.0.0.1:8000/hooks"}, {"url"}),
        ({"url": "http://localhost:8000/hooks"}, {"url"}),
        ({"url": "http://[::1]:8000/hooks"}, {"url"}),
        ({"url": "http://10.1.2.3/hooks"}, {"url"}),
        ({"url": "http://192.168.0.10/hooks"}, {"url"}),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, {"url"}),
        ({"url": "http://0.0.0.0:8000/hooks"}, {"url"}),
    ]

    def check(case: tuple[dict[str, Any], set[str]]) -> None:
        change, fields = case
        response = client.post(WEBHOOKS, json=valid | change, headers=owner.headers)
        assert_problem(response, 400, *fields)

    check_each(cases, check)
    for missing in ("url", "events"):
        body = {k: v for k, v in valid.items() if k != missing}
        assert_problem(client.post(WEBHOOKS, json=body, headers=owner.headers), 400, missing)
    assert_problem(client.post(WEBHOOKS, json=[valid], headers=owner.headers), 400)
    assert _listed(client, owner)["count"] == 0


def test_a_webhook_names_a_collect_its_owner_runs_and_an_11th_is_refused_on_url(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, organiser, payer, outsider = (make_account() for _ in range(4))
    collect_id = create_collect(client, author)
    elsewhere = create_collect(client, outsider)
    _promote(client, author, organiser, collect_id)
    _paid(client, payer, collect_id, "10")

    for who, named in ((payer, collect_id), (outsider, collect_id), (author, elsewhere)):
        assert_problem(_create(client, who, PUBLIC, [CREATED], collect=named), 404)
    assert_problem(_create(client, author, PUBLIC, [CREATED], collect=MISSING), 404)
    assert_problem(_create(client, outsider, "ftp://x", [], collect=collect_id), 404)  # 404 first
    for who in (payer, outsider, author):
        assert _listed(client, who)["count"] == 0
    organised = _subscribe(client, organiser, PUBLIC, [CREATED], collect_id)
    assert organised["collect"] == collect_id

    made = [_subscribe(client, author, f"{PUBLIC}/{n}", [CREATED]) for n in range(9)]
    made.append(_subscribe(client, author, f"{PUBLIC}/9", [CREATED], collect_id))
    assert_problem(_create(client, author, f"{PUBLIC}/10", [CREATED]), 400, "url")
    assert_problem(
        _create(client, author, f"{PUBLIC}/10", [REFUNDED], collect=collect_id), 400, "url"
    )
    assert _listed(client, author, page_size=100)["count"] == 10
    assert _subscribe(client, organiser, f"{PUBLIC}/mine", [REFUNDED])["collect"] is None

    deleted = client.delete(f"{WEBHOOKS}{made[0]['id']}/", headers=author.headers)
    assert deleted.status_code == 204, deleted.text
    again = _subscribe(client, author, f"{PUBLIC}/10", [CREATED])
    assert_problem(_create(client, author, f"{PUBLIC}/11", [CREATED]), 400, "url")
    listed = _listed(client, author, page_size=100)
    assert listed["count"] == 10
    assert listed["results"][0]["id"] == again["id"]
    assert made[0]["id"] not in {w["id"] for w in listed["results"]}


# --- delivery ---


@pytest.mark.settings(**LOCAL)
def test_a_donation_is_posted_signed_per_standard_webhooks_with_the_payment_as_data(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author, donor = make_account("Ольга"), make_account("Пётр")
    collect_id = create_collect(client, author, title="Подарок", goal_amount="5000")
    with running_receiver() as receiver:
        hook = _subscribe(client, author, receiver.url, [CREATED], collect_id)

        paid = _paid(
            client, donor, collect_id, "150.00", comment="С днём рождения!", metadata={"k": [1]}
        )

        (received,) = _received(receiver, 1)
        logged = _logged(client, author, hook["id"], status="delivered")

    event = _event(received, hook["secret"])
    assert (received.path, received.headers["content-type"]) == ("/hooks", "application/json")
    assert event["type"] == CREATED
    assert event["data"] == _payment(client, author, paid["id"])
    assert event["data"]["comment"] == "С днём рождения!"
    assert utc(event["timestamp"]) == utc(paid["payment_date"]) == clock.now()
    assert int(received.headers["webhook-timestamp"]) == int(clock.now().timestamp())
    assert logged == {
        "id": logged["id"],
        "event_id": event["id"],
        "event_type": CREATED,
        "status": "delivered",
        "attempts": 1,
        "last_status_code": 200,
        "last_attempt_at": logged["last_attempt_at"],
    }
    assert utc(logged["last_attempt_at"]) == clock.now()
    webhook = standardwebhooks.Webhook(hook["secret"])
    tampered = {**received.headers, "webhook-id": "evt_forged"}
    for body, headers in ((received.body + b" ", received.headers), (received.body, tampered)):
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            webhook.verify(body, headers)
    other_secret = _subscribe(client, author, f"{receiver.url}/x", [REFUNDED])["secret"]
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(other_secret).verify(received.body, received.headers)


@pytest.mark.settings(**LOCAL)
def test_each_webhook_gets_only_the_events_and_collects_it_wants(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, colleague, donor = make_account(), make_account(), make_account()
    first, second = create_collect(client, author), create_collect(client, author)
    organised, foreign = create_collect(client, colleague), create_collect(client, colleague)
    _promote(client, colleague, author, organised)
    with running_receiver() as receiver:
        every = _subscribe(client, author, f"{receiver.url}/every", [CREATED])
        only_first = _subscribe(client, author, f"{receiver.url}/first", [CREATED], first)
        refunds = _subscribe(client, author, f"{receiver.url}/refunds", [REFUNDED, CLOSED])

        paid = {c: _paid(client, donor, c, "10")["id"] for c in (first, second, organised, foreign)}

        received = _received(receiver, 4)

    by_path: dict[str, list[int]] = {}
    for request in received:
        by_path.setdefault(request.path, []).append(json.loads(request.body)["data"]["id"])
    assert {path: sorted(ids) for path, ids in by_path.items()} == {
        "/hooks/every": sorted([paid[first], paid[second], paid[organised]]),
        "/hooks/first": [paid[first]],
    }
    assert len(_log(client, author, every["id"])) == 3
    assert [d["event_type"] for d in _log(client, author, only_first["id"])] == [CREATED]
    assert _log(client, author, refunds["id"]) == []


@pytest.mark.settings(**LOCAL, webhook_backoff_seconds=1.0)
def test_a_failing_receiver_is_tried_again_with_the_same_webhook_id_until_it_answers_2xx(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock, container: Container
) -> None:
    author, donor = make_account(), make_account()
    collect_id = create_collect(client, author)
    start = clock.now()
    with running_receiver() as receiver:
        receiver.answers = [500, 503]
        hook = _subscribe(client, author, receiver.url, [CREATED], collect_id)
        _paid(client, donor, collect_id, "10")

        first = _logged(client, author, hook["id"], attempts=1)
        assert (first["status"], first["last_status_code"]) == ("pending", 500)
        assert utc(first["last_attempt_at"]) == start
        _past_next_attempt(container, clock, first["id"])
        second = _logged(client, author, hook["id"], attempts=2)
        assert (second["status"], second["last_status_code"]) == ("pending", 503)
        assert utc(second["last_attempt_at"]) == start + timedelta(seconds=STEP)
        _past_next_attempt(container, clock, first["id"])
        third = _logged(client, author, hook["id"], status="delivered")

        received = _received(receiver, 3)

    assert (third["id"], third["event_id"]) == (first["id"], first["event_id"])
    assert (third["attempts"], third["last_status_code"]) == (3, 200)
    assert utc(third["last_attempt_at"]) == start + timedelta(seconds=2 * STEP)
    assert len(received) == 3
    assert {r.headers["webhook-id"] for r in received} == {first["event_id"]}
    assert {r.body for r in received} == {received[0].body}
    assert [int(r.headers["webhook-timestamp"]) for r in received] == [
        int(start.timestamp()) + n * STEP for n in range(3)
    ]
    for request in received:
        assert _event(request, hook["secret"])["id"] == first["event_id"]


@pytest.mark.settings(**LOCAL, webhook_backoff_seconds=1.0, webhook_max_attempts=2)
def test_a_delivery_fails_with_its_last_attempt(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock, container: Container
) -> None:
    author, donor = make_account(), make_account()
    collect_id = create_collect(client, author)
    with running_receiver() as receiver:
        receiver.answers = [500] * 5
        hook = _subscribe(client, author, receiver.url, [CREATED], collect_id)
        _paid(client, donor, collect_id, "10")

        first = _logged(client, author, hook["id"], attempts=1)
        assert (first["status"], first["last_status_code"]) == ("pending", 500)
        # the last attempt waits for the attempts to span 120 backoffs (an hour by default)
        _past_next_attempt(container, clock, first["id"], seconds=150)
        last = _logged(client, author, hook["id"], attempts=2)

        received = _received(receiver, 2)

    # failed with the attempt itself (not later, when the worker gives up on the task)
    assert (last["status"], last["last_status_code"]) == ("failed", 500)
    assert utc(last["last_attempt_at"]) == clock.now()
    assert len(received) == 2
    assert {r.headers["webhook-id"] for r in received} == {last["event_id"]}


# --- what refunds, cancel and the lifecycle announce ---


@pytest.mark.settings(**LOCAL)
def test_a_refund_and_a_cancel_announce_each_refund_and_the_cancellation(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, anna, boris = make_account(), make_account(), make_account()
    collect_id = create_collect(client, author, goal_amount="1000")
    payments = [
        _paid(client, anna, collect_id, "100")["id"],
        _paid(client, anna, collect_id, "200")["id"],
        _paid(client, boris, collect_id, "300")["id"],
    ]
    with running_receiver() as receiver:
        hook = _subscribe(client, author, receiver.url, [REFUNDED, CLOSED], collect_id)
        refund = client.post(f"{PAYMENTS}{payments[0]}/refund/", headers=author.headers)
        assert refund.status_code == 200, refund.text

        (refunded,) = _received(receiver, 1)

        event = _event(refunded, hook["secret"])
        assert (event["type"], event["data"]) == (REFUNDED, refund.json())
        assert event["data"]["status"] == "refunded"
        assert utc(event["timestamp"]) == utc(refund.json()["refunded_at"])
        cancelled = client.post(f"{COLLECTS}{collect_id}/cancel/", headers=author.headers)
        assert cancelled.status_code == 202, cancelled.text
        settled = wait_for(
            lambda: _collect(client, author, collect_id)["donations_count"] == 0, timeout=SETTLE
        )
        assert settled, _collect(client, author, collect_id)

        received = _received(receiver, 4)

    events = [_event(request, hook["secret"]) for request in received]
    assert len(events) == 4 and len({e["id"] for e in events}) == 4
    (closed,) = [e for e in events if e["type"] == CLOSED]
    assert (closed["data"]["id"], closed["data"]["status"]) == (collect_id, "cancelled")
    assert set(closed["data"]) == set(cancelled.json()) - {"payments"}  # the detail, no feed
    refunds = {e["data"]["id"]: e["data"] for e in events if e["type"] == REFUNDED}
    assert sorted(refunds) == payments  # each payment once: one by hand, two by the cancel
    for payment_id, data in refunds.items():
        assert data == _payment(client, author, payment_id)
        assert data["status"] == "refunded"
    log = _log(client, author, hook["id"])
    assert [d["id"] for d in log] == sorted((d["id"] for d in log), reverse=True)
    assert sorted(d["event_type"] for d in log) == [CLOSED, REFUNDED, REFUNDED, REFUNDED]
    assert {d["event_id"] for d in log} == {e["id"] for e in events}


@pytest.mark.settings(**LOCAL, lifecycle_interval_seconds=0.2)
def test_goal_reached_and_closed_are_each_announced_once_by_the_lifecycle_sweep(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, donor = make_account(), make_account()
    first = create_collect(client, author, goal_amount="1000")
    with running_receiver() as receiver:
        hook = _subscribe(client, author, receiver.url, [GOAL_REACHED, CLOSED])
        _paid(client, donor, first, "600")
        _paid(client, donor, first, "400")
        (goal,) = _received(receiver, 1)
        closing = client.patch(
            f"{COLLECTS}{first}/", json={"is_active": False}, headers=author.headers
        )
        assert closing.status_code == 200, closing.text
        _received(receiver, 2)
        # a second collect: its announcements come from sweeps made after the first closed
        second = create_collect(client, author, goal_amount="100")
        _paid(client, donor, second, "100")
        _received(receiver, 3)
        closing = client.patch(
            f"{COLLECTS}{second}/", json={"is_active": False}, headers=author.headers
        )
        assert closing.status_code == 200, closing.text

        received = _received(receiver, 4)
        log = _log(client, author, hook["id"])

    events = [_event(request, hook["secret"]) for request in received]
    assert [(e["type"], e["data"]["id"]) for e in events] == [
        (GOAL_REACHED, first),
        (CLOSED, first),
        (GOAL_REACHED, second),
        (CLOSED, second),
    ]
    assert events[0]["data"]["collected_amount"] == "1000.00"
    assert events[0]["data"]["status"] == "open"
    assert (events[1]["data"]["status"], events[1]["data"]["is_active"]) == ("closed", False)
    assert "payments" not in events[1]["data"]
    assert len(log) == 4  # nothing announced twice
    assert goal.headers["webhook-id"] == events[0]["id"]
