"""Taking part in a collect: joining it; and for those who run it, its share key, its
participants (invited, listed, removed), its organisers and reminders to those who have not paid."""

from __future__ import annotations

from datetime import timedelta

from attrs import field, frozen

from fundraising.application.errors import Conflict, FieldError, NotFound
from fundraising.application.pagination import PageRequest, page_or_404
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.identity import IdentityRules
from fundraising.application.ports.links import Links
from fundraising.application.ports.queries import CollectQueries
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.auth import active_user
from fundraising.application.use_cases.collects import new_share_key, run_by
from fundraising.application.views import Page, ParticipantView
from fundraising.domain.errors import FieldErrors
from fundraising.domain.ids import parse_id
from fundraising.domain.membership import Member, Role, check_share_key


@frozen
class Join:
    collect_id: int
    user_id: int
    key: str | None = None
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class JoinCollect:
    """A member stays one (200 on any collect); anyone else joins a collect that admits them
    and is open, else it does not exist for them (404) or takes nobody now (409). A body that
    could not be read is a 400 wherever the collect is visible, a member's too."""

    uow_factory: UnitOfWorkFactory
    queries: CollectQueries
    clock: Clock

    def __call__(self, join: Join) -> ParticipantView:
        def run(uow: UnitOfWork) -> None:
            active_user(uow, join.user_id)
            collect = uow.collects.get(join.collect_id, for_update=True)  # before `hidden_from`
            if collect is None:
                raise NotFound.of("collect")
            member = uow.members.get(join.collect_id, join.user_id)
            if member is None and not collect.admits_joining(join.user_id, join.key):
                raise NotFound.of("collect")
            errors = FieldErrors(join.conversion_errors)  # a member's bad body too
            errors.check("key", lambda: check_share_key(join.key))
            errors.raise_if_any()
            if member is not None:
                return
            now = self.clock.now()
            collect.ensure_open(now)
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
            collect, _ = run_by(uow, request.collect_id, request.actor_id)
        return ShareKey(collect.share_key, self.links.share(request.collect_id, collect.share_key))


@frozen
class RotateShareKey:
    """A new key; the old one admits nobody from now on."""

    uow_factory: UnitOfWorkFactory
    links: Links
    clock: Clock

    def __call__(self, request: ShareRequest) -> ShareKey:
        def rotate(uow: UnitOfWork) -> str:
            collect, _ = run_by(uow, request.collect_id, request.actor_id, for_update=True)
            collect.rotate_share_key(new_share_key(), self.clock.now())
            uow.collects.save(collect)
            uow.commit()
            return collect.share_key

        key = retrying_transaction(self.uow_factory, rotate)
        return ShareKey(key, self.links.share(request.collect_id, key))


def _entry(queries: CollectQueries, collect_id: int, user_id: int) -> ParticipantView:
    entry = queries.participant(collect_id, user_id)
    if entry is None:  # removed meanwhile
        raise NotFound.of("participant")
    return entry


@frozen
class Invitation:
    """Whom to invite: a user id or the e-mail of a registered user."""

    collect_id: int
    actor_id: int
    user: int | None = None
    email: str | None = None
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class InviteParticipant:
    """Make a registered user a participant and e-mail them the invitation."""

    uow_factory: UnitOfWorkFactory
    queries: CollectQueries
    identity: IdentityRules
    clock: Clock

    def __call__(self, invitation: Invitation) -> ParticipantView:
        def invite(uow: UnitOfWork) -> int:
            collect, _ = run_by(uow, invitation.collect_id, invitation.actor_id, for_update=True)
            errors = FieldErrors(invitation.conversion_errors)
            field_name, invitee = self._invitee(uow, invitation, errors)
            if invitee is not None and invitee in collect.hidden_from:
                errors.add(field_name, "This collect is kept secret from this user.")
            errors.raise_if_any()
            assert invitee is not None
            now = self.clock.now()
            member = Member(invitation.collect_id, invitee, Role.PARTICIPANT, now)
            if not uow.members.add(member):
                raise Conflict("This user is a member of the collect already.")
            uow.enqueue(SendEmail(EmailKind.INVITATION, invitation.collect_id, invitee), now=now)
            uow.commit()
            return invitee

        invitee = retrying_transaction(self.uow_factory, invite)
        return _entry(self.queries, invitation.collect_id, invitee)

    def _invitee(
        self, uow: UnitOfWork, invitation: Invitation, errors: FieldErrors
    ) -> tuple[str, int | None]:
        """The field that names the invitee, and their id unless it names no active user."""
        if invitation.user is not None and invitation.email is not None:
            errors.add("email", "Give a user id or an e-mail, not both.")
            return "email", None
        if invitation.email is not None:
            email = errors.check("email", lambda: self.identity.email(invitation.email or ""))
            user = None if email is None else uow.users.by_email(email)
            field_name, missing = "email", "No user with this e-mail."
        else:
            wanted = invitation.user
            user_id = None if wanted is None else errors.check("user", lambda: parse_id(wanted))
            errors.require("user", user_id)
            if user_id is None:
                return "user", None
            user = uow.users.get(user_id)
            field_name, missing = "user", "No user with this id."
        if user is None or user.id is None or not user.is_active or user.deleted_at is not None:
            if field_name not in errors:
                errors.add(field_name, missing)
            return field_name, None
        return field_name, user.id


@frozen
class MemberRequest:
    """What the author or an organiser does to a member: `user_id` is None when the body did not
    name a valid one (its error is in `conversion_errors`)."""

    collect_id: int
    actor_id: int
    user_id: int | None
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


def _member(uow: UnitOfWork, request: MemberRequest, what: str) -> Member:
    member = (
        None if request.user_id is None else uow.members.get(request.collect_id, request.user_id)
    )
    if member is None:
        raise NotFound.of(what)
    return member


@frozen
class RemoveParticipant:
    """A member leaves the collect (their payments stay); an organiser only by the author, the
    author never."""

    uow_factory: UnitOfWorkFactory

    def __call__(self, request: MemberRequest) -> None:
        def remove(uow: UnitOfWork) -> None:
            _, actor = run_by(uow, request.collect_id, request.actor_id, for_update=True)
            member = _member(uow, request, "participant")
            actor.ensure_may_remove(member)
            uow.members.remove(member.collect_id, member.user_id)
            uow.commit()

        retrying_transaction(self.uow_factory, remove)


@frozen
class AddOrganiser:
    """The author makes a member an organiser."""

    uow_factory: UnitOfWorkFactory
    queries: CollectQueries

    def __call__(self, request: MemberRequest) -> ParticipantView:
        def promote(uow: UnitOfWork) -> int:
            _, actor = run_by(uow, request.collect_id, request.actor_id, for_update=True)
            actor.ensure_author()
            errors = FieldErrors(request.conversion_errors)
            wanted = request.user_id
            user_id = None if wanted is None else errors.check("user", lambda: parse_id(wanted))
            errors.require("user", user_id)
            member = None
            if user_id is not None:
                member = uow.members.get(request.collect_id, user_id)
                if member is None:
                    errors.add("user", "This user is not a member of the collect.")
                else:
                    errors.check("user", member.promote)
            errors.raise_if_any()
            assert member is not None
            uow.members.save(member)
            uow.commit()
            return member.user_id

        user_id = retrying_transaction(self.uow_factory, promote)
        return _entry(self.queries, request.collect_id, user_id)


@frozen
class RemoveOrganiser:
    """The author makes an organiser a participant again."""

    uow_factory: UnitOfWorkFactory

    def __call__(self, request: MemberRequest) -> None:
        def demote(uow: UnitOfWork) -> None:
            _, actor = run_by(uow, request.collect_id, request.actor_id, for_update=True)
            actor.ensure_author()
            member = _member(uow, request, "organiser")
            if member.role is not Role.ORGANISER:
                raise NotFound.of("organiser")
            member.demote()
            uow.members.save(member)
            uow.commit()

        retrying_transaction(self.uow_factory, demote)


@frozen
class Reminders:
    reminded: int
    skipped: int


@frozen
class SendReminders:
    """E-mail every member who has paid nothing (but the caller), at most once per `interval`."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    interval: timedelta

    def __call__(self, request: ShareRequest) -> Reminders:
        def remind(uow: UnitOfWork) -> Reminders:
            collect, _ = run_by(uow, request.collect_id, request.actor_id, for_update=True)
            now = self.clock.now()
            collect.ensure_open(now)
            unpaid = [
                m for m in uow.members.unpaid(request.collect_id) if m.user_id != request.actor_id
            ]
            due = [m for m in unpaid if m.reminder_due(now, self.interval)]
            for member in due:
                member.remind(now)
                uow.members.save(member)
                uow.enqueue(
                    SendEmail(EmailKind.REMINDER, member.collect_id, member.user_id), now=now
                )
            uow.commit()
            return Reminders(reminded=len(due), skipped=len(unpaid) - len(due))

        return retrying_transaction(self.uow_factory, remind)
