"""Taking part in a collect: joining it, and its share key (read and rotated by those who run
it)."""

from __future__ import annotations

from attrs import field, frozen

from fundraising.application.errors import FieldError, NotFound
from fundraising.application.pagination import PageRequest, page_or_404
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.links import Links
from fundraising.application.ports.queries import CollectQueries
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.auth import active_user
from fundraising.application.use_cases.collects import new_share_key, visible_collect
from fundraising.application.views import Page, ParticipantView
from fundraising.domain.collect import Collect
from fundraising.domain.errors import FieldErrors
from fundraising.domain.membership import Member, Role, ensure_runs


@frozen
class Join:
    collect_id: int
    user_id: int
    key: str | None = None
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class JoinCollect:
    """A member stays one (200 on any collect); anyone else joins a collect that admits them
    and is open, else it does not exist for them (404) or takes nobody now (409)."""

    uow_factory: UnitOfWorkFactory
    queries: CollectQueries
    clock: Clock

    def __call__(self, join: Join) -> ParticipantView:
        def run(uow: UnitOfWork) -> None:
            active_user(uow, join.user_id)
            collect = uow.collects.get(join.collect_id)
            if collect is None:
                raise NotFound.of("collect")
            if uow.members.get(join.collect_id, join.user_id) is not None:
                return
            if not collect.admits_joining(join.user_id, join.key):
                raise NotFound.of("collect")
            FieldErrors(join.conversion_errors).raise_if_any()
            now = self.clock.now()
            collect.ensure_open_to_join(now)
            uow.members.add(Member(join.collect_id, join.user_id, Role.PARTICIPANT, now))
            uow.commit()

        retrying_transaction(self.uow_factory, run)
        entry = self.queries.participant(join.collect_id, join.user_id)
        if entry is None:  # removed meanwhile
            raise NotFound.of("collect")
        return entry


@frozen
class ShareKey:
    key: str
    url: str


@frozen
class ShareRequest:
    collect_id: int
    actor_id: int


def run_by(uow: UnitOfWork, collect_id: int, actor_id: int, *, for_update: bool = False) -> Collect:
    """The collect, for its author or an organiser: 401, then 404 for who may not see it, then
    403 for the other viewers."""
    active_user(uow, actor_id)
    collect = visible_collect(uow, collect_id, actor_id, for_update=for_update)
    ensure_runs(uow.members.get(collect_id, actor_id))
    return collect


@frozen
class ParticipantsRequest:
    collect_id: int
    actor_id: int
    paid: bool | None
    page: PageRequest


@frozen
class ListParticipants:
    """Who takes part and what each paid, for those who run the collect."""

    uow_factory: UnitOfWorkFactory
    queries: CollectQueries

    def __call__(self, request: ParticipantsRequest) -> Page[ParticipantView]:
        with self.uow_factory() as uow:
            run_by(uow, request.collect_id, request.actor_id)
        found = self.queries.participants(request.collect_id, request.paid, request.page)
        return page_or_404(found)


@frozen
class GetShareKey:
    uow_factory: UnitOfWorkFactory
    links: Links

    def __call__(self, request: ShareRequest) -> ShareKey:
        with self.uow_factory() as uow:
            collect = run_by(uow, request.collect_id, request.actor_id)
        return ShareKey(collect.share_key, self.links.share(request.collect_id, collect.share_key))


@frozen
class RotateShareKey:
    """A new key; the old one admits nobody from now on."""

    uow_factory: UnitOfWorkFactory
    links: Links
    clock: Clock

    def __call__(self, request: ShareRequest) -> ShareKey:
        def rotate(uow: UnitOfWork) -> str:
            collect = run_by(uow, request.collect_id, request.actor_id, for_update=True)
            collect.rotate_share_key(new_share_key(), self.clock.now())
            uow.collects.save(collect)
            uow.commit()
            return collect.share_key

        key = retrying_transaction(self.uow_factory, rotate)
        return ShareKey(key, self.links.share(request.collect_id, key))
