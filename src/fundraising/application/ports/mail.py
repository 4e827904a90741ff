"""The mailer port: a notification goes out as an e-mail."""

from __future__ import annotations

from typing import Protocol

from attrs import frozen

from fundraising.application.ports.tasks import EmailKind
from fundraising.domain.money import Money


@frozen
class Notification:
    """What an e-mail says; the mailer renders and delivers it."""

    kind: EmailKind
    to: str
    recipient_name: str
    collect_title: str
    collect_url: str
    amount: Money | None = None
    goal: Money | None = None
    donor_name: str | None = None


class Mailer(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver it, or raise; a raised error is retried by the task queue."""
        ...
