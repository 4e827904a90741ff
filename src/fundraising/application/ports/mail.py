"""The mailer port: a notification goes out as an e-mail."""

from __future__ import annotations

from datetime import datetime
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
    link: str  # where the e-mail leads: the collect, or the account page the token opens
    collect_title: str = ""
    amount: Money | None = None
    goal: Money | None = None
    donor_name: str | None = None  # (or an update's writer)
    comment: str | None = None  # the donor's wish, why a payment was refunded, an update
    end_date: datetime | None = None  # invitations and reminders: when the collect ends
    suggested_amount: Money | None = None  # and the share asked of each member
    donations_count: int | None = None  # the summary of an ended collect
    donors_count: int | None = None
    valid_hours: int | None = None  # how long the link of an account e-mail works


class Mailer(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver it, or raise; a raised error is retried by the task queue."""
        ...
