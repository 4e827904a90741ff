"""Webhooks through the served processes: `fundraising serve` records the events, `fundraising
worker` delivers them over a Redis broker — also those of donations made while the broker was
down — and production refuses URLs that name loopback addresses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import standardwebhooks

from tests.e2e.webhook_receiver import Received, Receiver, running_receiver
from tests.integration.fault_helpers import PROMPT_SECONDS
from tests.integration.fixtures_services import wait_until
from tests.integration.processes import Account, Api, deployment

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.redis]

RELAY_GRACE = 1.0  # the test profile's relay grace
WEBHOOKS = "/api/v1/webhooks/"


def _subscribe(api: Api, author: Account, url: str, collect_id: int) -> str:
    body = {"url": url, "events": ["payment.created"], "collect": collect_id}
    created = api.http.post(WEBHOOKS, json=body, headers=author.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["secret"])


def _verified(secret: str, received: list[Received]) -> list[str]:
    """The transaction ids of the payments these signed events carry."""
    return [
        standardwebhooks.Webhook(secret).verify(event.body, event.headers)["data"]["transaction_id"]
        for event in received
    ]


def _received(receiver: Receiver, count: int) -> list[Received]:
    return wait_until(
        lambda: len(receiver.received) >= count and list(receiver.received),
        timeout=30,
        what=f"{count} webhook deliveries",
    )


def test_events_of_donations_made_while_the_broker_is_down_are_delivered_once_it_is_back(
    tmp_path: Path,
) -> None:
    with (
        running_receiver() as receiver,
        deployment(tmp_path, FUNDRAISING_WEBHOOKS_ALLOW_PRIVATE="true") as deployed,
    ):
        deployed.serve(workers=2)
        deployed.worker()
        api = deployed.api()
        author, donor = api.account("author"), api.account("donor")
        collect_id = api.collect(author, "Подарок")["id"]
        secret = _subscribe(api, author, receiver.url, collect_id)
        assert api.donate(donor, collect_id, "150.00", "before").status_code == 201
        assert _verified(secret, _received(receiver, 1)) == ["before"]  # it works before the fault

        deployed.broker.close()  # SIGKILL: what it held is gone too
        for number in range(3):
            started = time.monotonic()
            answer = api.donate(donor, collect_id, "10.00", f"down-{number}")
            assert answer.status_code == 201, answer.text
            assert time.monotonic() - started < PROMPT_SECONDS
        time.sleep(RELAY_GRACE + 0.5)  # the relay tries, and fails
        assert len(receiver.received) == 1, "nothing is delivered without a broker"

        deployed.broker.start()  # same port, empty
        received = _received(receiver, 4)
        time.sleep(RELAY_GRACE + 0.5)  # a copy relayed twice would arrive within this
        assert sorted(_verified(secret, list(receiver.received))) == sorted(
            ["before", "down-0", "down-1", "down-2"]
        ), deployed.logs()
        assert len({event.headers["webhook-id"] for event in received}) == 4


def test_production_refuses_webhook_urls_that_name_loopback_addresses(tmp_path: Path) -> None:
    production = {"FUNDRAISING_ENV": "production", "FUNDRAISING_SECRET_KEY": "k" * 48}
    with running_receiver() as receiver, deployment(tmp_path, **production) as deployed:
        deployed.serve(workers=1)
        api = deployed.api()
        author = api.account("author")
        port = receiver.url.split(":")[2].split("/")[0]
        refused = [
            f"https://localhost:{port}/hooks",  # a name: refused for what it resolves to
            f"https://127.0.0.1:{port}/hooks",
            "https://[::1]/hooks",
            "https://169.254.169.254/latest/meta-data/",
            "http://hooks.example.com/",  # plain http in production
        ]
        for url in refused:
            answer = api.http.post(
                WEBHOOKS, json={"url": url, "events": ["payment.created"]}, headers=author.headers
            )
            assert answer.status_code == 400, (url, answer.text)
            assert [error["field"] for error in answer.json()["errors"]] == ["url"], url
        listed = api.http.get(WEBHOOKS, headers=author.headers)
        assert listed.json()["count"] == 0
        assert receiver.received == []
