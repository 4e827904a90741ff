"""The e-mails the service sends, in Russian: a plain-text and an HTML part each."""

from __future__ import annotations

import html
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from fundraising.application.ports.mail import Notification
from fundraising.application.ports.tasks import EmailKind
from fundraising.domain.money import Money


def _roubles(amount: Money | None) -> str:
    if amount is None:
        return "без ограничения суммы"
    whole, _, kopecks = str(amount).partition(".")
    grouped = f"{int(whole):,}".replace(",", "\u00a0")
    return f"{grouped},{kopecks}\u00a0₽"


def _hours(hours: int | None) -> str:
    """`1 час`, `3 часа`, `24 часа`, `5 часов`: Russian plurals."""
    count = hours or 0
    if count % 10 == 1 and count % 100 != 11:
        word = "час"
    elif 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        word = "часа"
    else:
        word = "часов"
    return f"{count}\u00a0{word}"


def _one_line(text: str) -> str:
    """A header value: line breaks and runs of spaces become single spaces."""
    return " ".join(text.split())


_SUBJECTS = {
    EmailKind.COLLECT_CREATED: "Сбор «{title}» создан",
    EmailKind.DONATION_THANKS: "Спасибо за пожертвование в сбор «{title}»",
    EmailKind.DONATION_RECEIVED: "Новое пожертвование в сбор «{title}»",
    EmailKind.ACCOUNT_ACTIVATION: "Подтвердите адрес электронной почты",
    EmailKind.PASSWORD_RESET: "Сброс пароля",
    EmailKind.INVITATION: "Вас пригласили в сбор «{title}»",
    EmailKind.REMINDER: "Напоминание о сборе «{title}»",
    EmailKind.PAYMENT_REFUNDED: "Возврат пожертвования в сбор «{title}»",
    EmailKind.COLLECT_CANCELLED: "Сбор «{title}» отменён",
    EmailKind.UPDATE_POSTED: "Новости сбора «{title}»",
    EmailKind.GOAL_REACHED: "Сбор «{title}» достиг цели",
    EmailKind.ENDING_SOON: "Сбор «{title}» скоро завершится",
    EmailKind.COLLECT_ENDED: "Сбор «{title}» завершён: итоги",
}
_MEMBER_NEWS = (
    EmailKind.INVITATION,
    EmailKind.REMINDER,
    EmailKind.COLLECT_CANCELLED,
    EmailKind.UPDATE_POSTED,
)
_LIFECYCLE = (EmailKind.GOAL_REACHED, EmailKind.ENDING_SOON, EmailKind.COLLECT_ENDED)


def _subject(n: Notification) -> str:
    return _one_line(_SUBJECTS[n.kind].format(title=n.collect_title))


def _terms(n: Notification) -> list[str]:
    """When a collect ends and the share asked of each member, for invitations and reminders."""
    ends = "без срока" if n.end_date is None else f"до {n.end_date:%d.%m.%Y %H:%M} UTC"
    share = [f"Предлагаемый взнос: {_roubles(n.suggested_amount)}."] if n.suggested_amount else []
    return [f"Сбор идёт {ends}.", *share]


def _paragraphs(n: Notification) -> list[str]:
    if n.kind.about_the_account:
        return _account_paragraphs(n)
    if n.kind in _MEMBER_NEWS:
        return _member_paragraphs(n)
    if n.kind in _LIFECYCLE:
        return _lifecycle_paragraphs(n)
    return _money_paragraphs(n)


def _lifecycle_paragraphs(n: Notification) -> list[str]:
    """The goal reached, the end within a day, the end (with its totals)."""
    match n.kind:
        case EmailKind.GOAL_REACHED:
            return [
                f"Сбор «{n.collect_title}» достиг цели: собрано {_roubles(n.amount)} "
                f"из {_roubles(n.goal)}.",
                "Сбор:",
            ]
        case EmailKind.ENDING_SOON:
            return [
                f"Сбор «{n.collect_title}» скоро завершится, а вы ещё не сделали взнос.",
                *_terms(n),
                "Успеть можно здесь:",
            ]
        case _:  # the end
            return [
                f"Сбор «{n.collect_title}» завершён.",
                f"Собрано: {_roubles(n.amount)}; пожертвований: {n.donations_count}; "
                f"участников, сделавших взнос: {n.donors_count}.",
                "Сбор:",
            ]


def _money_paragraphs(n: Notification) -> list[str]:
    """A collect created, a donation (thanks, news of it) and a refund."""
    match n.kind:
        case EmailKind.COLLECT_CREATED:
            return [
                f"Ваш сбор «{n.collect_title}» создан и уже принимает пожертвования.",
                f"Цель сбора: {_roubles(n.goal)}.",
                "Поделитесь ссылкой с коллегами и друзьями:",
            ]
        case EmailKind.DONATION_THANKS:
            return [
                f"Спасибо! Вы перевели {_roubles(n.amount)} в сбор «{n.collect_title}».",
                "Следить за тем, как идёт сбор, можно по ссылке:",
            ]
        case EmailKind.DONATION_RECEIVED:
            wish = [f"Пожелание: «{n.comment}»"] if n.comment else []
            return [
                f"{n.donor_name} перевёл(а) {_roubles(n.amount)} в ваш сбор «{n.collect_title}».",
                *wish,
                f"Цель сбора: {_roubles(n.goal)}.",
                "Все пожертвования сбора:",
            ]
        case _:  # a refund
            reason = [f"Причина: «{n.comment}»"] if n.comment else []
            return [
                f"Организатор сбора «{n.collect_title}» вернул вам {_roubles(n.amount)}.",
                *reason,
                "Сбор:",
            ]


def _member_paragraphs(n: Notification) -> list[str]:
    """An invitation or a reminder (what the collect is, until when, the share asked), or the
    news that it was cancelled."""
    match n.kind:
        case EmailKind.UPDATE_POSTED:
            return [
                f"{n.donor_name} пишет участникам сбора «{n.collect_title}»:",
                n.comment or "",
                "Сбор:",
            ]
        case EmailKind.COLLECT_CANCELLED:
            return [
                f"Организатор отменил сбор «{n.collect_title}».",
                "Все ваши пожертвования в этот сбор возвращены.",
                "Сбор:",
            ]
        case EmailKind.INVITATION:
            return [
                f"Вас добавили в участники сбора «{n.collect_title}».",
                *_terms(n),
                "Открыть сбор:",
            ]
        case _:  # a reminder
            return [
                f"Вы участвуете в сборе «{n.collect_title}», но ещё не сделали взнос.",
                *_terms(n),
                "Сделать взнос можно здесь:",
            ]


def _account_paragraphs(n: Notification) -> list[str]:
    match n.kind:
        case EmailKind.ACCOUNT_ACTIVATION:
            return [
                f"Подтвердите, что этот адрес ({n.to}) ваш: откройте ссылку ниже.",
                f"Ссылка действует {_hours(n.valid_hours)}. Если вы не регистрировались "
                "в «Фандрайзинге» и не меняли адрес, просто удалите это письмо.",
            ]
        case _:  # a password reset
            return [
                "Кто-то (надеемся, вы) попросил сбросить пароль вашей учётной записи.",
                f"Задать новый пароль можно по ссылке ниже; она действует {_hours(n.valid_hours)}"
                " и сработает один раз. Если вы не просили сброса, ничего не делайте: пароль "
                "останется прежним.",
            ]


def render(notification: Notification, *, sender: str) -> EmailMessage:
    greeting = f"Здравствуйте, {notification.recipient_name}!"
    paragraphs = _paragraphs(notification)
    signature = "— Команда «Фандрайзинга»"
    text = "\n\n".join([greeting, *paragraphs, notification.link, signature]) + "\n"
    url = html.escape(notification.link)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in [greeting, *paragraphs])
    page = (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"></head><body>'
        f'{body}<p><a href="{url}">{url}</a></p><p>{html.escape(signature)}</p></body></html>'
    )
    message = EmailMessage()
    message["Subject"] = _subject(notification)
    message["From"] = sender
    message["To"] = notification.to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:12], domain="fundraising")
    message.set_content(text)
    message.add_alternative(page, subtype="html")
    return message
