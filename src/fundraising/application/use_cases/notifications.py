"""E-mails: turn a `SendEmail` task into a notification for the right person.

Notifications (collects, donations) go to verified addresses only: one that is not verified
is skipped, not retried. Account e-mails (activation, reset) go to any address: their links
carry a token made now, so that a late delivery still gets its full lifetime.
"""

from __future__ import annotations

import logging

from attrs import frozen

from fundraising.application.ports.clock import Clock
from fundraising.application.ports.links import Links
from fundraising.application.ports.mail import Mailer, Notification
from fundraising.application.ports.security import AccountTokens
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.use_cases.accounts import TokenLifetimes, uid_of
from fundraising.domain.payment import donor_name
from fundraising.domain.user import AccountToken, User

log = logging.getLogger(__name__)
_PURPOSES = {
    EmailKind.ACCOUNT_ACTIVATION: AccountToken.ACTIVATION,
    EmailKind.PASSWORD_RESET: AccountToken.PASSWORD_RESET,
}


@frozen
class DeliverEmail:
    uow_factory: UnitOfWorkFactory
    mailer: Mailer
    links: Links
    account_tokens: AccountTokens
    lifetimes: TokenLifetimes
    clock: Clock

    def __call__(self, task: SendEmail) -> None:
        with self.uow_factory() as uow:
            notification = self._compose(uow, task)
        if notification is None:
            log.info("nothing to send for %s: its subject or recipient is gone or unverified", task)
            return
        self.mailer.send(notification)

    def _compose(self, uow: UnitOfWork, task: SendEmail) -> Notification | None:
        if task.kind.about_the_account:
            return self._account_email(uow, task)
        notification = self._notification(uow, task)
        if notification is None or not notification[1].email_verified:
            return None
        return notification[0]

    def _account_email(self, uow: UnitOfWork, task: SendEmail) -> Notification | None:
        user = uow.users.get(task.subject_id)
        purpose = _PURPOSES[task.kind]
        if user is None or user.id is None or user.deleted_at is not None or not user.is_active:
            return None
        if purpose is AccountToken.ACTIVATION and user.email_verified:
            return None  # verified meanwhile: the link could only fail
        token = self.account_tokens.make(user, purpose, now=self.clock.now())
        uid = uid_of(user.id)
        link = (
            self.links.activation(uid, token)
            if purpose is AccountToken.ACTIVATION
            else self.links.password_reset(uid, token)
        )
        hours = int(self.lifetimes.of(purpose).total_seconds() // 3600)
        return Notification(
            kind=task.kind,
            to=user.email,
            recipient_name=user.display_name,
            link=link,
            valid_hours=hours,
        )

    def _to_member(self, uow: UnitOfWork, task: SendEmail) -> tuple[Notification, User] | None:
        """News of a collect to one of its members (who must still be one), or to a payer of
        a cancelled collect."""
        collect = uow.collects.get(task.subject_id)
        recipient = None if task.recipient_id is None else uow.users.get(task.recipient_id)
        if collect is None or recipient is None or not recipient.is_active or recipient.deleted_at:
            return None
        member = uow.members.get(task.subject_id, task.recipient_id or 0)
        if member is None and task.kind is not EmailKind.COLLECT_CANCELLED:
            return None
        notification = Notification(
            kind=task.kind,
            to=recipient.email,
            recipient_name=recipient.display_name,
            link=self.links.share(task.subject_id, collect.share_key),
            collect_title=collect.title,
            goal=collect.goal,
            end_date=collect.end_date,
            suggested_amount=collect.suggested_amount,
            amount=collect.collected,
            donations_count=collect.donations_count,
            donors_count=collect.donors_count,
        )
        return notification, recipient

    def _update(self, uow: UnitOfWork, task: SendEmail) -> tuple[Notification, User] | None:
        """An update, to a member who paid (still a member, and it still exists)."""
        update = uow.updates.get(task.subject_id)
        recipient = None if task.recipient_id is None else uow.users.get(task.recipient_id)
        if update is None or recipient is None or not recipient.is_active or recipient.deleted_at:
            return None
        collect = uow.collects.get(update.collect_id)
        writer = uow.users.get(update.writer_id)
        if collect is None or writer is None:
            return None
        if uow.members.get(update.collect_id, task.recipient_id or 0) is None:
            return None
        notification = Notification(
            kind=task.kind,
            to=recipient.email,
            recipient_name=recipient.display_name,
            link=self.links.share(update.collect_id, collect.share_key),
            collect_title=collect.title,
            donor_name=writer.display_name,
            comment=update.text,
        )
        return notification, recipient

    def _notification(self, uow: UnitOfWork, task: SendEmail) -> tuple[Notification, User] | None:
        """The notification and its recipient (whose address must be verified)."""
        compose = {
            EmailKind.INVITATION: self._to_member,
            EmailKind.REMINDER: self._to_member,
            EmailKind.COLLECT_CANCELLED: self._to_member,
            EmailKind.GOAL_REACHED: self._to_member,
            EmailKind.ENDING_SOON: self._to_member,
            EmailKind.COLLECT_ENDED: self._to_member,
            EmailKind.UPDATE_POSTED: self._update,
            EmailKind.COLLECT_CREATED: self._created,
        }.get(task.kind, self._about_payment)
        return compose(uow, task)

    def _created(self, uow: UnitOfWork, task: SendEmail) -> tuple[Notification, User] | None:
        collect = uow.collects.get(task.subject_id)
        author = None if collect is None else uow.users.get(collect.author_id)
        if collect is None or author is None:
            return None
        created = Notification(
            kind=task.kind,
            to=author.email,
            recipient_name=author.display_name,
            link=self.links.collect(task.subject_id),
            collect_title=collect.title,
            goal=collect.goal,
        )
        return created, author

    def _about_payment(self, uow: UnitOfWork, task: SendEmail) -> tuple[Notification, User] | None:
        """Thanks to its payer, news of it to the author, or its refund to the payer."""
        payment = uow.payments.get(task.subject_id)
        collect = None if payment is None else uow.collects.get(payment.collect_id)
        if payment is None or collect is None:
            return None
        payer = uow.users.get(payment.payer_id) if payment.payer_id is not None else None
        to_payer = task.kind in (EmailKind.DONATION_THANKS, EmailKind.PAYMENT_REFUNDED)
        recipient = payer if to_payer else uow.users.get(collect.author_id)
        if recipient is None:
            return None
        donation = Notification(
            kind=task.kind,
            to=recipient.email,
            recipient_name=recipient.display_name,
            link=self.links.collect(payment.collect_id),
            collect_title=collect.title,
            amount=payment.amount,
            goal=collect.goal,
            donor_name=donor_name(
                is_anonymous=payment.is_anonymous,
                payer_name=payer.display_name if payer and payer.deleted_at is None else None,
            ),
            comment={
                EmailKind.DONATION_RECEIVED: payment.comment,
                EmailKind.PAYMENT_REFUNDED: payment.refund_reason,
            }.get(task.kind),
        )
        return donation, recipient
