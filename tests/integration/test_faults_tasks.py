"""Faults on the task path: the broker down or hung during donations, SMTP refusing or down."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.fault_helpers import PAYMENTS, PROMPT_SECONDS, _donation
from tests.integration.fixtures_services import (
    SmtpSink,
    smtp_sink_fixture,  # noqa: F401  (fixture)
    wait_until,
)
from tests.integration.processes import (
    Account,
    Api,
    Deployment,
    RefusingSmtp,
    Seen,
    deployment,
    observe,
)

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.redis]


RELAY_GRACE = 1.0  # the test profile's relay grace


ACTIVATION_SUBJECT = "Подтвердите адрес электронной почты"


def _mails(sink: SmtpSink) -> Counter[tuple[str, str]]:
    """(recipient, subject) of every notification the SMTP server accepted, counted. Activation
    e-mails are left out: each is sent or skipped depending on whether it is delivered before
    the test verifies the address."""
    return Counter(
        (recipient, str(message["Subject"]))
        for _, recipients, message in sink.envelopes
        for recipient in recipients
        if message["Subject"] != ACTIVATION_SUBJECT
    )


def _wait_for_mails(sink: SmtpSink, expected: Counter[tuple[str, str]], timeout: float) -> None:
    wait_until(
        lambda: all(_mails(sink)[key] >= count for key, count in expected.items()),
        timeout=timeout,
        interval=0.05,
        what=f"{sum(expected.values())} e-mails",
    )


def _unfinished_tasks(deployed: Deployment) -> int:
    with deployed.database() as db:
        return int(db.scalar("SELECT COUNT(*) FROM outbox WHERE finished_at IS NULL"))


def _settled(deployed: Deployment, sink: SmtpSink, expected: Counter[tuple[str, str]]) -> None:
    """Every expected e-mail arrived, every task finished, and nothing more comes afterwards."""
    _wait_for_mails(sink, expected, timeout=30)
    wait_until(
        lambda: _unfinished_tasks(deployed) == 0, timeout=15, what="every outbox task finished"
    )
    time.sleep(RELAY_GRACE + 0.5)  # a duplicate would be relayed and sent within this
    assert _mails(sink) == expected, deployed.logs()


class Collects:
    """Collects of a few authors, each with a donor of its own, and the e-mails they cause."""

    def __init__(self, api: Api, count: int) -> None:
        self.api = api
        authors = [api.account("author") for _ in range(2)]
        self.items: list[tuple[Account, Account, int, str]] = []
        self.expected: Counter[tuple[str, str]] = Counter()
        for number in range(count):
            author, title = authors[number % 2], f"Подарок №{number + 1}"
            collect_id = api.collect(author, title, goal_amount="5000")["id"]
            self.items.append((author, api.account("donor"), collect_id, title))
            self.expected[(author.email, f"Сбор «{title}» создан")] += 1

    def donate_each(self, http: httpx.Client, prefix: str) -> list[Seen]:
        answers = []
        for author, donor, collect_id, title in self.items:
            body = _donation(collect_id, "150.00", f"{prefix}-{collect_id}")
            answers.append(observe(http, "POST", PAYMENTS, json=body, headers=donor.headers))
            self.expected[(donor.email, f"Спасибо за пожертвование в сбор «{title}»")] += 1
            self.expected[(author.email, f"Новое пожертвование в сбор «{title}»")] += 1
        return answers


def test_donations_made_while_the_broker_is_down_are_mailed_once_it_is_back(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        deployed.serve(workers=2)
        deployed.worker()
        collects = Collects(deployed.api(), 6)
        _wait_for_mails(smtp_sink, collects.expected, timeout=20)  # it works before the fault
        before = _mails(smtp_sink)

        deployed.broker.close()  # SIGKILL: queued messages are gone too
        answers = collects.donate_each(collects.api.http, "broker-down")
        for answer in answers:
            assert answer.status == 201, answer.describe()
            assert answer.ended - answer.started < PROMPT_SECONDS, answer.describe()
        time.sleep(RELAY_GRACE + 0.5)  # past the relay's grace: it tries, and fails
        assert _unfinished_tasks(deployed) == 2 * len(answers)
        assert _mails(smtp_sink) == before, "no donation e-mail without a broker"

        deployed.broker.start()  # same port, empty
        _settled(deployed, smtp_sink, collects.expected)


def test_donations_are_answered_promptly_while_the_broker_hangs(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        deployed.serve(workers=2)
        deployed.worker()
        collects = Collects(deployed.api(), 1)
        _wait_for_mails(smtp_sink, collects.expected, timeout=20)

        deployed.broker.pause()  # SIGSTOP: connections are accepted, nothing is answered
        try:
            with httpx.Client(base_url=deployed.url, timeout=2 * PROMPT_SECONDS) as http:
                answers = collects.donate_each(http, "broker-hung")
        finally:
            deployed.broker.resume()
        for answer in answers:
            assert answer.status == 201, answer.describe()
            assert answer.ended - answer.started < PROMPT_SECONDS, answer.describe()
        _settled(deployed, smtp_sink, collects.expected)


@pytest.fixture
def refusing_smtp() -> Iterator[RefusingSmtp]:
    """An SMTP server answering 451 to the first two deliveries of every message: the test
    profile's two retries are just enough."""
    sink = RefusingSmtp(refusals=2)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def test_emails_refused_for_a_while_are_delivered_after_retries_exactly_once(
    tmp_path: Path, refusing_smtp: RefusingSmtp
) -> None:
    with deployment(tmp_path, smtp=refusing_smtp) as deployed:
        deployed.serve(workers=2)
        deployed.worker()
        collects = Collects(deployed.api(), 3)
        answers = collects.donate_each(collects.api.http, "refused")
        assert [answer.status for answer in answers] == [201] * len(answers)

        _settled(deployed, refusing_smtp, collects.expected)
        attempts = {
            (recipients[0], subject): n
            for (recipients, subject), n in refusing_smtp.attempts.items()
            if subject != ACTIVATION_SUBJECT
        }
        assert attempts == dict.fromkeys(collects.expected, 3), "refused twice, then sent"


def test_emails_wait_for_an_smtp_server_that_is_down_and_are_sent_once(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    # The test profile gives a task 2 retries within ~0.3 s; an outage of seconds needs more of
    # them, as production has (10 retries, backing off from 5 s to 10 min).
    with deployment(tmp_path, smtp=smtp_sink, FUNDRAISING_TASK_MAX_RETRIES="100") as deployed:
        deployed.serve(workers=2)
        deployed.worker()
        collects = Collects(deployed.api(), 3)
        _wait_for_mails(smtp_sink, collects.expected, timeout=20)

        smtp_sink.stop()
        answers = collects.donate_each(collects.api.http, "smtp-down")
        assert [answer.status for answer in answers] == [201] * len(answers)
        time.sleep(RELAY_GRACE + 1.0)  # attempts fail, and the relay publishes copies
        assert _unfinished_tasks(deployed) == 2 * len(answers)

        smtp_sink.start()  # same port
        _settled(deployed, smtp_sink, collects.expected)
