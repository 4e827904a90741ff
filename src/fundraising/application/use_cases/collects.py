"""Collects: open, change, delete, read, list, and read a collect's feed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from attrs import field, frozen

from fundraising.application.errors import FieldError, NotFound
from fundraising.application.pagination import PageRequest, page_or_404
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.queries import CollectFilter, CollectQueries
from fundraising.application.ports.tasks import EmailKind, ProcessCover, SendEmail
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.auth import active_user
from fundraising.application.use_cases.covers import Covers, StagedCover, Upload
from fundraising.application.views import CollectDetail, CollectView, FeedEntry, Page
from fundraising.domain.collect import UNCHANGED, Collect, Occasion, Unchanged
from fundraising.domain.errors import FieldErrors
from fundraising.domain.money import Money


@frozen
class CollectFields:
    """The writable fields of a collect: UNCHANGED leaves a field alone; `cover=None` removes it.

    `conversion_errors` carries the fields the edge could not even convert, so that one answer names
    every invalid field, and only after the existence and permission checks.
    """

    title: str | Unchanged = UNCHANGED
    occasion: Occasion | Unchanged = UNCHANGED
    description: str | Unchanged = UNCHANGED
    goal_amount: Money | Unchanged | None = UNCHANGED
    end_date: datetime | Unchanged | None = UNCHANGED
    is_active: bool | Unchanged = UNCHANGED
    cover: Upload | Unchanged | None = UNCHANGED
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class NewCollect:
    author_id: int
    fields: CollectFields


@frozen
class CollectChange:
    collect_id: int
    actor_id: int
    fields: CollectFields


@frozen
class CollectDeletion:
    collect_id: int
    actor_id: int


def _own_collect(uow: UnitOfWork, collect_id: int, actor_id: int) -> Collect:
    """The collect, after checking the actor (401), its existence (404) and authorship (403)."""
    active_user(uow, actor_id)
    collect = uow.collects.get(collect_id, for_update=True)
    if collect is None:
        raise NotFound.of("collect")
    collect.ensure_changeable_by(actor_id)
    return collect


def _attach(
    uow: UnitOfWork, collect: Collect, source: str | Unchanged | None, now: datetime
) -> tuple[str, ...]:
    """Record a staged cover change on a saved collect; returns the files it makes obsolete."""
    if isinstance(source, Unchanged):
        return ()
    if source is None:
        return collect.remove_cover(now)
    assert collect.id is not None
    obsolete = collect.attach_cover(source, now)
    uow.enqueue(ProcessCover(collect.id, source), now=now)
    return obsolete


@frozen
class CreateCollect:
    uow_factory: UnitOfWorkFactory
    covers: Covers
    clock: Clock

    def __call__(self, new: NewCollect) -> CollectDetail:
        def create(uow: UnitOfWork, staged: StagedCover) -> CollectDetail:
            author = active_user(uow, new.author_id)
            now = self.clock.now()
            added = uow.collects.add(self._validated(new, staged, now))
            assert added.id is not None
            _attach(uow, added, staged.source, now)
            uow.collects.save(added)
            uow.enqueue(SendEmail(EmailKind.COLLECT_CREATED, added.id), now=now)
            uow.commit()
            return CollectDetail(CollectView.of(added, author_name=author.display_name), ())

        with self.covers.staging(new.fields.cover) as staged:
            return retrying_transaction(self.uow_factory, lambda uow: create(uow, staged))

    def _validated(self, new: NewCollect, staged: StagedCover, now: datetime) -> Collect:
        fields = new.fields
        errors = FieldErrors(fields.conversion_errors)
        staged.report(errors)
        return Collect.open(
            author_id=new.author_id,
            title=None if isinstance(fields.title, Unchanged) else fields.title,
            occasion=Occasion.OTHER if isinstance(fields.occasion, Unchanged) else fields.occasion,
            description="" if isinstance(fields.description, Unchanged) else fields.description,
            goal=None if isinstance(fields.goal_amount, Unchanged) else fields.goal_amount,
            end_date=None if isinstance(fields.end_date, Unchanged) else fields.end_date,
            now=now,
            errors=errors,
        )


@frozen
class UpdateCollect:
    uow_factory: UnitOfWorkFactory
    queries: CollectQueries
    covers: Covers
    clock: Clock

    def __call__(self, change: CollectChange) -> CollectDetail:
        fields = change.fields

        def update(uow: UnitOfWork, staged: StagedCover) -> None:
            collect = _own_collect(uow, change.collect_id, change.actor_id)
            now = self.clock.now()
            errors = FieldErrors(fields.conversion_errors)
            staged.report(errors)
            changed = collect.change(
                now=now,
                title=fields.title,
                occasion=fields.occasion,
                description=fields.description,
                goal=fields.goal_amount,
                end_date=fields.end_date,
                is_active=fields.is_active,
                errors=errors,
            )
            if not changed and isinstance(fields.cover, Unchanged):
                return  # an empty change: nothing to write
            obsolete = _attach(uow, collect, staged.source, now)
            uow.collects.save(collect)
            self.covers.delete_after_commit(uow, obsolete)
            uow.commit()

        with self.covers.staging(fields.cover) as staged:
            retrying_transaction(self.uow_factory, lambda uow: update(uow, staged))
        detail = self.queries.detail(change.collect_id)
        if detail is None:
            raise NotFound.of("collect")
        return detail


@frozen
class DeleteCollect:
    uow_factory: UnitOfWorkFactory
    covers: Covers

    def __call__(self, deletion: CollectDeletion) -> None:
        def delete(uow: UnitOfWork) -> None:
            collect = _own_collect(uow, deletion.collect_id, deletion.actor_id)
            collect.ensure_deletable(has_payments=uow.collects.has_payments(deletion.collect_id))
            uow.collects.delete(deletion.collect_id)
            self.covers.delete_after_commit(uow, collect.cover.files)
            uow.commit()

        retrying_transaction(self.uow_factory, delete)


@frozen
class Moderation:
    """An administrator's decision on a collect: deactivate, block (with a reason) or unblock."""

    collect_id: int
    action: Literal["deactivate", "block", "unblock"]
    reason: str | None = None


@frozen
class ModerateCollect:
    """Administrators close or block a collect, whoever its author is; a blocked collect takes
    no donation and no change by its author until it is unblocked."""

    uow_factory: UnitOfWorkFactory
    clock: Clock

    def __call__(self, moderation: Moderation) -> None:
        def moderate(uow: UnitOfWork) -> None:
            collect = uow.collects.get(moderation.collect_id, for_update=True)
            if collect is None:
                raise NotFound.of("collect")
            now = self.clock.now()
            match moderation.action:
                case "deactivate":
                    collect.deactivate(now)
                case "block":
                    collect.block(moderation.reason, now)
                case "unblock":
                    collect.unblock(now)
            uow.collects.save(collect)
            uow.commit()

        retrying_transaction(self.uow_factory, moderate)


@frozen
class GetCollect:
    queries: CollectQueries

    def __call__(self, collect_id: int) -> CollectDetail:
        detail = self.queries.detail(collect_id)
        if detail is None:
            raise NotFound.of("collect")
        return detail


@frozen
class ListCollects:
    queries: CollectQueries

    def __call__(self, filters: CollectFilter, page: PageRequest) -> Page[CollectView]:
        return page_or_404(self.queries.list(filters, page))


@frozen
class ListFeed:
    queries: CollectQueries

    def __call__(self, collect_id: int, page: PageRequest) -> Page[FeedEntry]:
        feed = self.queries.feed(collect_id, page)
        if feed is None:
            raise NotFound.of("collect")
        return page_or_404(feed)
