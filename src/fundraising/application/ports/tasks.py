"""Background tasks: what the core asks to be done later, and the queue that carries it."""

from __future__ import annotations

import enum
from typing import Protocol

from attrs import frozen


class EmailKind(enum.StrEnum):
    COLLECT_CREATED = "collect_created"
    DONATION_THANKS = "donation_thanks"
    DONATION_RECEIVED = "donation_received"
    ACCOUNT_ACTIVATION = "account_activation"
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"
    REMINDER = "reminder"
    PAYMENT_REFUNDED = "payment_refunded"
    COLLECT_CANCELLED = "collect_cancelled"
    UPDATE_POSTED = "update_posted"
    GOAL_REACHED = "goal_reached"
    ENDING_SOON = "ending_soon"
    COLLECT_ENDED = "collect_ended"

    @property
    def about_the_account(self) -> bool:
        """Account e-mails go to any address; notifications only to verified ones."""
        return self in (EmailKind.ACCOUNT_ACTIVATION, EmailKind.PASSWORD_RESET)


@frozen
class SendEmail:
    """Send one e-mail; `subject_id` is the collect (created, invitations, reminders, its
    cancel and lifecycle), the payment (donations, refunds), the update (posted) or the user
    (account e-mails). Those about a collect or an update go to the user `recipient_id`."""

    kind: EmailKind
    subject_id: int
    recipient_id: int | None = None


@frozen
class ProcessCover:
    """Turn the uploaded `source` of a collect's cover into its published image."""

    collect_id: int
    source: str


@frozen
class RefundCollect:
    """Refund the completed payments of a cancelled collect, in batches."""

    collect_id: int


@frozen
class AnnounceUpdate:
    """E-mail an update to those who paid into its collect."""

    update_id: int


@frozen
class DeliverWebhook:
    """POST an event to one webhook, and schedule the next attempt when it is not taken."""

    delivery_id: int


Task = SendEmail | ProcessCover | RefundCollect | AnnounceUpdate | DeliverWebhook


@frozen
class OutboxMessage:
    """A task recorded in the outbox in the same transaction as the write that asked for it."""

    id: int
    task: Task


class TaskDeferred(Exception):
    """The task is not done, and not due again for `retry_in` seconds: deliver its message
    again then (a webhook's next attempt). Its claim is held until then."""

    def __init__(self, retry_in: float, why: str = "not due yet") -> None:
        super().__init__(f"{why}: again in {retry_in:.1f} s")
        self.retry_in = retry_in


class TaskHeld(TaskDeferred):
    """Another worker is running this message; deliver it again after `retry_in` seconds."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(retry_in, "held by another worker")


class TaskQueueUnavailable(Exception):
    """The broker did not accept the message; the outbox keeps it for a later relay."""


class TaskQueue(Protocol):
    def publish(self, message: OutboxMessage) -> None:
        """Hand a committed outbox message to the workers, or raise `TaskQueueUnavailable`."""
        ...
