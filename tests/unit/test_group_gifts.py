"""Group gifts through the use cases: who sees a collect, lists, joining, share keys, donors."""

from __future__ import annotations

import pytest

from fundraising.application.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import CollectFilter
from fundraising.application.use_cases.membership import Join, ParticipantsRequest, ShareRequest
from fundraising.application.use_cases.payments import Donation
from fundraising.domain.membership import Role, Visibility
from fundraising.domain.money import Money
from tests.unit.collect_use_case_helpers import change


@pytest.fixture
def people(core):
    """An author, Anna (whom the gift is for), a colleague in the secret and one who is not."""
    return {name: core.user(name) for name in ("author", "anna", "colleague", "outsider")}


def secret(core, people, visibility=Visibility.PRIVATE) -> int:
    detail = core.collect(
        people["author"],
        title="Подарок Анне",
        visibility=visibility,
        hidden_from=(people["anna"].id,),
    )
    return detail.collect.id


def test_a_private_collect_exists_for_its_members_only(core, people):
    collect_id = secret(core, people)

    seen = core.get_visible_collect(collect_id, people["author"].id)

    assert seen.value.collect.visibility is Visibility.PRIVATE
    assert seen.value.collect.hidden_from == frozenset({people["anna"].id})
    assert seen.audience == frozenset({people["author"].id})
    for who in ("anna", "outsider"):
        with pytest.raises(NotFound):
            core.get_collect(collect_id, people[who].id)
        with pytest.raises(NotFound):
            core.list_feed(collect_id, PageRequest.of(), people[who].id)


def test_a_public_collect_is_seen_by_everyone_with_no_audience_limit(core, people):
    collect_id = core.collect(people["author"]).collect.id

    seen = core.get_visible_collect(collect_id, people["outsider"].id)

    assert seen.audience is None
    assert seen.value.collect.participants_count == 1


def test_lists_show_public_collects_and_mine_shows_every_collect_of_the_member(core, people):
    public = core.collect(people["author"], title="Всем").collect.id
    private = secret(core, people)
    everyone = CollectFilter()

    listed = [v.id for v in core.list_collects(everyone, PageRequest.of()).items]
    mine_author = core.list_collects(CollectFilter(member_id=people["author"].id), PageRequest.of())
    mine_anna = core.list_collects(CollectFilter(member_id=people["anna"].id), PageRequest.of())

    assert listed == [public]
    assert sorted(v.id for v in mine_author.items) == sorted([public, private])
    assert list(mine_anna.items) == []


def test_a_hidden_user_donating_is_answered_as_for_an_unknown_collect(core, people):
    collect_id = secret(core, people, Visibility.LINK)

    for who in ("anna", "outsider"):
        with pytest.raises(ValidationFailed) as raised:
            core.give(people[who], collect_id)
        assert [(e.field, e.message) for e in raised.value.errors] == [
            ("collect", "No collect with this id.")
        ]
    assert core.db.collects[collect_id].donations_count == 0


def test_a_donor_becomes_a_participant_once(core, people):
    collect_id = core.collect(people["author"]).collect.id

    core.give(people["colleague"], collect_id, "100.00")
    core.give(people["colleague"], collect_id, "50.00")

    entry = core.join_collect(Join(collect_id, people["colleague"].id))
    assert (entry.role, entry.paid_amount, entry.donations_count) == (
        Role.PARTICIPANT,
        Money.of("150.00"),
        2,
    )
    assert core.get_collect(collect_id).collect.participants_count == 2


def test_joining_a_link_collect_takes_its_share_key(core, people):
    collect_id = secret(core, people, Visibility.LINK)
    key = core.get_share_key(ShareRequest(collect_id, people["author"].id)).key

    with pytest.raises(NotFound):
        core.join_collect(Join(collect_id, people["colleague"].id, key="wrong"))
    with pytest.raises(NotFound):
        core.join_collect(Join(collect_id, people["anna"].id, key=key))  # the surprise guard
    joined = core.join_collect(Join(collect_id, people["colleague"].id, key=key))

    assert (joined.user, joined.role, joined.paid_amount) == (
        people["colleague"].id,
        Role.PARTICIPANT,
        Money.zero(),
    )
    assert core.get_collect(collect_id, people["colleague"].id).collect.participants_count == 2


def test_nobody_joins_a_private_collect_but_a_member_stays_one(core, people):
    collect_id = secret(core, people)

    with pytest.raises(NotFound):
        core.join_collect(Join(collect_id, people["outsider"].id))
    author = core.join_collect(Join(collect_id, people["author"].id))

    assert author.role is Role.AUTHOR


def test_a_closed_collect_takes_no_new_member(core, people):
    collect_id = core.collect(people["author"]).collect.id
    change(core, collect_id, people["author"].id, is_active=False)

    with pytest.raises(Conflict):
        core.join_collect(Join(collect_id, people["outsider"].id))
    assert core.join_collect(Join(collect_id, people["author"].id)).role is Role.AUTHOR


def test_the_share_key_is_read_and_rotated_by_the_author_only_so_far(core, people):
    collect_id = secret(core, people, Visibility.LINK)
    old = core.get_share_key(ShareRequest(collect_id, people["author"].id))
    core.join_collect(Join(collect_id, people["colleague"].id, key=old.key))

    with pytest.raises(PermissionDenied):
        core.get_share_key(ShareRequest(collect_id, people["colleague"].id))
    with pytest.raises(NotFound):
        core.rotate_share_key(ShareRequest(collect_id, people["outsider"].id))
    new = core.rotate_share_key(ShareRequest(collect_id, people["author"].id))

    assert new.key != old.key and len(new.key) >= 32
    assert new.url == f"http://front/collects/{collect_id}?key={new.key}"
    with pytest.raises(NotFound):
        core.join_collect(Join(collect_id, people["outsider"].id, key=old.key))
    assert core.join_collect(Join(collect_id, people["outsider"].id, key=new.key))


def test_hiding_unknown_users_is_refused_naming_them(core, people):
    with pytest.raises(ValidationFailed) as raised:
        core.collect(people["author"], visibility=Visibility.PRIVATE, hidden_from=(999_999,))

    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("hidden_from", "No user with these ids: [999999].")
    ]


def test_a_member_cannot_be_hidden_afterwards(core, people):
    collect_id = secret(core, people, Visibility.LINK)
    key = core.get_share_key(ShareRequest(collect_id, people["author"].id)).key
    core.join_collect(Join(collect_id, people["colleague"].id, key=key))

    with pytest.raises(ValidationFailed) as raised:
        change(core, collect_id, people["author"].id, hidden_from=(people["colleague"].id,))

    assert [e.field for e in raised.value.errors] == ["hidden_from"]


def test_an_outsider_changing_a_private_collect_learns_nothing(core, people):
    collect_id = secret(core, people)

    with pytest.raises(NotFound):
        change(core, collect_id, people["outsider"].id, title="Чужой")
    with pytest.raises(NotFound):
        change(core, collect_id, people["anna"].id, title="Чужой")


def test_reads_of_a_private_collect_are_not_refused_to_a_new_member(core, people):
    collect_id = secret(core, people, Visibility.LINK)
    key = core.get_share_key(ShareRequest(collect_id, people["author"].id)).key
    with pytest.raises(NotFound):
        core.get_collect(collect_id, people["colleague"].id)

    core.join_collect(Join(collect_id, people["colleague"].id, key=key))
    core.donate(Donation(people["colleague"].id, collect_id, Money.of("10.00"), "tx-after-joining"))

    seen = core.get_visible_collect(collect_id, people["colleague"].id)
    assert seen.audience == frozenset({people["author"].id, people["colleague"].id})
    assert seen.value.collect.donations_count == 1


def test_those_who_run_a_collect_see_who_paid_and_who_did_not(core, people):
    collect_id = secret(core, people, Visibility.LINK)
    key = core.get_share_key(ShareRequest(collect_id, people["author"].id)).key
    for who in ("colleague", "outsider"):
        core.clock.advance(minutes=1)
        core.join_collect(Join(collect_id, people[who].id, key=key))
    core.give(people["colleague"], collect_id, "300.00")

    def listed(paid: bool | None) -> list[tuple[int, Role, Money]]:
        page = core.list_participants(
            ParticipantsRequest(collect_id, people["author"].id, paid, PageRequest.of())
        )
        return [(e.user, e.role, e.paid_amount) for e in page.items]

    assert listed(None) == [
        (people["author"].id, Role.AUTHOR, Money.zero()),
        (people["colleague"].id, Role.PARTICIPANT, Money.of("300.00")),
        (people["outsider"].id, Role.PARTICIPANT, Money.zero()),
    ]
    assert [user for user, *_ in listed(True)] == [people["colleague"].id]
    assert [user for user, *_ in listed(False)] == [people["author"].id, people["outsider"].id]
    with pytest.raises(PermissionDenied):
        core.list_participants(
            ParticipantsRequest(collect_id, people["colleague"].id, None, PageRequest.of())
        )
    with pytest.raises(NotFound):
        core.list_participants(
            ParticipantsRequest(collect_id, people["anna"].id, None, PageRequest.of())
        )
