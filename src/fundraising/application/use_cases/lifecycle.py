"""The lifecycle e-mails, looked for by a periodic job of every worker: the goal reached (to
those who run the collect), the end within a day (to members who paid nothing), the end (a
summary to the author). Each is claimed in the database with its e-mails in one transaction,
so that none is sent twice, whatever the number of workers."""

from __future__ import annotations

from functools import partial

from attrs import frozen

from fundraising.application.ports.clock import Clock
from fundraising.application.ports.links import Links
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.webhooks import announce, collect_data
from fundraising.domain.collect import Milestone
from fundraising.domain.webhook import EventType

_EMAILS = {
    Milestone.GOAL_REACHED: EmailKind.GOAL_REACHED,
    Milestone.ENDING_SOON: EmailKind.ENDING_SOON,
    Milestone.ENDED: EmailKind.COLLECT_ENDED,
}
_EVENTS = {
    Milestone.GOAL_REACHED: EventType.COLLECT_GOAL_REACHED,
    Milestone.ENDED: EventType.COLLECT_CLOSED,  # closed, or ended with the clock
}
BATCH = 200  # collects per milestone and sweep; the next sweep takes the rest


@frozen
class LifecycleSweep:
    uow_factory: UnitOfWorkFactory
    links: Links
    clock: Clock
    batch: int = BATCH

    def __call__(self) -> int:
        """Announce what is due; how many milestones were announced."""
        with self.uow_factory() as uow:
            due = uow.collects.milestones_due(self.clock.now(), limit=self.batch)
        announced = 0
        for collect_id, milestone in due:

            def announce(uow: UnitOfWork, c: int = collect_id, m: Milestone = milestone) -> bool:
                return self._announce(uow, c, m)

            announced += retrying_transaction(self.uow_factory, announce)
        return announced

    def _announce(self, uow: UnitOfWork, collect_id: int, milestone: Milestone) -> bool:
        now = self.clock.now()
        if not uow.collects.claim_milestone(collect_id, milestone, now=now):
            return False  # another worker did
        kind = _EMAILS[milestone]
        for user_id in self._recipients(uow, collect_id, milestone):
            uow.enqueue(SendEmail(kind, collect_id, user_id), now=now)
        if (event := _EVENTS.get(milestone)) is not None:
            data = partial(collect_data, uow, collect_id, self.links, now)
            announce(uow, event, collect_id, data, now=now)
        uow.commit()
        return True

    @staticmethod
    def _recipients(uow: UnitOfWork, collect_id: int, milestone: Milestone) -> list[int]:
        match milestone:
            case Milestone.GOAL_REACHED:
                return list(uow.members.running(collect_id))
            case Milestone.ENDING_SOON:
                return [member.user_id for member in uow.members.unpaid(collect_id)]
            case Milestone.ENDED:
                collect = uow.collects.get(collect_id)
                return [] if collect is None else [collect.author_id]
