"""The e-mails: Russian templates with both parts, delivered to a real SMTP server or written
as `.eml` files that parse back."""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest

from fundraising.adapters.mail.senders import FileMailer, SmtpMailer
from fundraising.adapters.mail.templates import render
from fundraising.application.ports.mail import Notification
from fundraising.application.ports.tasks import EmailKind
from fundraising.domain.money import Money
from tests.integration.fixtures_services import (
    SmtpSink,
    free_port,
    smtp_sink_fixture,  # noqa: F401  (fixture)
    text_and_html,
)

SENDER = "Фандрайзинг <noreply@fundraising.local>"
URL = "https://fundraising.example/api/v1/collects/7/"
NBSP = "\u00a0"


def rub(amount: str) -> str:
    """An amount as the e-mails write it: "1 250,50 ₽", with no-break spaces."""
    return f"{amount.replace(' ', NBSP)}{NBSP}₽"


def notification(kind: EmailKind, **changes: object) -> Notification:
    values: dict[str, object] = {
        "kind": kind,
        "to": "ivan@example.com",
        "recipient_name": "Иван Петров",
        "collect_title": "Подарок Марии",
        "link": URL,
        "valid_hours": 24,
        "amount": Money.of("1250.50"),
        "goal": Money.of("15000"),
        "donor_name": "Пётр Сидоров",
        "end_date": datetime(2026, 12, 30, 18, 0, tzinfo=UTC),
        "suggested_amount": Money.of("500"),
        "donations_count": 7,
        "donors_count": 5,
    }
    values.update(changes)
    return Notification(**values)  # type: ignore[arg-type]


# --- render() --------------------------------------------------------------------------


EXPECTED = {
    EmailKind.COLLECT_CREATED: (
        "Сбор «Подарок Марии» создан",
        [
            "Ваш сбор «Подарок Марии» создан и уже принимает пожертвования.",
            f"Цель сбора: {rub('15 000,00')}.",
        ],
    ),
    EmailKind.DONATION_THANKS: (
        "Спасибо за пожертвование в сбор «Подарок Марии»",
        [f"Спасибо! Вы перевели {rub('1 250,50')} в сбор «Подарок Марии»."],
    ),
    EmailKind.DONATION_RECEIVED: (
        "Новое пожертвование в сбор «Подарок Марии»",
        [
            f"Пётр Сидоров перевёл(а) {rub('1 250,50')} в ваш сбор «Подарок Марии».",
            f"Цель сбора: {rub('15 000,00')}.",
        ],
    ),
    EmailKind.ACCOUNT_ACTIVATION: (
        "Подтвердите адрес электронной почты",
        [
            "Подтвердите, что этот адрес (ivan@example.com) ваш: откройте ссылку ниже.",
            f"Ссылка действует 24{NBSP}часа.",
        ],
    ),
    EmailKind.INVITATION: (
        "Вас пригласили в сбор «Подарок Марии»",
        [
            "Вас добавили в участники сбора «Подарок Марии».",
            "Сбор идёт до 30.12.2026 18:00 UTC.",
            f"Предлагаемый взнос: {rub('500,00')}.",
        ],
    ),
    EmailKind.REMINDER: (
        "Напоминание о сборе «Подарок Марии»",
        [
            "Вы участвуете в сборе «Подарок Марии», но ещё не сделали взнос.",
            "Сбор идёт до 30.12.2026 18:00 UTC.",
            f"Предлагаемый взнос: {rub('500,00')}.",
        ],
    ),
    EmailKind.PAYMENT_REFUNDED: (
        "Возврат пожертвования в сбор «Подарок Марии»",
        [f"Организатор сбора «Подарок Марии» вернул вам {rub('1 250,50')}."],
    ),
    EmailKind.COLLECT_CANCELLED: (
        "Сбор «Подарок Марии» отменён",
        ["Организатор отменил сбор «Подарок Марии».", "Все ваши пожертвования в этот сбор"],
    ),
    EmailKind.UPDATE_POSTED: (
        "Новости сбора «Подарок Марии»",
        ["Пётр Сидоров пишет участникам сбора «Подарок Марии»:"],
    ),
    EmailKind.GOAL_REACHED: (
        "Сбор «Подарок Марии» достиг цели",
        [f"Сбор «Подарок Марии» достиг цели: собрано {rub('1 250,50')} из {rub('15 000,00')}."],
    ),
    EmailKind.ENDING_SOON: (
        "Сбор «Подарок Марии» скоро завершится",
        ["а вы ещё не сделали взнос.", "Сбор идёт до 30.12.2026 18:00 UTC."],
    ),
    EmailKind.COLLECT_ENDED: (
        "Сбор «Подарок Марии» завершён: итоги",
        [f"Собрано: {rub('1 250,50')}; пожертвований: 7; участников, сделавших взнос: 5."],
    ),
    EmailKind.PASSWORD_RESET: (
        "Сброс пароля",
        [
            "Задать новый пароль можно по ссылке ниже;",
            f"она действует 24{NBSP}часа и сработает один раз.",
        ],
    ),
}


@pytest.mark.parametrize("kind", list(EmailKind))
def test_every_email_is_in_russian_with_a_text_and_an_html_part(kind: EmailKind) -> None:
    message = render(notification(kind), sender=SENDER)
    subject, sentences = EXPECTED[kind]
    assert message["Subject"] == subject
    assert message["From"] == SENDER
    assert message["To"] == "ivan@example.com"
    assert message["Message-ID"]
    assert message["Date"]
    text, html = text_and_html(message)
    assert text.startswith("Здравствуйте, Иван Петров!")
    assert "Команда «Фандрайзинга»" in text
    assert URL in text
    for sentence in sentences:
        assert sentence in text
        assert sentence in html
    assert f'<a href="{URL}">' in html
    assert '<html lang="ru">' in html


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        ("1250.50", "1 250,50"),
        ("5", "5,00"),
        ("999.99", "999,99"),
        ("1000", "1 000,00"),
        ("10000000.00", "10 000 000,00"),
    ],
)
def test_amounts_are_written_the_russian_way(amount: str, written: str) -> None:
    message = render(
        notification(EmailKind.DONATION_THANKS, amount=Money.of(amount)), sender=SENDER
    )
    text, html = text_and_html(message)
    assert f"Вы перевели {rub(written)} в сбор" in text
    assert rub(written) in html


@pytest.mark.parametrize(
    ("hours", "written"),
    [
        (1, "1 час"),
        (2, "2 часа"),
        (5, "5 часов"),
        (11, "11 часов"),
        (21, "21 час"),
        (24, "24 часа"),
    ],
)
def test_a_link_s_lifetime_is_written_with_the_right_plural(hours: int, written: str) -> None:
    message = render(notification(EmailKind.PASSWORD_RESET, valid_hours=hours), sender=SENDER)
    assert f"она действует {written.replace(' ', NBSP)} и" in text_and_html(message)[0]


def test_a_collect_without_a_goal_says_so() -> None:
    message = render(notification(EmailKind.COLLECT_CREATED, goal=None), sender=SENDER)
    assert "Цель сбора: без ограничения суммы." in text_and_html(message)[0]


def test_html_from_users_stays_escaped() -> None:
    message = render(
        notification(
            EmailKind.DONATION_RECEIVED,
            collect_title="<script>alert('x')</script> & Co",
            donor_name='<img src=x onerror="steal()">',
            recipient_name="<b>Иван</b>",
        ),
        sender=SENDER,
    )
    text, html = text_and_html(message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;steal()&quot;&gt;" in html
    assert "<b>" not in html
    assert "<script>alert('x')</script> & Co" in text, "the text part is not HTML"
    assert message["Subject"] == "Новое пожертвование в сбор «<script>alert('x')</script> & Co»"


def test_a_title_with_a_line_break_still_makes_an_email() -> None:
    message = render(
        notification(EmailKind.COLLECT_CREATED, collect_title="Подарок\nМарии"), sender=SENDER
    )
    assert "\n" not in str(message["Subject"])
    assert "Подарок" in str(message["Subject"])


# --- delivery ------------------------------------------------------------------------------


def test_smtp_delivers_both_parts_to_the_recipient(smtp_sink: SmtpSink) -> None:
    mailer = SmtpMailer(smtp_sink.url, sender=SENDER)
    mailer.send(notification(EmailKind.DONATION_THANKS, to="petr@example.com"))

    [(envelope_from, recipients, message)] = smtp_sink.envelopes
    assert envelope_from == "noreply@fundraising.local"
    assert recipients == ["petr@example.com"]
    assert str(message["From"]) == SENDER
    assert message["To"] == "petr@example.com"
    assert message["Subject"] == "Спасибо за пожертвование в сбор «Подарок Марии»"
    text, html = text_and_html(message)
    assert f"Вы перевели {rub('1 250,50')}" in text
    assert rub("1 250,50") in html
    assert URL in text


def test_delivery_logs_no_address_in_full(
    smtp_sink: SmtpSink, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fundraising.adapters.mail")
    SmtpMailer(smtp_sink.url, sender=SENDER).send(notification(EmailKind.COLLECT_CREATED))
    FileMailer(tmp_path, sender=SENDER).send(notification(EmailKind.COLLECT_CREATED))

    assert len(caplog.records) == 2
    assert all("ivan@example.com" not in record.getMessage() for record in caplog.records)
    assert all("i***@example.com" in record.getMessage() for record in caplog.records)


def test_smtp_down_raises_so_that_the_task_is_retried() -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", sender=SENDER, timeout=2)
    with pytest.raises(ConnectionRefusedError):
        mailer.send(notification(EmailKind.COLLECT_CREATED))


def test_an_unsupported_smtp_url_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="scheme"):
        SmtpMailer("http://127.0.0.1:25", sender=SENDER)


def test_file_mailer_writes_a_parseable_eml(tmp_path: Path) -> None:
    folder = tmp_path / "mail" / "out"  # created on demand
    mailer = FileMailer(folder, sender=SENDER)
    mailer.send(notification(EmailKind.DONATION_RECEIVED))
    mailer.send(notification(EmailKind.COLLECT_CREATED))

    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    assert {"donation_received", "collect_created"} == {
        kind
        for path in files
        for kind in ("donation_received", "collect_created")
        if kind in path.name
    }
    parsed = [
        cast(EmailMessage, email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        for path in files
    ]
    news = next(m for m in parsed if m["Subject"].startswith("Новое"))
    assert news["Subject"] == "Новое пожертвование в сбор «Подарок Марии»"
    assert str(news["From"]) == SENDER
    assert news["To"] == "ivan@example.com"
    text, html = text_and_html(news)
    assert f"Пётр Сидоров перевёл(а) {rub('1 250,50')}" in text
    assert f'<a href="{URL}">' in html
