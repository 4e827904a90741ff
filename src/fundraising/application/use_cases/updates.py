"""Updates: those who run a collect tell its participants what happened (what was bought,
when the gift is handed over), optionally by e-mail to everyone who paid."""

from __future__ import annotations

from attrs import field, frozen

from fundraising.application.errors import FieldError, NotFound
from fundraising.application.pagination import PageRequest, page_or_404
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.queries import CollectQueries
from fundraising.application.ports.tasks import AnnounceUpdate, EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.auth import active_user
from fundraising.application.use_cases.collects import run_by, visible_collect
from fundraising.application.views import Page, UpdateView
from fundraising.domain.errors import FieldErrors
from fundraising.domain.update import CollectUpdate, parse_update_text


@frozen
class NewUpdate:
    collect_id: int
    writer_id: int
    text: str | None
    notify: bool = True
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class PostUpdate:
    uow_factory: UnitOfWorkFactory
    clock: Clock

    def __call__(self, new: NewUpdate) -> UpdateView:
        def post(uow: UnitOfWork) -> UpdateView:
            run_by(uow, new.collect_id, new.writer_id)
            errors = FieldErrors(new.conversion_errors)
            errors.require("text", new.text)
            text = errors.check("text", lambda: parse_update_text(new.text or ""))
            errors.raise_if_any()
            assert text is not None
            now = self.clock.now()
            update = uow.updates.add(CollectUpdate(None, new.collect_id, new.writer_id, text, now))
            assert update.id is not None
            if new.notify:
                uow.enqueue(AnnounceUpdate(update.id), now=now)
            writer = uow.users.get(new.writer_id)
            assert writer is not None
            uow.commit()
            return UpdateView(update.id, text, writer.display_name, now)

        return retrying_transaction(self.uow_factory, post)


@frozen
class UpdateRequest:
    collect_id: int
    actor_id: int
    update_id: int


@frozen
class DeleteUpdate:
    """Its writer or the collect's author deletes an update (404 for who may not see it)."""

    uow_factory: UnitOfWorkFactory

    def __call__(self, request: UpdateRequest) -> None:
        def delete(uow: UnitOfWork) -> None:
            active_user(uow, request.actor_id)
            visible_collect(uow, request.collect_id, request.actor_id)
            update = uow.updates.get(request.update_id)
            if update is None or update.collect_id != request.collect_id:
                raise NotFound.of("update")
            member = uow.members.get(request.collect_id, request.actor_id)
            update.ensure_deletable_by(member, request.actor_id)
            uow.updates.delete(request.update_id)
            uow.commit()

        retrying_transaction(self.uow_factory, delete)


@frozen
class ListUpdates:
    """A collect's updates, newest first, for whoever sees it."""

    uow_factory: UnitOfWorkFactory
    queries: CollectQueries

    def __call__(self, collect_id: int, viewer_id: int, page: PageRequest) -> Page[UpdateView]:
        with self.uow_factory() as uow:
            visible_collect(uow, collect_id, viewer_id)
        return page_or_404(self.queries.updates(collect_id, page))


@frozen
class AnnounceUpdateTask:
    """E-mail an update to every member who paid, but its writer: one e-mail task each."""

    uow_factory: UnitOfWorkFactory
    clock: Clock

    def __call__(self, task: AnnounceUpdate) -> None:
        def announce(uow: UnitOfWork) -> None:
            update = uow.updates.get(task.update_id)
            if update is None:
                return  # deleted meanwhile: nobody hears of it
            now = self.clock.now()
            for user_id in uow.members.paying(update.collect_id):
                if user_id != update.writer_id:
                    uow.enqueue(
                        SendEmail(EmailKind.UPDATE_POSTED, task.update_id, user_id), now=now
                    )
            uow.commit()

        retrying_transaction(self.uow_factory, announce)
