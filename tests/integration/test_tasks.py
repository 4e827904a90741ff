"""Background work for real: the app publishes to Redis, a Dramatiq worker consumes and mails
through an SMTP server; retries, dead letters, the outbox relay, duplicate deliveries, and the
embedded mode (in-process broker, `.eml` files)."""

from __future__ import annotations

import email
import email.policy
import io
import itertools
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from attrs import frozen
from dependency_injector import providers
from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import select

from fundraising.adapters.sql.tables import outbox
from fundraising.adapters.task_codec import decode_task
from fundraising.adapters.tasks.broker import build_broker
from fundraising.application.ports.tasks import EmailKind, OutboxMessage, ProcessCover, SendEmail
from fundraising.application.use_cases.auth import Registration
from fundraising.container import Container, background_worker
from fundraising.entrypoints.http.app import asgi_app
from fundraising.settings import Settings
from tests.fakes import FixedClock
from tests.integration.fixtures_services import (
    RedisServer,
    SharedRedis,
    SmtpSink,
    free_port,
    redis_server_fixture,  # noqa: F401  (fixture)
    shared_redis_fixture,  # noqa: F401  (fixture)
    smtp_sink_fixture,  # noqa: F401  (fixture)
    text_and_html,
    wait_until,
)

BASE = "http://testserver.local"
PASSWORD = "correct horse battery"
BROKER_DB = 13
SENDER = "Фандрайзинг <noreply@fundraising.local>"
NBSP = "\u00a0"
_numbers = itertools.count(1)


@frozen
class Account:
    id: int
    email: str
    headers: dict[str, str]


class Stack:
    """The app (publishing only) and a Dramatiq worker consuming the same broker."""

    def __init__(self, client: TestClient[Any], container: Container, broker_url: str | None):
        self.client = client
        self.container = container
        self._broker_url = broker_url
        self._worker: Any = None
        self._consumer: Any = None

    def start_worker(self, threads: int = 2) -> None:
        assert self._broker_url is not None and self._worker is None
        self._consumer = build_broker(self._broker_url)
        self._worker = background_worker(self.container, broker=self._consumer, threads=threads)
        self._worker.start()

    def stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._consumer.close()
            self._worker = self._consumer = None

    def account(self, first_name: str = "", last_name: str = "") -> Account:
        """A verified account, made as an administrator makes one (no activation e-mail to
        wait for or count), and logged in over the API."""
        username = f"user{next(_numbers)}"
        address = f"{username}@example.com"
        user = self.container.register_user()(
            Registration(username, address, PASSWORD, first_name, last_name)
        )
        tokens = self.client.post(
            "/auth/jwt/create/", json={"username": username, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        headers = {"Authorization": f"Bearer {tokens.json()['access']}"}
        return Account(user.id, address, headers)

    def collect(self, author: Account, title: str = "Подарок Ивану", **fields: Any) -> int:
        created = self.client.post(
            "/api/v1/collects/", json={"title": title, **fields}, headers=author.headers
        )
        assert created.status_code == 201, created.text
        return int(created.json()["id"])

    def donate(self, donor: Account, collect_id: int, amount: str) -> int:
        paid = self.client.post(
            "/api/v1/payments/",
            json={"collect": collect_id, "amount": amount, "transaction_id": f"tx{next(_numbers)}"},
            headers=donor.headers,
        )
        assert paid.status_code == 201, paid.text
        return int(paid.json()["id"])

    def detail(self, collect_id: int, who: Account) -> Any:
        response = self.client.get(f"/api/v1/collects/{collect_id}/", headers=who.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def outbox_rows(self) -> list[Any]:
        with self.container.engine().connect() as connection:
            return list(connection.execute(select(outbox).order_by(outbox.c.id)))

    def rows_for(self, task: SendEmail | ProcessCover) -> list[Any]:
        return [row for row in self.outbox_rows() if decode_task(row.task) == task]


@contextmanager
def running(
    directory: Path,
    *,
    broker_url: str | None,
    smtp_url: str | None,
    clock: FixedClock | None = None,
    worker: bool = True,
    **overrides: Any,
) -> Iterator[Stack]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=f"sqlite:///{directory / 'fundraising.sqlite3'}",
        media_dir=directory / "media",
        mail_dir=directory / "mail",
        cache_changes_file=directory / "cache-changes",
        broker_url=broker_url,
        smtp_url=smtp_url,
        public_url=BASE,
        **overrides,
    )
    container = Container(settings=settings)
    if clock is not None:
        container.clock.override(providers.Object(clock))
    with TestClient(asgi_app(container), base_url=BASE) as client:
        stack = Stack(client, container, broker_url)
        try:
            if worker and broker_url is not None:
                stack.start_worker()
            yield stack
        finally:
            stack.stop_worker()


@pytest.fixture(name="broker_url")
def broker_url_fixture(shared_redis: SharedRedis) -> str:
    return shared_redis(BROKER_DB)


def rub(amount: str) -> str:
    """How the e-mails write an amount: "1 250,50 ₽" with no-break spaces."""
    return f"{amount.replace(' ', NBSP)}{NBSP}₽"


# --- e-mails through Redis, Dramatiq and SMTP ---------------------------------------------


@pytest.mark.redis
def test_a_new_collect_mails_its_author(
    tmp_path: Path, broker_url: str, smtp_sink: SmtpSink
) -> None:
    with running(tmp_path, broker_url=broker_url, smtp_url=smtp_sink.url) as stack:
        author = stack.account("Иван", "Петров")
        collect_id = stack.collect(author, "Подарок Марии", goal_amount="15000")

        [message] = smtp_sink.wait_for(author.email)
    link = f"{BASE}/collects/{collect_id}"  # the front end's page (FUNDRAISING_FRONTEND_URL)
    assert message["Subject"] == "Сбор «Подарок Марии» создан"
    assert message["To"] == author.email
    assert str(message["From"]) == SENDER
    text, html = text_and_html(message)
    assert "Здравствуйте, Иван Петров!" in text
    assert "Ваш сбор «Подарок Марии» создан" in text
    assert f"Цель сбора: {rub('15 000,00')}" in text
    assert link in text
    assert f'<a href="{link}">' in html
    assert "Подарок Марии" in html
    [(sender, recipients, _)] = smtp_sink.envelopes
    assert (sender, recipients) == ("noreply@fundraising.local", [author.email])


@pytest.mark.redis
def test_a_donation_mails_the_payer_and_the_author(
    tmp_path: Path, broker_url: str, smtp_sink: SmtpSink
) -> None:
    with running(tmp_path, broker_url=broker_url, smtp_url=smtp_sink.url) as stack:
        author = stack.account("Иван", "Петров")
        donor = stack.account("Пётр", "Сидоров")
        collect_id = stack.collect(author, "Свадьба Ольги", goal_amount="100000")
        stack.donate(donor, collect_id, "1250.50")

        [thanks] = smtp_sink.wait_for(donor.email)
        received = smtp_sink.wait_for(author.email, count=2)

    assert thanks["Subject"] == "Спасибо за пожертвование в сбор «Свадьба Ольги»"
    text, html = text_and_html(thanks)
    assert "Здравствуйте, Пётр Сидоров!" in text
    assert f"Вы перевели {rub('1 250,50')} в сбор «Свадьба Ольги»" in text
    assert rub("1 250,50") in html
    assert "Свадьба Ольги" in html
    assert f"{BASE}/collects/{collect_id}" in text

    [news] = [m for m in received if m["Subject"].startswith("Новое пожертвование")]
    assert news["Subject"] == "Новое пожертвование в сбор «Свадьба Ольги»"
    assert news["To"] == author.email
    text, html = text_and_html(news)
    assert f"Пётр Сидоров перевёл(а) {rub('1 250,50')} в ваш сбор «Свадьба Ольги»" in text
    assert f"Цель сбора: {rub('100 000,00')}" in text
    assert rub("1 250,50") in html
    assert "Пётр Сидоров" in html


@pytest.mark.redis
def test_an_email_is_delivered_once_smtp_is_back(
    tmp_path: Path, broker_url: str, smtp_sink: SmtpSink
) -> None:
    with running(
        tmp_path,
        broker_url=broker_url,
        smtp_url=smtp_sink.url,
        task_max_retries=30,
        task_min_backoff_ms=50,
        task_max_backoff_ms=300,
    ) as stack:
        author = stack.account()
        smtp_sink.stop()
        collect_id = stack.collect(author, "Пока почта лежит")
        created = SendEmail(EmailKind.COLLECT_CREATED, collect_id)
        time.sleep(1.0)  # several attempts fail meanwhile
        assert smtp_sink.envelopes == []
        assert stack.rows_for(created)[0].finished_at is None

        smtp_sink.start()
        [message] = smtp_sink.wait_for(author.email)
        assert message["Subject"] == "Сбор «Пока почта лежит» создан"
        wait_until(lambda: stack.rows_for(created)[0].finished_at is not None, what="finished")
        time.sleep(1.0)
        assert len(smtp_sink.messages_to(author.email)) == 1, "delivered exactly once"


def _dead_letters(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.ERROR and "dead letter" in record.getMessage()
    ]


@pytest.mark.redis
def test_an_email_that_keeps_failing_ends_as_a_logged_dead_letter(
    tmp_path: Path, broker_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    nowhere = f"smtp://127.0.0.1:{free_port()}"
    with running(tmp_path, broker_url=broker_url, smtp_url=nowhere) as stack:
        author = stack.account()
        collect_id = stack.collect(author)
        [record] = wait_until(lambda: _dead_letters(caplog), what="the dead letter")
        assert "collect_created" in record.getMessage()
        [row] = stack.rows_for(SendEmail(EmailKind.COLLECT_CREATED, collect_id))
        assert row.finished_at is None
        assert row.claimed_until is None, "released, not stuck claimed"
        assert row.dead_at is not None, "buried, so that no relay publishes it again"
    assert not [r for r in caplog.records if "could not record" in r.getMessage()]


@pytest.mark.redis
def test_a_cover_task_that_keeps_failing_ends_failed(
    tmp_path: Path, broker_url: str, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with running(tmp_path, broker_url=broker_url, smtp_url=smtp_sink.url) as stack:
        author = stack.account()
        collect_id = stack.collect(author)
        # Processing can never store its result: where the covers folder goes is a file.
        (tmp_path / "media").mkdir(exist_ok=True)
        (tmp_path / "media" / "covers").write_text("in the way")
        picture = io.BytesIO()
        Image.new("RGB", (300, 200), "navy").save(picture, "PNG")
        uploaded = stack.client.patch(
            f"/api/v1/collects/{collect_id}/",
            files={"cover": ("cover.png", picture.getvalue(), "image/png")},
            headers=author.headers,
        )
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["cover_status"] == "processing"

        failed = wait_until(
            lambda: (body := stack.detail(collect_id, author))["cover_status"] == "failed" and body,
            timeout=20,
            what="the cover ending failed",
        )
        assert failed["cover_url"] is None
        [record] = [r for r in _dead_letters(caplog) if "ProcessCover" in r.getMessage()]
        assert f"collect_id={collect_id}" in record.getMessage()
        assert list((tmp_path / "media" / "uploads").iterdir()) == [], "the upload is cleaned up"
    assert not [r for r in caplog.records if "could not record" in r.getMessage()]


# --- the outbox -----------------------------------------------------------------------------


def test_the_outbox_relays_what_the_broker_missed(
    tmp_path: Path, redis_server: RedisServer, smtp_sink: SmtpSink
) -> None:
    clock = FixedClock(datetime.now(UTC))
    with running(
        tmp_path, broker_url=redis_server.url(), smtp_url=smtp_sink.url, clock=clock
    ) as stack:
        author, donor = stack.account(), stack.account()
        collect_id = stack.collect(author, "Сбор без брокера")
        smtp_sink.wait_for(author.email)

        redis_server.stop()
        payment_id = stack.donate(donor, collect_id, "300.00")
        tasks = [
            SendEmail(EmailKind.DONATION_THANKS, payment_id),
            SendEmail(EmailKind.DONATION_RECEIVED, payment_id),
        ]
        assert all(len(stack.rows_for(task)) == 1 for task in tasks), "recorded in the outbox"
        time.sleep(0.6)  # the relay runs every 0.2 s, but the broker is down
        assert smtp_sink.messages_to(donor.email) == []
        assert all(stack.rows_for(task)[0].finished_at is None for task in tasks)

        redis_server.start()
        clock.advance(seconds=11)  # past the relay's grace period
        [thanks] = smtp_sink.wait_for(donor.email, timeout=20)
        assert thanks["Subject"] == "Спасибо за пожертвование в сбор «Сбор без брокера»"
        smtp_sink.wait_for(author.email, count=2)
        wait_until(
            lambda: all(row.finished_at is not None for row in stack.outbox_rows()),
            what="every outbox message finished",
        )
        time.sleep(0.6)
        assert len(smtp_sink.messages_to(donor.email)) == 1


def test_a_task_the_broker_lost_is_published_again(
    tmp_path: Path, redis_server: RedisServer, smtp_sink: SmtpSink
) -> None:
    """Published, then lost by a broker restarted without persistence: still sent, once."""
    clock = FixedClock(datetime.now(UTC))
    with running(
        tmp_path,
        broker_url=redis_server.url(),
        smtp_url=smtp_sink.url,
        clock=clock,
        worker=False,
    ) as stack:
        author = stack.account()
        collect_id = stack.collect(author)
        created = SendEmail(EmailKind.COLLECT_CREATED, collect_id)
        assert stack.rows_for(created)[0].finished_at is None
        with redis_server.client() as broker:
            assert broker.dbsize() > 0, "the message waits in the broker"

        redis_server.stop()  # without saving: the queued message is gone
        redis_server.start()
        stack.start_worker()
        clock.advance(hours=1)  # an hour later it has still not run
        [message] = smtp_sink.wait_for(author.email, timeout=10)
        assert message["Subject"] == "Сбор «Подарок Ивану» создан"
        wait_until(lambda: stack.rows_for(created)[0].finished_at is not None, what="finished")
        clock.advance(hours=1)
        time.sleep(1.0)
        assert len(smtp_sink.messages_to(author.email)) == 1, "a finished task is not sent again"


@pytest.mark.redis
def test_a_message_delivered_twice_sends_one_email(
    tmp_path: Path, broker_url: str, smtp_sink: SmtpSink
) -> None:
    with running(tmp_path, broker_url=broker_url, smtp_url=smtp_sink.url, worker=False) as stack:
        author = stack.account()
        collect_id = stack.collect(author)
        created = SendEmail(EmailKind.COLLECT_CREATED, collect_id)
        [row] = stack.rows_for(created)
        queue = stack.container.task_queue()
        queue.publish(OutboxMessage(row.id, created))
        queue.publish(OutboxMessage(row.id, created))

        stack.start_worker(threads=4)  # three copies in the queue, several at once
        smtp_sink.wait_for(author.email)
        wait_until(lambda: stack.rows_for(created)[0].finished_at is not None, what="finished")
        time.sleep(1.0)
        assert len(smtp_sink.messages_to(author.email)) == 1

        queue.publish(OutboxMessage(row.id, created))  # and again after it finished
        time.sleep(1.0)
        assert len(smtp_sink.messages_to(author.email)) == 1


# --- embedded mode ------------------------------------------------------------------------


def _mails(folder: Path) -> list[EmailMessage]:
    if not folder.is_dir():
        return []
    return [
        cast(EmailMessage, email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        for path in sorted(folder.glob("*.eml"))
    ]


def test_embedded_mode_writes_emails_to_files(tmp_path: Path) -> None:
    with running(tmp_path, broker_url=None, smtp_url=None) as stack:
        assert stack.container.settings().broker_url is None
        author, donor = stack.account("Анна", "Кузнецова"), stack.account()
        collect_id = stack.collect(author, "Новогодний подарок")
        [created] = wait_until(lambda: _mails(tmp_path / "mail"), what="an .eml file")
        assert created["Subject"] == "Сбор «Новогодний подарок» создан"
        assert created["To"] == author.email
        text, _ = text_and_html(created)
        assert "Здравствуйте, Анна Кузнецова!" in text

        stack.donate(donor, collect_id, "500.00")
        mails = wait_until(
            lambda: len(found := _mails(tmp_path / "mail")) == 3 and found, what="three files"
        )
    by_subject = {str(m["Subject"]): m for m in mails}
    thanks = by_subject["Спасибо за пожертвование в сбор «Новогодний подарок»"]
    assert thanks["To"] == donor.email
    assert rub("500,00") in text_and_html(thanks)[0]
    news = by_subject["Новое пожертвование в сбор «Новогодний подарок»"]
    assert news["To"] == author.email
    names = sorted(path.name for path in (tmp_path / "mail").glob("*.eml"))
    assert [n for n in names if "donation_thanks" in n], names
