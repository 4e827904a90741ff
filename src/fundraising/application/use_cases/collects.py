"""Collects: open, change, delete, read, list, and read a collect's feed."""

from __future__ import annotations

import secrets
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
from fundraising.application.views import CollectDetail, CollectView, FeedEntry, Page, Visible
from fundraising.domain.collect import UNCHANGED, Collect, Occasion, Unchanged
from fundraising.domain.errors import FieldErrors
from fundraising.domain.membership import Member, Role, Visibility, ensure_runs
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
    visibility: Visibility | Unchanged = UNCHANGED
    hidden_from: tuple[int, ...] | Unchanged = UNCHANGED
    suggested_amount: Money | Unchanged | None = UNCHANGED
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


SHARE_KEY_BYTES = 24  # 192 bits


def new_share_key() -> str:
    return secrets.token_urlsafe(SHARE_KEY_BYTES)


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


def visible_collect(
    uow: UnitOfWork, collect_id: int, viewer_id: int, *, for_update: bool = False
) -> Collect:
    """The collect, unless it does not exist or the viewer may not see it (404 both)."""
    collect = uow.collects.get(collect_id, for_update=for_update)
    if collect is None or not collect.access(uow.members.ids(collect_id)).admits(viewer_id):
        raise NotFound.of("collect")
    return collect


def run_by(
    uow: UnitOfWork, collect_id: int, actor_id: int, *, for_update: bool = False
) -> tuple[Collect, Member]:
    """The collect and the actor's place in it, for its author or an organiser: 401, then 404
    for who may not see it, then 403 for the other viewers."""
    active_user(uow, actor_id)
    collect = visible_collect(uow, collect_id, actor_id, for_update=for_update)
    return collect, ensure_runs(uow.members.get(collect_id, actor_id))


def _unknown_users(uow: UnitOfWork, ids: tuple[int, ...] | Unchanged, errors: FieldErrors) -> None:
    if isinstance(ids, Unchanged):
        return
    unknown = sorted(set(ids) - uow.users.existing(ids))
    if unknown:
        errors.add("hidden_from", f"No user with these ids: {unknown}.")


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
            added = uow.collects.add(self._validated(uow, new, staged, now))
            assert added.id is not None
            uow.members.add(Member(added.id, new.author_id, Role.AUTHOR, joined_at=now))
            _attach(uow, added, staged.source, now)
            uow.collects.save(added)
            uow.enqueue(SendEmail(EmailKind.COLLECT_CREATED, added.id), now=now)
            uow.commit()
            view = CollectView.of(added, author_name=author.display_name, participants_count=1)
            return CollectDetail(view, ())

        with self.covers.staging(new.fields.cover) as staged:
            return retrying_transaction(self.uow_factory, lambda uow: create(uow, staged))

    def _validated(
        self, uow: UnitOfWork, new: NewCollect, staged: StagedCover, now: datetime
    ) -> Collect:
        fields = new.fields
        errors = FieldErrors(fields.conversion_errors)
        staged.report(errors)
        _unknown_users(uow, fields.hidden_from, errors)
        return Collect.open(
            author_id=new.author_id,
            title=None if isinstance(fields.title, Unchanged) else fields.title,
            occasion=Occasion.OTHER if isinstance(fields.occasion, Unchanged) else fields.occasion,
            description="" if isinstance(fields.description, Unchanged) else fields.description,
            goal=None if isinstance(fields.goal_amount, Unchanged) else fields.goal_amount,
            end_date=None if isinstance(fields.end_date, Unchanged) else fields.end_date,
            now=now,
            share_key=new_share_key(),
            visibility=(
                Visibility.PUBLIC if isinstance(fields.visibility, Unchanged) else fields.visibility
            ),
            hidden_from=() if isinstance(fields.hidden_from, Unchanged) else fields.hidden_from,
            suggested_amount=(
                None if isinstance(fields.suggested_amount, Unchanged) else fields.suggested_amount
            ),
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
            collect, _ = run_by(uow, change.collect_id, change.actor_id, for_update=True)
            now = self.clock.now()
            errors = FieldErrors(fields.conversion_errors)
            staged.report(errors)
            _unknown_users(uow, fields.hidden_from, errors)
            changed = collect.change(
                now=now,
                title=fields.title,
                occasion=fields.occasion,
                description=fields.description,
                goal=fields.goal_amount,
                end_date=fields.end_date,
                is_active=fields.is_active,
                visibility=fields.visibility,
                hidden_from=fields.hidden_from,
                suggested_amount=fields.suggested_amount,
                members=uow.members.ids(change.collect_id),
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
            collect, actor = run_by(uow, deletion.collect_id, deletion.actor_id, for_update=True)
            actor.ensure_author()
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


def _audience(queries: CollectQueries, collect_id: int, viewer_id: int) -> frozenset[int] | None:
    """Who may see the collect (None: every user), once the viewer is found to be one of them
    (else 404: it does not exist for them)."""
    access = queries.access(collect_id)
    if access is None or not access.admits(viewer_id):
        raise NotFound.of("collect")
    return access.audience


@frozen
class GetCollect:
    queries: CollectQueries

    def __call__(self, collect_id: int, viewer_id: int) -> Visible[CollectDetail]:
        """The detail for a viewer among those who may see it (else 404), read in one go."""
        found = self.queries.access_and_detail(collect_id)
        if found is None or not found[0].admits(viewer_id):
            raise NotFound.of("collect")
        access, detail = found
        return Visible(detail, access.audience)


@frozen
class ListCollects:
    queries: CollectQueries

    def __call__(self, filters: CollectFilter, page: PageRequest) -> Visible[Page[CollectView]]:
        """Public collects are the same for everyone; a member's own list is theirs alone."""
        found = page_or_404(self.queries.list(filters, page))
        mine = None if filters.member_id is None else frozenset({filters.member_id})
        return Visible(found, mine)


@frozen
class ListFeed:
    queries: CollectQueries

    def __call__(
        self, collect_id: int, viewer_id: int, page: PageRequest
    ) -> Visible[Page[FeedEntry]]:
        audience = _audience(self.queries, collect_id, viewer_id)
        feed = self.queries.feed(collect_id, page)
        if feed is None:
            raise NotFound.of("collect")
        return Visible(page_or_404(feed), audience)
