"""Members of collects in SQL on SQLite and MariaDB: joining once, who may see, what each paid,
public lists and a member's own list."""

from __future__ import annotations

from datetime import timedelta

from fundraising.adapters.sql.queries import SqlCollectQueries
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import CollectFilter
from fundraising.domain.collect import Collect
from fundraising.domain.membership import Member, Role, Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import PaymentStatus
from fundraising.domain.user import User
from tests.fakes import FakeCache
from tests.integration.conftest import NOW, Rows, UowFactory


def _member(collect: Collect, user: User, role: Role = Role.PARTICIPANT) -> Member:
    assert collect.id is not None and user.id is not None
    return Member(collect.id, user.id, role, joined_at=NOW)


def _secret(rows: Rows, uow_factory: UowFactory, author: User, hidden: User) -> Collect:
    """A private collect of `author`, kept from `hidden`, with its author as a member."""
    collect = rows.collect(author)
    with uow_factory() as uow:
        saved = uow.collects.get(collect.id)
        assert saved is not None and hidden.id is not None
        saved.change(now=NOW, visibility=Visibility.PRIVATE, hidden_from=(hidden.id,))
        uow.collects.save(saved)
        uow.members.add(_member(saved, author, Role.AUTHOR))
        uow.commit()
    return saved


def test_a_member_is_added_once_and_the_second_add_changes_nothing(
    rows: Rows, uow_factory: UowFactory, cache: FakeCache
):
    author, joiner = rows.user("author"), rows.user("joiner")
    collect = rows.collect(author)
    cache.changed.clear()

    with uow_factory() as uow:
        first = uow.members.add(_member(collect, joiner))
        second = uow.members.add(_member(collect, joiner, Role.ORGANISER))
        uow.commit()

    with uow_factory() as uow:
        stored = uow.members.get(collect.id, joiner.id)
        ids = uow.members.ids(collect.id)
    assert (first, second) == (True, False)
    assert stored is not None and stored.role is Role.PARTICIPANT
    assert stored.joined_at == NOW
    assert ids == frozenset({joiner.id})
    assert cache.changed == [collect.id]


def test_access_names_the_visibility_the_members_and_the_hidden(
    rows: Rows, uow_factory: UowFactory, collect_queries: SqlCollectQueries
):
    author, anna, colleague = rows.user("author"), rows.user("anna"), rows.user("colleague")
    collect = _secret(rows, uow_factory, author, anna)
    with uow_factory() as uow:
        uow.members.add(_member(collect, colleague))
        uow.commit()

    access = collect_queries.access(collect.id)

    assert access is not None
    assert access.visibility is Visibility.PRIVATE
    assert access.members == frozenset({author.id, colleague.id})
    assert access.hidden == frozenset({anna.id})
    assert (access.admits(colleague.id), access.admits(anna.id)) == (True, False)
    assert collect_queries.access(999_999) is None


def test_a_participant_entry_counts_completed_payments_anonymous_ones_included(
    rows: Rows, uow_factory: UowFactory, collect_queries: SqlCollectQueries
):
    author, donor = rows.user("author", first_name="Олег"), rows.user("donor", first_name="Пётр")
    collect = rows.collect(author)
    with uow_factory() as uow:
        uow.members.add(_member(collect, donor))
        uow.commit()
    rows.donation(collect, donor, "100.00", at=NOW - timedelta(minutes=2))
    last = NOW - timedelta(minutes=1)
    rows.donation(collect, donor, "50.50", at=last)
    rows.payment_row(collect, donor, "999.00", status=PaymentStatus.FAILED)

    entry = collect_queries.participant(collect.id, donor.id)

    assert entry is not None
    assert (entry.user, entry.name, entry.role) == (donor.id, "Пётр", Role.PARTICIPANT)
    assert (entry.paid_amount, entry.donations_count) == (Money.of("150.50"), 2)
    assert entry.last_payment_at == last
    assert entry.last_reminded_at is None
    assert collect_queries.participant(collect.id, author.id) is None  # not a member row here


def test_lists_hold_public_collects_and_a_members_list_holds_theirs(
    rows: Rows, uow_factory: UowFactory, collect_queries: SqlCollectQueries
):
    author, anna, colleague = rows.user("author"), rows.user("anna"), rows.user("colleague")
    public = rows.collect(author, title="Всем")
    private = _secret(rows, uow_factory, author, anna)
    with uow_factory() as uow:
        uow.members.add(_member(private, colleague))
        uow.commit()

    def listed(**filters: object) -> list[int]:
        page = collect_queries.list(CollectFilter(**filters), PageRequest.of(1, 100))  # type: ignore[arg-type]
        return sorted(view.id for view in page.items)

    assert listed() == [public.id]
    assert listed(member_id=author.id) == [private.id]
    assert listed(member_id=colleague.id) == [private.id]
    assert listed(member_id=anna.id) == []
    detail = collect_queries.detail(private.id)
    assert detail is not None and detail.collect.participants_count == 2
    assert detail.collect.hidden_from == frozenset({anna.id})


def test_participants_come_by_joining_time_and_filter_on_what_they_paid(
    rows: Rows, uow_factory: UowFactory, collect_queries: SqlCollectQueries
):
    author = rows.user("author")
    collect = rows.collect(author)
    people = [rows.user(f"p{n}") for n in range(3)]
    with uow_factory() as uow:
        uow.members.add(_member(collect, author, Role.AUTHOR))
        for n, person in enumerate(people):
            assert collect.id is not None and person.id is not None
            later = NOW + timedelta(minutes=n + 1)
            uow.members.add(Member(collect.id, person.id, Role.PARTICIPANT, joined_at=later))
        uow.commit()
    rows.donation(collect, people[1], "10.00")
    rows.payment_row(collect, people[2], "99.00", status=PaymentStatus.PENDING)

    def users(paid: bool | None, page: PageRequest | None = None) -> list[int]:
        found = collect_queries.participants(collect.id, paid, page or PageRequest.of())
        return [entry.user for entry in found.items]

    assert users(None) == [author.id, *(p.id for p in people)]
    assert users(True) == [people[1].id]
    assert users(False) == [author.id, people[0].id, people[2].id]
    second = collect_queries.participants(collect.id, None, PageRequest.of(2, 3))
    assert (second.count, [e.user for e in second.items]) == (4, [people[2].id])
