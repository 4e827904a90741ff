"""E-mails: turn a `SendEmail` task into a notification for the right person."""

from __future__ import annotations

import logging

from attrs import frozen

from fundraising.application.ports.links import Links
from fundraising.application.ports.mail import Mailer, Notification
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.domain.payment import donor_name

log = logging.getLogger(__name__)


@frozen
class DeliverEmail:
    uow_factory: UnitOfWorkFactory
    mailer: Mailer
    links: Links

    def __call__(self, task: SendEmail) -> None:
        with self.uow_factory() as uow:
            notification = self._compose(uow, task)
        if notification is None:
            log.info("nothing to send for %s: its subject or recipient is gone", task)
            return
        self.mailer.send(notification)

    def _compose(self, uow: UnitOfWork, task: SendEmail) -> Notification | None:
        if task.kind is EmailKind.COLLECT_CREATED:
            collect = uow.collects.get(task.subject_id)
            author = None if collect is None else uow.users.get(collect.author_id)
            if collect is None or author is None:
                return None
            return Notification(
                kind=task.kind,
                to=author.email,
                recipient_name=author.display_name,
                collect_title=collect.title,
                collect_url=self.links.collect(task.subject_id),
                goal=collect.goal,
            )
        payment = uow.payments.get(task.subject_id)
        collect = None if payment is None else uow.collects.get(payment.collect_id)
        if payment is None or collect is None:
            return None
        payer = uow.users.get(payment.payer_id) if payment.payer_id is not None else None
        recipient = (
            payer if task.kind is EmailKind.DONATION_THANKS else uow.users.get(collect.author_id)
        )
        if recipient is None:
            return None
        return Notification(
            kind=task.kind,
            to=recipient.email,
            recipient_name=recipient.display_name,
            collect_title=collect.title,
            collect_url=self.links.collect(payment.collect_id),
            amount=payment.amount,
            goal=collect.goal,
            donor_name=donor_name(
                is_anonymous=payment.is_anonymous,
                payer_name=payer.display_name if payer else None,
            ),
        )
