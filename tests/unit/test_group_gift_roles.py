"""Group gifts, what each member may do: invitations (by id and by e-mail), removing members,
organisers, reminders through the outbox and the e-mails they become, and who sees a payment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from attrs import frozen

from fundraising.application.errors import (
    AuthenticationFailed,
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.mail import Notification
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.use_cases.membership import (
    Invitation,
    MemberRequest,
    ParticipantsRequest,
    Reminders,
    ShareRequest,
)
from fundraising.application.use_cases.payments import PaymentLookup
from fundraising.application.views import ParticipantView, PaymentView
from fundraising.domain.membership import Role, Visibility
from fundraising.domain.money import Money
from tests.unit.collect_use_case_helpers import change

NOBODY = 999_999  # neither a user nor a collect

# the use cases, as the container builds them


def invite(
    core,
    collect_id: int,
    actor: int,
    *,
    user: int | None = None,
    email: str | None = None,
    errors: tuple[FieldError, ...] = (),
) -> ParticipantView:
    invitation = Invitation(collect_id, actor, user, email, conversion_errors=errors)
    return core.container.invite_participant()(invitation)  # type: ignore[no-any-return]


def remove(core, collect_id: int, actor: int, user: int | None) -> None:
    core.container.remove_participant()(MemberRequest(collect_id, actor, user))


def promote(
    core, collect_id: int, actor: int, user: int | None, errors: tuple[FieldError, ...] = ()
) -> ParticipantView:
    request = MemberRequest(collect_id, actor, user, conversion_errors=errors)
    return core.container.add_organiser()(request)  # type: ignore[no-any-return]


def demote(core, collect_id: int, actor: int, user: int | None) -> None:
    core.container.remove_organiser()(MemberRequest(collect_id, actor, user))


def remind(core, collect_id: int, actor: int) -> Reminders:
    return core.container.send_reminders()(ShareRequest(collect_id, actor))  # type: ignore[no-any-return]


def payment(core, payment_id: int, viewer: int) -> PaymentView:
    return core.get_payment(PaymentLookup(payment_id, viewer))  # type: ignore[no-any-return]


def interval(core) -> timedelta:
    """How long a reminded member is left alone, as the container configures it."""
    return core.container.send_reminders().interval  # type: ignore[no-any-return]


# reading what happened


def entries(core, collect_id: int) -> dict[int, ParticipantView]:
    """The participants list, as its author sees it."""
    author = core.db.collects[collect_id].author_id
    page = core.list_participants(
        ParticipantsRequest(collect_id, author, None, PageRequest.of(1, 100))
    )
    return {entry.user: entry for entry in page.items}


def roles(core, collect_id: int) -> dict[int, Role]:
    return {user: entry.role for user, entry in entries(core, collect_id).items()}


def queued(core, kind: EmailKind) -> list[SendEmail]:
    """The e-mails of `kind` in the outbox, oldest first."""
    return [
        row.message.task
        for row in core.db.outbox.values()
        if isinstance(row.message.task, SendEmail) and row.message.task.kind is kind
    ]


def deliver(core, kind: EmailKind) -> list[Notification]:
    """Run every outbox e-mail of `kind` not run yet, as a worker would; what the mailer got."""
    core.mailer.sent.clear()
    for row in list(core.db.outbox.values()):
        task = row.message.task
        if isinstance(task, SendEmail) and task.kind is kind and row.finished_at is None:
            core.run_task(row.message)
    return list(core.mailer.sent)


def state(core) -> tuple[object, ...]:
    """Everything an action may change: the members with their roles and reminders, the outbox."""
    members = {key: (m.role, m.last_reminded_at) for key, m in core.db.members.items()}
    return members, len(core.db.outbox)


def errors_of(raised: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(error.field, error.message) for error in raised.value.errors]


def named(group: Group, name: str) -> int | None:
    """A user by their part in the group; "nobody" is no user, "none" names none at all."""
    return {"nobody": NOBODY, "none": None}.get(name, getattr(group, name, None))


def deactivate(core, user_id: int) -> None:
    core.db.users[user_id].is_active = False


# the group


@frozen
class Group:
    """A private collect for Anna (hidden from her): its author, an organiser, a participant who
    has not paid, a payer who has, and two users who take no part (an outsider, an invitee)."""

    id: int
    author: int
    organiser: int
    participant: int
    payer: int
    outsider: int
    anna: int
    invitee: int
    payment: int


def make_group(core, visibility: Visibility = Visibility.PRIVATE) -> Group:
    names = ("author", "organiser", "participant", "payer", "outsider", "anna", "invitee")
    ids = {name: core.user(name).id for name in names}
    detail = core.collect(
        core.db.users[ids["author"]],
        title="Подарок Анне",
        visibility=visibility,
        hidden_from=(ids["anna"],) if visibility is not Visibility.PUBLIC else (),
        goal_amount=Money.of("5000.00"),
        suggested_amount=Money.of("500.00"),
        end_date=core.clock.now() + timedelta(days=14),
    )
    collect_id = detail.collect.id
    for name in ("organiser", "participant", "payer"):
        core.clock.advance(minutes=1)
        invite(core, collect_id, ids["author"], user=ids[name])
    promote(core, collect_id, ids["author"], ids["organiser"])
    paid = core.give(core.db.users[ids["payer"]], collect_id, "500.00")
    return Group(id=collect_id, payment=paid.payment.id, **ids)


@pytest.fixture
def group(core) -> Group:
    return make_group(core)


# who may do what

Action = Callable[[Any, int, int, Group], object]

ACTIONS: dict[str, Action] = {
    "invite": lambda core, cid, actor, g: invite(core, cid, actor, user=g.invitee),
    "remove a participant": lambda core, cid, actor, g: remove(core, cid, actor, g.participant),
    "remove an organiser": lambda core, cid, actor, g: remove(core, cid, actor, g.organiser),
    "promote": lambda core, cid, actor, g: promote(core, cid, actor, g.participant),
    "demote": lambda core, cid, actor, g: demote(core, cid, actor, g.organiser),
    "remind": lambda core, cid, actor, g: remind(core, cid, actor),
}
OK = None
# who may do each action: the author, an organiser, a participant, an outsider, the hidden user
ALLOWED: dict[str, tuple[type[Exception] | None, ...]] = {
    "invite": (OK, OK, PermissionDenied, NotFound, NotFound),
    "remove a participant": (OK, OK, PermissionDenied, NotFound, NotFound),
    "remove an organiser": (OK, PermissionDenied, PermissionDenied, NotFound, NotFound),
    "promote": (OK, PermissionDenied, PermissionDenied, NotFound, NotFound),
    "demote": (OK, PermissionDenied, PermissionDenied, NotFound, NotFound),
    "remind": (OK, OK, PermissionDenied, NotFound, NotFound),
}
ACTORS = ("author", "organiser", "participant", "outsider", "anna")


@pytest.mark.parametrize(
    ("action", "actor", "expected"),
    [
        (action, actor, expected)
        for action, outcomes in ALLOWED.items()
        for actor, expected in zip(ACTORS, outcomes, strict=True)
    ],
)
def test_who_may_do_what_in_a_private_collect(core, group, action, actor, expected):
    before = state(core)

    if expected is None:
        ACTIONS[action](core, group.id, getattr(group, actor), group)
        assert state(core) != before
    else:
        with pytest.raises(expected):
            ACTIONS[action](core, group.id, getattr(group, actor), group)
        assert state(core) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_an_outsider_of_a_public_collect_sees_it_but_may_not_run_it(core, action):
    group = make_group(core, Visibility.PUBLIC)
    before = state(core)

    with pytest.raises(PermissionDenied):
        ACTIONS[action](core, group.id, group.outsider, group)
    assert state(core) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_an_inactive_actor_is_not_authenticated_before_anything_else(core, group, action):
    deactivate(core, group.author)
    deactivate(core, group.anna)

    before = state(core)

    for collect_id, actor in (
        (group.id, group.author),
        (group.id, group.anna),
        (NOBODY, group.author),
    ):
        with pytest.raises(AuthenticationFailed):
            ACTIONS[action](core, collect_id, actor, group)
    assert state(core) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_an_unknown_collect_is_not_found_even_for_an_author(core, group, action):
    with pytest.raises(NotFound):
        ACTIONS[action](core, NOBODY, group.author, group)


# invitations


def test_the_author_invites_a_user_by_id_who_then_sees_the_private_collect(core, group):
    with pytest.raises(NotFound):
        core.get_collect(group.id, group.invitee)
    core.clock.advance(minutes=5)

    entry = invite(core, group.id, group.author, user=group.invitee)

    assert (entry.user, entry.role, entry.paid_amount) == (
        group.invitee,
        Role.PARTICIPANT,
        Money.zero(),
    )
    assert entry.joined_at == core.clock.now()
    assert entry.last_reminded_at is None
    assert core.get_collect(group.id, group.invitee).collect.participants_count == 5
    assert queued(core, EmailKind.INVITATION)[-1] == SendEmail(
        EmailKind.INVITATION, group.id, group.invitee
    )


def test_an_organiser_invites_by_e_mail_as_the_identity_rules_normalise_it(core, group):
    entry = invite(core, group.id, group.organiser, email="  InVitee@Example.COM ")

    assert (entry.user, entry.role) == (group.invitee, Role.PARTICIPANT)
    assert roles(core, group.id)[group.invitee] is Role.PARTICIPANT
    assert queued(core, EmailKind.INVITATION)[-1].recipient_id == group.invitee


def test_the_invitation_e_mail_carries_the_title_end_date_suggested_amount_and_share_link(
    core, group
):
    deliver(core, EmailKind.INVITATION)  # those of the group
    invite(core, group.id, group.author, user=group.invitee)
    key = core.get_share_key(ShareRequest(group.id, group.author)).key

    (sent,) = deliver(core, EmailKind.INVITATION)

    collect = core.db.collects[group.id]
    assert sent == Notification(
        kind=EmailKind.INVITATION,
        to="invitee@example.com",
        recipient_name="invitee",
        link=f"http://front/collects/{group.id}?key={key}",
        collect_title="Подарок Анне",
        goal=Money.of("5000.00"),
        end_date=collect.end_date,
        suggested_amount=Money.of("500.00"),
        amount=collect.collected,
        donations_count=collect.donations_count,
        donors_count=collect.donors_count,
    )
    assert collect.end_date is not None


@pytest.mark.parametrize(
    ("who", "field", "message"),
    [
        ({}, "user", "This field is required."),
        ({"user": NOBODY}, "user", "No user with this id."),
        ({"email": "nobody@example.com"}, "email", "No user with this e-mail."),
        ({"email": "a,b@x.y"}, "email", "Enter a valid e-mail address."),
        ({"user": "invitee", "email": "invitee@example.com"}, "email", "not both"),
        ({"user": "anna"}, "user", "This collect is kept secret from this user."),
        ({"email": " ANNA@example.com"}, "email", "This collect is kept secret from this user."),
        ({"user": "inactive"}, "user", "No user with this id."),
        ({"email": "inactive@example.com"}, "email", "No user with this e-mail."),
    ],
)
def test_an_invitation_naming_no_invitable_user_is_refused_on_its_field(
    core, group, who, field, message
):
    core.user("inactive")
    inactive = max(core.db.users)
    deactivate(core, inactive)
    named = {"anna": group.anna, "invitee": group.invitee, "inactive": inactive}
    who = {key: named.get(value, value) for key, value in who.items()}
    before = state(core)

    with pytest.raises(ValidationFailed) as raised:
        invite(core, group.id, group.organiser, **who)

    ((got_field, got_message),) = errors_of(raised)
    assert got_field == field
    assert message in got_message
    assert state(core) == before


def test_a_user_id_the_edge_could_not_convert_is_reported_once(core, group):
    not_a_number = FieldError("user", "A valid integer is required.")

    with pytest.raises(ValidationFailed) as raised:
        invite(core, group.id, group.author, errors=(not_a_number,))

    assert errors_of(raised) == [("user", "A valid integer is required.")]


@pytest.mark.parametrize("member", ["author", "organiser", "participant", "payer"])
def test_inviting_a_member_again_is_a_conflict_that_sends_nothing(core, group, member):
    before = state(core)

    with pytest.raises(Conflict):
        invite(core, group.id, group.organiser, user=getattr(group, member))

    assert state(core) == before
    assert roles(core, group.id)[group.organiser] is Role.ORGANISER


def test_checks_of_an_invitation_come_in_order_404_403_400_409(core, group):
    bad_email = FieldError("email", "Not a string.")

    with pytest.raises(NotFound):  # may not see it, even with an invalid body
        invite(core, group.id, group.outsider, user=NOBODY)
    with pytest.raises(PermissionDenied):  # a member who does not run it, invalid body
        invite(core, group.id, group.participant, user=NOBODY)
    with pytest.raises(ValidationFailed) as raised:  # invalid, and a member already
        invite(core, group.id, group.author, user=group.participant, errors=(bad_email,))
    assert errors_of(raised) == [("email", "Not a string.")]
    with pytest.raises(Conflict):
        invite(core, group.id, group.author, user=group.participant)


# removing members


def test_a_removed_participant_keeps_their_payments_but_no_longer_sees_the_collect(core, group):
    collected = core.db.collects[group.id].collected
    core.cache.changed.clear()

    remove(core, group.id, group.organiser, group.payer)

    assert group.payer not in roles(core, group.id)
    assert core.db.collects[group.id].collected == collected == Money.of("500.00")
    assert payment(core, group.payment, group.payer).amount == Money.of("500.00")
    with pytest.raises(NotFound):
        core.get_collect(group.id, group.payer)
    assert core.get_collect(group.id, group.author).collect.participants_count == 3
    assert core.cache.changed == [group.id]


def test_only_the_author_removes_an_organiser_who_then_runs_nothing(core, group):
    second = invite(core, group.id, group.author, user=group.invitee).user
    promote(core, group.id, group.author, second)

    with pytest.raises(PermissionDenied):
        remove(core, group.id, group.organiser, second)
    remove(core, group.id, group.author, second)

    assert second not in roles(core, group.id)
    with pytest.raises(NotFound):
        invite(core, group.id, second, user=group.outsider)


@pytest.mark.parametrize("actor", ["author", "organiser"])
def test_nobody_removes_the_author(core, group, actor):
    with pytest.raises(Conflict):
        remove(core, group.id, getattr(group, actor), group.author)

    assert roles(core, group.id)[group.author] is Role.AUTHOR


def test_removing_is_refused_by_permission_before_the_authors_conflict(core, group):
    with pytest.raises(PermissionDenied):
        remove(core, group.id, group.participant, group.author)


@pytest.mark.parametrize("user", ["outsider", "anna", "nobody", "none"])
def test_removing_someone_who_is_no_member_is_not_found(core, group, user):
    user_id = named(group, user)

    with pytest.raises(NotFound):
        remove(core, group.id, group.author, user_id)


def test_a_member_removed_twice_is_not_found_the_second_time(core, group):
    remove(core, group.id, group.author, group.participant)

    with pytest.raises(NotFound):
        remove(core, group.id, group.author, group.participant)


# organisers


def test_the_author_makes_a_participant_an_organiser_who_may_then_run_the_collect(core, group):
    with pytest.raises(PermissionDenied):
        core.get_share_key(ShareRequest(group.id, group.participant))

    entry = promote(core, group.id, group.author, group.participant)

    assert (entry.user, entry.role) == (group.participant, Role.ORGANISER)
    assert core.get_share_key(ShareRequest(group.id, group.participant)).key
    assert invite(core, group.id, group.participant, user=group.invitee).user == group.invitee


def test_promoting_an_organiser_again_keeps_them_one(core, group):
    entry = promote(core, group.id, group.author, group.organiser)

    assert entry.role is Role.ORGANISER
    assert roles(core, group.id)[group.organiser] is Role.ORGANISER


@pytest.mark.parametrize(
    ("user", "errors", "expected"),
    [
        ("none", (), ("user", "This field is required.")),
        ("outsider", (), ("user", "This user is not a member of the collect.")),
        ("nobody", (), ("user", "This user is not a member of the collect.")),
        ("author", (), ("user", "The author runs the collect already.")),
        ("none", (FieldError("user", "Not a number."),), ("user", "Not a number.")),
    ],
)
def test_an_organiser_must_be_a_member_other_than_the_author(core, group, user, errors, expected):
    user_id = named(group, user)
    before = state(core)

    with pytest.raises(ValidationFailed) as raised:
        promote(core, group.id, group.author, user_id, errors)

    assert errors_of(raised) == [expected]
    assert state(core) == before


def test_an_organiser_promoting_a_stranger_is_refused_for_permission_first(core, group):
    with pytest.raises(PermissionDenied):
        promote(core, group.id, group.organiser, group.outsider)


def test_a_demoted_organiser_stays_a_participant_without_the_rights(core, group):
    demote(core, group.id, group.author, group.organiser)

    assert roles(core, group.id)[group.organiser] is Role.PARTICIPANT
    assert core.get_collect(group.id, group.organiser).collect.id == group.id
    with pytest.raises(PermissionDenied):
        core.get_share_key(ShareRequest(group.id, group.organiser))
    with pytest.raises(PermissionDenied):
        remind(core, group.id, group.organiser)


@pytest.mark.parametrize("user", ["participant", "author", "outsider", "nobody", "none"])
def test_demoting_someone_who_is_no_organiser_is_not_found(core, group, user):
    user_id = named(group, user)
    before = state(core)

    with pytest.raises(NotFound):
        demote(core, group.id, group.author, user_id)

    assert state(core) == before


def test_an_organiser_cannot_demote_themselves(core, group):
    with pytest.raises(PermissionDenied):
        demote(core, group.id, group.organiser, group.organiser)

    assert roles(core, group.id)[group.organiser] is Role.ORGANISER


# reminders


def test_reminders_go_to_every_unpaid_member_but_the_caller(core, group):
    deliver(core, EmailKind.INVITATION)
    core.clock.advance(hours=1)

    done = remind(core, group.id, group.author)

    assert done == Reminders(reminded=2, skipped=0)
    assert queued(core, EmailKind.REMINDER) == [
        SendEmail(EmailKind.REMINDER, group.id, group.organiser),
        SendEmail(EmailKind.REMINDER, group.id, group.participant),
    ]
    reminded = {user: e.last_reminded_at for user, e in entries(core, group.id).items()}
    assert reminded == {
        group.author: None,
        group.organiser: core.clock.now(),
        group.participant: core.clock.now(),
        group.payer: None,
    }


def test_an_organiser_reminds_the_unpaid_author_too(core, group):
    done = remind(core, group.id, group.organiser)

    assert done == Reminders(reminded=2, skipped=0)
    assert [task.recipient_id for task in queued(core, EmailKind.REMINDER)] == [
        group.author,
        group.participant,
    ]


def test_the_reminded_ones_are_skipped_within_the_interval_and_reminded_after_it(core, group):
    wait = interval(core)
    start = core.clock.now()
    assert remind(core, group.id, group.organiser) == Reminders(reminded=2, skipped=0)
    core.clock.advance(hours=1)

    # the author calls an hour later: the organiser was not reminded yet, the participant was
    assert remind(core, group.id, group.author) == Reminders(reminded=1, skipped=1)
    core.clock.current = start + wait - timedelta(microseconds=1)
    assert remind(core, group.id, group.author) == Reminders(reminded=0, skipped=2)
    assert len(queued(core, EmailKind.REMINDER)) == 3
    core.clock.current = start + wait
    again = remind(core, group.id, group.author)

    assert again == Reminders(reminded=1, skipped=1)  # the participant; the organiser waits
    assert queued(core, EmailKind.REMINDER)[-1].recipient_id == group.participant
    assert entries(core, group.id)[group.participant].last_reminded_at == core.clock.now()


def test_a_member_who_paid_since_is_reminded_no_more(core, group):
    core.give(core.db.users[group.participant], group.id, "1.00")

    done = remind(core, group.id, group.author)

    assert done == Reminders(reminded=1, skipped=0)
    assert [task.recipient_id for task in queued(core, EmailKind.REMINDER)] == [group.organiser]


def test_a_reminder_e_mail_carries_what_the_member_is_asked_for(core, group):
    remind(core, group.id, group.organiser)
    key = core.db.collects[group.id].share_key

    sent = deliver(core, EmailKind.REMINDER)

    assert [(n.kind, n.to) for n in sent] == [
        (EmailKind.REMINDER, "author@example.com"),
        (EmailKind.REMINDER, "participant@example.com"),
    ]
    for notification in sent:
        assert notification.link == f"http://front/collects/{group.id}?key={key}"
        assert notification.collect_title == "Подарок Анне"
        assert notification.end_date == core.db.collects[group.id].end_date
        assert notification.suggested_amount == Money.of("500.00")


def test_a_member_removed_before_delivery_gets_no_reminder_nor_invitation(core, group):
    invite(core, group.id, group.author, user=group.invitee)
    remind(core, group.id, group.author)
    remove(core, group.id, group.author, group.participant)
    remove(core, group.id, group.author, group.invitee)

    reminders = deliver(core, EmailKind.REMINDER)
    invitations = deliver(core, EmailKind.INVITATION)

    assert [n.to for n in reminders] == ["organiser@example.com"]
    assert "invitee@example.com" not in [n.to for n in invitations]
    assert "participant@example.com" not in [n.to for n in invitations]
    assert all(
        row.finished_at is not None
        for row in core.db.outbox.values()
        if row.message.task
        in (*queued(core, EmailKind.REMINDER), *queued(core, EmailKind.INVITATION))
    )


def test_a_member_deactivated_before_delivery_gets_no_reminder(core, group):
    remind(core, group.id, group.author)
    deactivate(core, group.participant)

    assert [n.to for n in deliver(core, EmailKind.REMINDER)] == ["organiser@example.com"]


@pytest.mark.parametrize("kind", [EmailKind.INVITATION, EmailKind.REMINDER])
def test_an_invitation_or_reminder_without_a_recipient_sends_nothing(core, group, kind):
    core.mailer.sent.clear()

    core.deliver_email(SendEmail(kind, group.id))
    core.deliver_email(SendEmail(kind, NOBODY, group.participant))
    core.deliver_email(SendEmail(kind, group.id, group.outsider))  # not a member
    assert core.mailer.sent == []
    core.deliver_email(SendEmail(kind, group.id, group.participant))
    assert [n.to for n in core.mailer.sent] == ["participant@example.com"]


def test_a_deactivated_member_is_not_reminded_nor_counted(core, group):
    deactivate(core, group.participant)

    assert remind(core, group.id, group.author) == Reminders(reminded=1, skipped=0)


@pytest.mark.parametrize("how", ["closed", "ended"])
def test_no_reminder_for_a_collect_that_is_not_open(core, group, how):
    if how == "closed":
        change(core, group.id, group.author, is_active=False)
    else:
        core.clock.advance(days=15)
    before = state(core)

    with pytest.raises(Conflict):
        remind(core, group.id, group.organiser)
    with pytest.raises(PermissionDenied):  # 403 before 409
        remind(core, group.id, group.participant)
    with pytest.raises(NotFound):  # 404 before 409
        remind(core, group.id, group.outsider)
    assert state(core) == before


# who sees a payment


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("payer", True),
        ("author", True),
        ("organiser", True),
        ("participant", False),
        ("outsider", False),
        ("anna", False),
    ],
)
def test_a_payment_is_seen_by_its_payer_and_those_who_run_the_collect(core, group, viewer, sees):
    if sees:
        seen = payment(core, group.payment, getattr(group, viewer))
        assert (seen.id, seen.amount) == (group.payment, Money.of("500.00"))
    else:
        with pytest.raises(NotFound):
            payment(core, group.payment, getattr(group, viewer))


def test_an_organiser_no_longer_sees_payments_once_demoted_or_removed(core, group):
    assert payment(core, group.payment, group.organiser).id == group.payment

    demote(core, group.id, group.author, group.organiser)
    with pytest.raises(NotFound):
        payment(core, group.payment, group.organiser)

    promote(core, group.id, group.author, group.organiser)
    assert payment(core, group.payment, group.organiser).id == group.payment
    remove(core, group.id, group.author, group.organiser)
    with pytest.raises(NotFound):
        payment(core, group.payment, group.organiser)


def test_an_unknown_payment_is_not_found_even_for_an_author(core, group):
    with pytest.raises(NotFound):
        payment(core, NOBODY, group.author)
