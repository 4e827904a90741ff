"""Members of collects in SQL on SQLite and MariaDB: joining once, who may see, what each paid,
public lists and a member's own list; roles and reminders saved, members removed, who has not
paid."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, update

from fundraising.adapters.sql.queries import SqlCollectQueries
from fundraising.adapters.sql.tables import users
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import CollectFilter
from fundraising.domain.collect import Collect
from fundraising.domain.membership import Member, Role, Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import PaymentStatus
from fundraising.domain.user import User
from tests.fakes import FakeCache
from tests.integration.conftest import NOW, Rows, UowFactory
from tests.integration.sql_helpers import MOSCOW, _is_utc_with_microseconds


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


def _add(uow_factory: UowFactory, *members: Member) -> None:
    with uow_factory() as uow:
        for member in members:
            assert uow.members.add(member)
        uow.commit()


def _stored(uow_factory: UowFactory, collect: Collect, user: User) -> Member | None:
    assert collect.id is not None and user.id is not None
    with uow_factory() as uow:
        return uow.members.get(collect.id, user.id)


def test_saving_a_member_keeps_its_role_and_last_reminder_and_marks_the_collect_changed(
    rows: Rows, uow_factory: UowFactory, cache: FakeCache
):
    author, kept, other = rows.user("author"), rows.user("kept"), rows.user("other")
    collect, elsewhere = rows.collect(author), rows.collect(author, title="Another")
    _add(uow_factory, _member(collect, kept), _member(collect, other), _member(elsewhere, kept))
    reminded = datetime(2026, 11, 27, 9, 30, 15, 654321, tzinfo=MOSCOW)
    cache.changed.clear()

    with uow_factory() as uow:
        member = uow.members.get(collect.id, kept.id)
        assert member is not None
        member.promote()
        member.remind(reminded)
        uow.members.save(member)
        uow.commit()

    saved = _stored(uow_factory, collect, kept)
    assert saved is not None and saved.role is Role.ORGANISER
    assert saved.last_reminded_at is not None
    assert _is_utc_with_microseconds(saved.last_reminded_at, reminded)
    assert saved.joined_at == NOW
    untouched = (_stored(uow_factory, collect, other), _stored(uow_factory, elsewhere, kept))
    assert [(m.role, m.last_reminded_at) for m in untouched if m] == [
        (Role.PARTICIPANT, None),
        (Role.PARTICIPANT, None),
    ]
    assert cache.changed == [collect.id]


def test_a_demoted_organiser_is_saved_as_a_participant(rows: Rows, uow_factory: UowFactory):
    author, organiser = rows.user("author"), rows.user("organiser")
    collect = rows.collect(author)
    _add(uow_factory, _member(collect, organiser, Role.ORGANISER))

    with uow_factory() as uow:
        member = uow.members.get(collect.id, organiser.id)
        assert member is not None
        member.demote()
        uow.members.save(member)
        uow.commit()

    saved = _stored(uow_factory, collect, organiser)
    assert saved is not None and saved.role is Role.PARTICIPANT


def test_a_removed_member_is_gone_from_that_collect_only_and_the_collect_changed(
    rows: Rows, uow_factory: UowFactory, cache: FakeCache
):
    author, leaving, staying = rows.user("author"), rows.user("leaving"), rows.user("staying")
    collect, elsewhere = rows.collect(author), rows.collect(author, title="Another")
    _add(
        uow_factory,
        _member(collect, author, Role.AUTHOR),
        _member(collect, leaving),
        _member(collect, staying),
        _member(elsewhere, leaving),
    )
    paid = rows.donation(collect, leaving, "100.00")
    cache.changed.clear()

    with uow_factory() as uow:
        uow.members.remove(collect.id, leaving.id)
        uow.commit()

    with uow_factory() as uow:
        ids, other_ids = uow.members.ids(collect.id), uow.members.ids(elsewhere.id)
        payment = uow.payments.get(paid.id)  # type: ignore[arg-type]
    assert ids == frozenset({author.id, staying.id})
    assert other_ids == frozenset({leaving.id})
    assert _stored(uow_factory, collect, leaving) is None
    assert payment is not None and payment.payer_id == leaving.id  # payments stay
    assert rows.counters(collect) == (Money.of("100.00"), 1, 1)
    assert cache.changed == [collect.id]


def test_a_removal_rolled_back_keeps_the_member_and_changes_nothing(
    rows: Rows, uow_factory: UowFactory, cache: FakeCache
):
    author, member = rows.user("author"), rows.user("member")
    collect = rows.collect(author)
    _add(uow_factory, _member(collect, member))
    cache.changed.clear()

    with uow_factory() as uow:
        uow.members.remove(collect.id, member.id)  # type: ignore[arg-type]

    assert _stored(uow_factory, collect, member) is not None
    assert cache.changed == []


def test_the_unpaid_are_active_members_without_a_completed_payment_by_joining_time(
    rows: Rows, uow_factory: UowFactory, engine: Engine
):
    author = rows.user("author")
    collect, elsewhere = rows.collect(author), rows.collect(author, title="Another")
    paid, pending, failed, paid_elsewhere, late_low_id, early, tie_first, tie_second = (
        rows.user(name)
        for name in (
            "paid",
            "pending",
            "failed",
            "elsewhere",
            "late",
            "early",
            "tie_first",
            "tie_second",
        )
    )
    inactive, erased, marked_deleted = rows.user("inactive"), rows.user("erased"), rows.user("x")
    assert collect.id is not None

    def joined(user: User, minutes: int, role: Role = Role.PARTICIPANT) -> Member:
        assert user.id is not None
        return Member(collect.id, user.id, role, joined_at=NOW + timedelta(minutes=minutes))

    tie = 5
    _add(
        uow_factory,
        joined(author, 0, Role.AUTHOR),
        joined(paid, 1),
        joined(pending, 2),
        joined(failed, 3),
        joined(paid_elsewhere, 4),
        joined(tie_second, tie),  # added first, but its id is the greater
        joined(tie_first, tie),
        joined(late_low_id, 9),
        joined(early, -1, Role.ORGANISER),
        joined(inactive, 6),
        joined(erased, 7),
        joined(marked_deleted, 8),
    )
    _add(uow_factory, _member(elsewhere, paid_elsewhere))
    rows.donation(collect, paid, "10.00")
    rows.payment_row(collect, pending, status=PaymentStatus.PENDING)
    rows.payment_row(collect, failed, status=PaymentStatus.FAILED)
    rows.donation(elsewhere, paid_elsewhere, "10.00")
    with uow_factory() as uow:
        for user, leave in ((inactive, User.deactivate), (erased, User.erase)):
            stored = uow.users.get(user.id)  # type: ignore[arg-type]
            assert stored is not None
            leave(stored, NOW)
            uow.users.save(stored)
        uow.commit()
    with engine.begin() as connection:  # deleted, though its active flag was left set
        connection.execute(
            update(users).where(users.c.id == marked_deleted.id).values(deleted_at=NOW)
        )

    with uow_factory() as uow:
        unpaid = uow.members.unpaid(collect.id)

    assert [(m.user_id, m.role) for m in unpaid] == [
        (early.id, Role.ORGANISER),
        (author.id, Role.AUTHOR),
        (pending.id, Role.PARTICIPANT),
        (failed.id, Role.PARTICIPANT),
        (paid_elsewhere.id, Role.PARTICIPANT),
        (tie_first.id, Role.PARTICIPANT),
        (tie_second.id, Role.PARTICIPANT),
        (late_low_id.id, Role.PARTICIPANT),
    ]
    assert all(m.collect_id == collect.id for m in unpaid)
    assert unpaid[0].joined_at == NOW - timedelta(minutes=1)


def test_the_unpaid_come_with_their_last_reminder(rows: Rows, uow_factory: UowFactory):
    author, member = rows.user("author"), rows.user("member")
    collect = rows.collect(author)
    assert collect.id is not None and member.id is not None
    reminded = NOW - timedelta(hours=3)
    _add(uow_factory, Member(collect.id, member.id, Role.PARTICIPANT, NOW, reminded))

    with uow_factory() as uow:
        (unpaid,) = uow.members.unpaid(collect.id)
        nobody = uow.members.unpaid(999_999)

    assert (unpaid.user_id, unpaid.last_reminded_at) == (member.id, reminded)
    assert nobody == []
