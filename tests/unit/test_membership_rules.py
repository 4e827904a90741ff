"""Who may see a collect and who may join it: visibility, hidden users, share keys, amounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fundraising.domain.collect import Collect, Occasion
from fundraising.domain.errors import Conflict, InvalidValue, PermissionDenied, ValidationFailed
from fundraising.domain.membership import (
    HIDDEN_MAX,
    Access,
    Member,
    Role,
    Visibility,
    check_hidden,
    ensure_runs,
)
from fundraising.domain.money import Money

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
AUTHOR, MEMBER, OUTSIDER, HIDDEN = 1, 2, 3, 4
KEY = "the-share-key-of-this-collect"


def collect(**overrides: Any) -> Collect:
    values: dict[str, Any] = {
        "author_id": AUTHOR,
        "title": "Подарок Анне",
        "occasion": Occasion.BIRTHDAY,
        "description": "",
        "goal": Money.of("5000.00"),
        "end_date": NOW + timedelta(days=7),
        "now": NOW,
        "share_key": KEY,
    }
    values.update(overrides)
    made = Collect.open(**values)
    made.id = 10
    return made


def fields_of(raised: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [error.field for error in raised.value.errors]


@pytest.mark.parametrize(
    ("visibility", "viewer", "admitted"),
    [
        (Visibility.PUBLIC, OUTSIDER, True),
        (Visibility.LINK, OUTSIDER, False),
        (Visibility.LINK, MEMBER, True),
        (Visibility.PRIVATE, OUTSIDER, False),
        (Visibility.PRIVATE, MEMBER, True),
        (Visibility.PRIVATE, HIDDEN, False),
    ],
)
def test_who_may_see_a_collect(visibility: Visibility, viewer: int, admitted: bool) -> None:
    access = Access(visibility, frozenset({AUTHOR, MEMBER}), frozenset({HIDDEN}))

    assert access.admits(viewer) is admitted


def test_a_public_collect_has_no_audience_and_another_its_members() -> None:
    members = frozenset({AUTHOR, MEMBER})

    assert Access(Visibility.PUBLIC, members).audience is None
    assert Access(Visibility.LINK, members).audience == members
    assert Access(Visibility.PRIVATE, members, frozenset({HIDDEN})).audience == members


@pytest.mark.parametrize(
    ("hidden", "visibility", "message"),
    [
        ([HIDDEN], Visibility.PUBLIC, "link or private"),
        (range(100, 100 + HIDDEN_MAX + 1), Visibility.PRIVATE, "at most 50"),
        ([AUTHOR], Visibility.PRIVATE, "author"),
        ([MEMBER], Visibility.LINK, "Members"),
    ],
)
def test_hidden_users_are_few_never_the_author_nor_a_member(
    hidden: Any, visibility: Visibility, message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        check_hidden(hidden, visibility=visibility, author_id=AUTHOR, members=(AUTHOR, MEMBER))


def test_fifty_hidden_users_are_allowed() -> None:
    fifty = range(100, 100 + HIDDEN_MAX)

    chosen = check_hidden(fifty, visibility=Visibility.LINK, author_id=AUTHOR, members=(AUTHOR,))

    assert chosen == frozenset(fifty)


def test_a_new_collect_reports_every_invalid_group_field_at_once() -> None:
    with pytest.raises(ValidationFailed) as raised:
        collect(
            title="",
            visibility=Visibility.PUBLIC,
            hidden_from=[HIDDEN],
            suggested_amount=Money.of("6000.00"),
        )

    assert sorted(fields_of(raised)) == ["hidden_from", "suggested_amount", "title"]


@pytest.mark.parametrize("suggested", ["0.50", "5000.01"])
def test_a_suggested_amount_is_a_possible_donation_within_the_goal(suggested: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        collect(suggested_amount=Money.of(suggested))

    assert fields_of(raised) == ["suggested_amount"]


def test_lowering_the_goal_below_the_suggested_amount_is_refused_on_the_goal() -> None:
    made = collect(suggested_amount=Money.of("500.00"))

    with pytest.raises(ValidationFailed) as raised:
        made.change(now=NOW, goal=Money.of("499.99"))

    assert fields_of(raised) == ["goal_amount"]
    assert made.goal == Money.of("5000.00")


def test_a_collect_with_hidden_users_becomes_public_only_if_they_go_too() -> None:
    made = collect(visibility=Visibility.PRIVATE, hidden_from=[HIDDEN])

    with pytest.raises(ValidationFailed) as raised:
        made.change(now=NOW, visibility=Visibility.PUBLIC, members=(AUTHOR,))
    assert fields_of(raised) == ["hidden_from"]
    assert made.visibility is Visibility.PRIVATE

    assert made.change(now=NOW, visibility=Visibility.PUBLIC, hidden_from=(), members=(AUTHOR,))
    assert (made.visibility, made.hidden_from) == (Visibility.PUBLIC, frozenset())


@pytest.mark.parametrize(
    ("visibility", "user", "key", "admitted"),
    [
        (Visibility.PUBLIC, OUTSIDER, None, True),
        (Visibility.LINK, OUTSIDER, KEY, True),
        (Visibility.LINK, OUTSIDER, KEY[:-1], False),
        (Visibility.LINK, OUTSIDER, None, False),
        (Visibility.LINK, HIDDEN, KEY, False),
        (Visibility.PRIVATE, OUTSIDER, KEY, False),
    ],
)
def test_who_may_join(visibility: Visibility, user: int, key: str | None, admitted: bool) -> None:
    hidden = [HIDDEN] if visibility is not Visibility.PUBLIC else []
    made = collect(visibility=visibility, hidden_from=hidden)

    assert made.admits_joining(user, key) is admitted


def member(role: Role, user_id: int = MEMBER, reminded: datetime | None = None) -> Member:
    return Member(10, user_id, role, joined_at=NOW - timedelta(days=1), last_reminded_at=reminded)


@pytest.mark.parametrize(
    ("actor", "removed", "refused"),
    [
        (Role.AUTHOR, Role.PARTICIPANT, None),
        (Role.AUTHOR, Role.ORGANISER, None),
        (Role.ORGANISER, Role.PARTICIPANT, None),
        (Role.ORGANISER, Role.ORGANISER, PermissionDenied),
        (Role.ORGANISER, Role.AUTHOR, Conflict),
        (Role.AUTHOR, Role.AUTHOR, Conflict),
    ],
)
def test_who_may_remove_whom(actor: Role, removed: Role, refused: type[Exception] | None) -> None:
    remover, leaving = member(actor, AUTHOR), member(removed, MEMBER)

    if refused is None:
        remover.ensure_may_remove(leaving)
    else:
        with pytest.raises(refused):
            remover.ensure_may_remove(leaving)
    assert leaving.role is removed


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.ORGANISER])
def test_the_author_and_organisers_run_a_collect(role: Role) -> None:
    running = member(role)

    assert running.manages
    assert ensure_runs(running) is running


@pytest.mark.parametrize("found", [None, member(Role.PARTICIPANT)])
def test_a_participant_or_a_non_member_does_not_run_a_collect(found: Member | None) -> None:
    with pytest.raises(PermissionDenied):
        ensure_runs(found)


@pytest.mark.parametrize(("role", "refused"), [(Role.AUTHOR, False), (Role.ORGANISER, True)])
def test_only_the_author_passes_as_the_author(role: Role, refused: bool) -> None:
    if refused:
        with pytest.raises(PermissionDenied):
            member(role).ensure_author()
    else:
        member(role).ensure_author()


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.ORGANISER])
def test_a_participant_or_organiser_is_promoted_to_organiser(role: Role) -> None:
    promoted = member(role)

    promoted.promote()

    assert (promoted.role, promoted.manages) == (Role.ORGANISER, True)


def test_the_author_cannot_be_promoted_and_stays_the_author() -> None:
    author = member(Role.AUTHOR, AUTHOR)

    with pytest.raises(InvalidValue, match="author"):
        author.promote()
    assert author.role is Role.AUTHOR


@pytest.mark.parametrize(
    ("role", "after"),
    [
        (Role.ORGANISER, Role.PARTICIPANT),
        (Role.PARTICIPANT, Role.PARTICIPANT),
        (Role.AUTHOR, Role.AUTHOR),
    ],
)
def test_demoting_makes_only_an_organiser_a_participant(role: Role, after: Role) -> None:
    demoted = member(role)

    demoted.demote()

    assert demoted.role is after


DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("reminded", "due"),
    [
        (None, True),
        (NOW - DAY, True),
        (NOW - DAY - timedelta(hours=1), True),
        (NOW - DAY + timedelta(microseconds=1), False),
        (NOW, False),
    ],
)
def test_a_reminder_is_due_once_the_interval_has_passed(
    reminded: datetime | None, due: bool
) -> None:
    assert member(Role.PARTICIPANT, reminded=reminded).reminder_due(NOW, DAY) is due


def test_reminding_starts_the_interval_again() -> None:
    reminded = member(Role.PARTICIPANT, reminded=NOW - 2 * DAY)

    reminded.remind(NOW)

    assert reminded.last_reminded_at == NOW
    assert not reminded.reminder_due(NOW + DAY - timedelta(seconds=1), DAY)
    assert reminded.reminder_due(NOW + DAY, DAY)
    assert reminded.reminder_due(NOW + timedelta(hours=1), timedelta(hours=1))
