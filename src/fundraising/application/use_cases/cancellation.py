"""Cancelling a collect: it takes no donation from the 202 on, and a background task refunds
its completed payments in batches, each payer e-mailed once, until its counters are 0."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from attrs import field, frozen

from fundraising.application.errors import NotFound
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.links import Links
from fundraising.application.ports.metrics import UNMETERED, Meter
from fundraising.application.ports.queries import CollectQueries
from fundraising.application.ports.tasks import EmailKind, RefundCollect, SendEmail
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.collects import CollectDeletion, run_by
from fundraising.application.use_cases.webhooks import (
    announce,
    collect_data,
    payment_data,
    record,
)
from fundraising.application.views import CollectDetail
from fundraising.domain.collect import Milestone
from fundraising.domain.webhook import Event, EventType, new_event_id

REASON = "Сбор отменён"
PAYMENTS_PER_BATCH = 1_000
TASK_BUDGET = timedelta(seconds=30)  # then the rest goes on in a new task


@frozen
class CancelCollect:
    """The author's final word: no donation from now on, and every payment goes back."""

    uow_factory: UnitOfWorkFactory
    queries: CollectQueries
    links: Links
    clock: Clock

    def __call__(self, request: CollectDeletion) -> CollectDetail:
        def cancel(uow: UnitOfWork) -> None:
            collect, actor = run_by(uow, request.collect_id, request.actor_id, for_update=True)
            actor.ensure_author()
            now = self.clock.now()
            collect.cancel(now)
            uow.collects.save(collect)
            uow.enqueue(RefundCollect(request.collect_id), now=now)
            # `collect.closed` once per collect: not again if it ended and was announced
            if uow.collects.claim_milestone(request.collect_id, Milestone.ENDED, now=now):
                data = partial(collect_data, uow, request.collect_id, self.links, now)
                announce(uow, EventType.COLLECT_CLOSED, request.collect_id, data, now=now)
            uow.commit()

        retrying_transaction(self.uow_factory, cancel)
        detail = self.queries.detail(request.collect_id)
        if detail is None:
            raise NotFound.of("collect")
        return detail


@frozen
class RefundCancelledCollect:
    """Refund a cancelled collect's payments in batches, oldest first, each batch one
    transaction with the e-mails of the payers it leaves with nothing paid (so each payer
    hears once): a task stopped half-way (a crash, a time limit) loses nothing, and the next
    run goes on with the payments left."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    payments_per_batch: int = PAYMENTS_PER_BATCH
    budget: timedelta = TASK_BUDGET
    meter: Meter = field(default=UNMETERED, kw_only=True)

    def __call__(self, task: RefundCollect) -> None:
        started = self.clock.now()

        def batch(uow: UnitOfWork) -> bool:
            """Refund the next payments; whether more are left for this task."""
            collect = uow.collects.get(task.collect_id, for_update=True)
            if collect is None or collect.cancelled_at is None:
                return False
            now = self.clock.now()
            batch = uow.payments.refund_oldest(
                task.collect_id, limit=self.payments_per_batch, now=now, reason=REASON
            )
            for payer in batch.payers_done:
                uow.enqueue(SendEmail(EmailKind.COLLECT_CANCELLED, task.collect_id, payer), now=now)
            self._announce_refunds(uow, task.collect_id, batch.payment_ids, now)
            if batch.count:
                uow.after_commit(lambda: self.meter.refunded(batch.count, batch.amount))
            more = batch.count == self.payments_per_batch
            if more and now - started >= self.budget:
                uow.enqueue(RefundCollect(task.collect_id), now=now)
                more = False
            uow.commit()
            return more

        while retrying_transaction(self.uow_factory, batch):
            pass

    @staticmethod
    def _announce_refunds(
        uow: UnitOfWork, collect_id: int, refunded: tuple[int, ...], now: datetime
    ) -> None:
        """Each refund is a `payment.refunded` event (nothing is read without a webhook)."""
        webhook_ids = uow.webhooks.subscribers(collect_id, EventType.PAYMENT_REFUNDED)
        if webhook_ids and refunded:
            for payment in uow.payments.many(refunded):
                data = payment_data(payment)
                record(
                    uow, Event(new_event_id(), EventType.PAYMENT_REFUNDED, now, data), webhook_ids
                )
