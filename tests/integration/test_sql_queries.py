"""The SQL read side on SQLite and MariaDB: filters, orderings, pages, feeds, statement counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, select

from fundraising.adapters.sql.queries import SqlCollectQueries, SqlPaymentQueries
from fundraising.adapters.sql.tables import payments, users
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import FEED_IN_DETAIL, CollectFilter, CollectOrdering
from fundraising.application.views import CollectView
from fundraising.domain.collect import Collect, CoverStatus, Occasion
from fundraising.domain.membership import Visibility
from fundraising.domain.money import Money
from fundraising.domain.payment import DonationVisibility, PaymentStatus
from fundraising.domain.user import ANONYMOUS, User
from tests.integration.conftest import NOW, Rows, StatementCounter, UowFactory


def _ids(views: Any) -> list[int]:
    return [view.id for view in views]


def _listed(queries: SqlCollectQueries, **filters: Any) -> list[int]:
    return _ids(queries.list(CollectFilter(**filters), PageRequest.of(1, 100)).items)


# --- the list: filters -------------------------------------------------------------------------


def test_an_empty_list_has_no_items(collect_queries: SqlCollectQueries):
    page = collect_queries.list(CollectFilter(), PageRequest.of())

    assert (page.count, list(page.items), page.number, page.size) == (0, [], 1, 10)


def test_the_list_filters_by_occasion_activity_and_author(
    rows: Rows, collect_queries: SqlCollectQueries
):
    anna, boris = rows.user(), rows.user()
    birthday = rows.collect(anna, occasion=Occasion.BIRTHDAY)
    wedding = rows.collect(anna, occasion=Occasion.WEDDING, is_active=False)
    new_year = rows.collect(boris, occasion=Occasion.NEW_YEAR)
    other = rows.collect(boris, is_active=False)

    def listed(**filters: Any) -> set[int]:
        return set(_listed(collect_queries, **filters))

    assert listed() == {birthday.id, wedding.id, new_year.id, other.id}
    assert listed(occasion=Occasion.BIRTHDAY) == {birthday.id}
    assert listed(occasion=Occasion.WEDDING) == {wedding.id}
    assert listed(occasion=Occasion.OTHER) == {other.id}
    assert listed(is_active=True) == {birthday.id, new_year.id}
    assert listed(is_active=False) == {wedding.id, other.id}
    assert listed(author_id=anna.id) == {birthday.id, wedding.id}
    assert listed(author_id=boris.id) == {new_year.id, other.id}
    assert listed(author_id=boris.id, is_active=False) == {other.id}
    assert listed(author_id=anna.id, occasion=Occasion.NEW_YEAR) == set()
    assert listed(author_id=999_999) == set()
    page = collect_queries.list(CollectFilter(is_active=False), PageRequest.of(1, 1))
    assert page.count == 2 and len(page.items) == 1


def test_search_looks_in_title_and_description_ignoring_case(
    rows: Rows, collect_queries: SqlCollectQueries
):
    author = rows.user()
    in_title = rows.collect(author, title="Подарок на День Рождения")
    in_description = rows.collect(author, title="Сюрприз", description="ко дню рождения Ивана")
    latin = rows.collect(author, title="Birthday cake", description="for the OFFICE")
    rows.collect(author, title="Свадьба", description="Anna & Boris")

    assert set(_listed(collect_queries, search="ДЕНЬ")) == {in_title.id}
    assert set(_listed(collect_queries, search="рождения")) == {in_title.id, in_description.id}
    assert set(_listed(collect_queries, search="РОЖДЕНИЯ")) == {in_title.id, in_description.id}
    assert set(_listed(collect_queries, search="bIrThDaY")) == {latin.id}
    assert set(_listed(collect_queries, search="office")) == {latin.id}
    assert _listed(collect_queries, search="nowhere") == []


@pytest.mark.parametrize(
    ("search", "matching_title"),
    [
        ("100%", "Goal: 100% reached"),
        ("a_b", "file a_b"),
        ("wow!", "wow! again"),
        ("!%", "odd !% pair"),
        ("it's", "it's John's"),
        ('"quoted"', 'a "quoted" word'),
        ("back\\slash", "back\\slash"),
    ],
)
def test_search_matches_wildcards_escapes_and_quotes_literally(
    rows: Rows, collect_queries: SqlCollectQueries, search: str, matching_title: str
):
    author = rows.user()
    titles = [
        "Goal: 100% reached",
        "Goal: 1000 reached",
        "file a_b",
        "file axb",
        "wow! again",
        "wow again",
        "odd !% pair",
        "odd !x pair",
        "it's John's",
        "its Johns",
        'a "quoted" word',
        "a quoted word",
        "back\\slash",
        "backslash",
    ]
    by_title = {title: rows.collect(author, title=title).id for title in titles}

    assert _listed(collect_queries, search=search) == [by_title[matching_title]]


def test_the_list_is_combined_with_search(rows: Rows, collect_queries: SqlCollectQueries):
    anna, boris = rows.user(), rows.user()
    wanted = rows.collect(anna, title="Office party", occasion=Occasion.NEW_YEAR)
    rows.collect(boris, title="Office party", occasion=Occasion.NEW_YEAR)
    rows.collect(anna, title="Office party", occasion=Occasion.OTHER)
    rows.collect(anna, title="Home party", occasion=Occasion.NEW_YEAR)

    found = _listed(collect_queries, search="office", author_id=anna.id, occasion=Occasion.NEW_YEAR)

    assert found == [wanted.id]


# --- the list: orderings and pages -------------------------------------------------------------

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

# What each ordering means, as the in-memory fake of the unit tests reads it: an open-ended
# collect (no end date) ends after every dated one; the id breaks every tie.
_SORT_KEYS: dict[str, Callable[[Collect], Any]] = {
    "created_at": lambda c: (c.created_at, c.id),
    "end_date": lambda c: (c.end_date or _FAR_FUTURE, c.id),
    "collected_amount": lambda c: (c.collected, c.id),
}


@pytest.mark.parametrize("ordering", list(CollectOrdering))
def test_every_ordering_breaks_ties_by_id(
    rows: Rows,
    collect_queries: SqlCollectQueries,
    uow_factory: UowFactory,
    ordering: CollectOrdering,
):
    author, payer = rows.user(), rows.user()
    later, latest = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    end_soon, end_late = NOW + timedelta(days=1), NOW + timedelta(days=2)
    specs = [
        # (created_at, end_date, donation)
        (NOW, end_late, "5.00"),
        (later, end_soon, None),
        (NOW, None, "5.00"),
        (latest, end_late, "1.00"),
        (NOW, end_soon, None),
        (later, None, "5.00"),
        (latest, end_soon, "1.00"),
        (NOW, end_late, None),
    ]
    made = []
    for created_at, end_date, amount in specs:
        collect = rows.collect(author, created_at=created_at, end_date=end_date)
        if amount:
            rows.donation(collect, payer, amount)
        made.append(collect)
    with uow_factory() as uow:
        stored = [uow.collects.get(collect.id) for collect in made]

    expected = sorted(stored, key=_SORT_KEYS[ordering.field], reverse=ordering.descending)
    page = collect_queries.list(CollectFilter(ordering=ordering), PageRequest.of(1, 100))

    assert _ids(page.items) == _ids(expected)
    pages = [
        collect_queries.list(CollectFilter(ordering=ordering), PageRequest.of(n, 3))
        for n in (1, 2, 3)
    ]
    assert [_ids(p.items) for p in pages] == [
        _ids(expected[0:3]),
        _ids(expected[3:6]),
        _ids(expected[6:8]),
    ]


def test_the_default_order_is_newest_first(rows: Rows, collect_queries: SqlCollectQueries):
    author = rows.user()
    old = rows.collect(author, created_at=NOW - timedelta(days=1))
    tie_a = rows.collect(author)
    tie_b = rows.collect(author)

    assert _listed(collect_queries) == [tie_b.id, tie_a.id, old.id]


def test_pages_count_everything_and_a_page_past_the_end_is_empty(
    rows: Rows, collect_queries: SqlCollectQueries
):
    author = rows.user()
    made = [rows.collect(author).id for _ in range(5)]
    newest_first = made[::-1]

    def page(number: int, size: int) -> tuple[int, list[int], bool, bool]:
        found = collect_queries.list(CollectFilter(), PageRequest.of(number, size))
        return found.count, _ids(found.items), found.has_next, found.has_previous

    assert page(1, 2) == (5, newest_first[0:2], True, False)
    assert page(2, 2) == (5, newest_first[2:4], True, True)
    assert page(3, 2) == (5, newest_first[4:5], False, True)
    assert page(4, 2) == (5, [], False, True)
    assert page(1, 100) == (5, newest_first, False, False)
    assert page(1, 1000)[1] == newest_first  # clamped to 100


def test_a_list_item_carries_every_field(rows: Rows, collect_queries: SqlCollectQueries):
    author = rows.user("ivan", first_name="Иван", last_name="Петров")
    end = NOW + timedelta(days=3)
    collect = rows.collect(
        author,
        title="Юбилей",
        description="50 лет",
        occasion=Occasion.BIRTHDAY,
        goal=Money.of("1000.00"),
        end_date=end,
    )
    rows.donation(collect, rows.user(), "125.50")
    rows.donation(collect, rows.user(), "125.00", visibility=DonationVisibility.ANONYMOUS)

    (item,) = collect_queries.list(CollectFilter(), PageRequest.of()).items

    assert item == CollectView(
        id=collect.id,
        title="Юбилей",
        occasion=Occasion.BIRTHDAY,
        description="50 лет",
        goal_amount=Money.of("1000.00"),
        collected_amount=Money.of("250.50"),
        donors_count=2,
        donations_count=2,
        progress=Decimal("25.1"),  # 25.05 rounded half up
        start_date=NOW,
        end_date=end,
        is_active=True,
        created_by=author.id,
        author_name="Иван Петров",
        cover_image=None,
        cover_status=CoverStatus.NONE,
        created_at=NOW,
        updated_at=NOW,
        blocked=False,
        cancelled=False,
        visibility=Visibility.PUBLIC,
        hidden_from=frozenset(),
        suggested_amount=None,
        participants_count=0,  # rows made directly, without members
    )
    assert item.created_at.tzinfo == UTC and item.created_at.microsecond == NOW.microsecond


def test_the_author_name_falls_back_to_the_username(rows: Rows, collect_queries: SqlCollectQueries):
    rows.collect(rows.user("nameless"))
    rows.collect(rows.user("half", last_name="Only"))

    names = [
        item.author_name for item in collect_queries.list(CollectFilter(), PageRequest.of()).items
    ]

    assert names == ["Only", "nameless"]


# --- detail and feed ---------------------------------------------------------------------------


def _spread_payments(rows: Rows, collect: Collect, payer: User) -> list[tuple[datetime, str]]:
    """25 completed payments, some sharing a time, plus pending and failed ones that never show."""
    made = []
    for number in range(25):
        at = NOW - timedelta(minutes=number // 3)  # three payments per minute: ties by id
        amount = f"{number + 1}.00"
        rows.donation(collect, payer, amount, at=at)
        made.append((at, amount))
    rows.payment_row(collect, payer, "999.00", status=PaymentStatus.PENDING, at=NOW + timedelta(1))
    rows.payment_row(collect, payer, "998.00", status=PaymentStatus.FAILED, at=NOW + timedelta(1))
    # newest first; among equal times the later insert (higher id) first
    order = sorted(range(len(made)), key=lambda index: (made[index][0], index), reverse=True)
    return [made[index] for index in order]


def _entries(feed: Any) -> list[tuple[datetime, str]]:
    return [(entry.payment_date, str(entry.amount)) for entry in feed]


def test_the_detail_embeds_the_twenty_newest_completed_payments(
    rows: Rows, collect_queries: SqlCollectQueries
):
    collect = rows.collect(rows.user(), goal=Money.of("500.00"))
    expected = _spread_payments(rows, collect, rows.user("payer", first_name="Пётр"))

    detail = collect_queries.detail(collect.id)

    assert detail is not None
    assert len(detail.payments) == FEED_IN_DETAIL
    assert _entries(detail.payments) == expected[:FEED_IN_DETAIL]
    assert _entries(detail.payments)[:3] == [(NOW, "3.00"), (NOW, "2.00"), (NOW, "1.00")]
    assert {entry.donor_name for entry in detail.payments} == {"Пётр"}
    assert detail.collect.collected_amount == Money.of("325.00")  # 1 + 2 + … + 25
    assert detail.collect.donations_count == 25
    assert detail.collect.donors_count == 1
    assert str(detail.collect.progress) == "65.0"


def test_the_detail_of_a_collect_without_payments(rows: Rows, collect_queries: SqlCollectQueries):
    author = rows.user()
    collect = rows.collect(author, title="Empty")
    rows.payment_row(collect, author, status=PaymentStatus.PENDING)

    detail = collect_queries.detail(collect.id)

    assert detail is not None
    assert detail.payments == ()
    assert detail.collect.id == collect.id and detail.collect.title == "Empty"


def test_unknown_collects_have_no_detail_and_no_feed(collect_queries: SqlCollectQueries):
    assert collect_queries.detail(999_999) is None
    assert collect_queries.access_and_detail(999_999) is None
    assert collect_queries.feed(999_999, PageRequest.of()) is None


def test_access_and_detail_are_read_together_on_one_connection(
    rows: Rows, collect_queries: SqlCollectQueries, engine: Engine
):
    author, member = rows.user(), rows.user("member")
    collect = rows.collect(author, title="Вместе")
    rows.donation(collect, member, "15.00")  # a donor takes part
    checkouts: list[object] = []

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    event.listen(engine, "checkout", checked_out)
    try:
        found = collect_queries.access_and_detail(collect.id)
    finally:
        event.remove(engine, "checkout", checked_out)
    assert len(checkouts) == 1  # one connection, so one transaction, for the pair
    assert found == (collect_queries.access(collect.id), collect_queries.detail(collect.id))
    access, detail = found
    assert access.admits(member.id) and detail.collect.title == "Вместе"


def test_the_feed_pages_through_completed_payments_newest_first(
    rows: Rows, collect_queries: SqlCollectQueries
):
    collect = rows.collect(rows.user())
    expected = _spread_payments(rows, collect, rows.user())

    pages = [
        collect_queries.feed(collect.id, PageRequest.of(number, 10)) for number in (1, 2, 3, 4)
    ]

    assert all(page is not None and page.count == 25 for page in pages)
    assert [_entries(page.items) for page in pages if page] == [
        expected[0:10],
        expected[10:20],
        expected[20:25],
        [],
    ]
    assert pages[0] is not None and pages[0].has_next and not pages[0].has_previous
    assert pages[2] is not None and not pages[2].has_next


def test_the_feed_of_a_collect_without_payments_is_an_empty_first_page(
    rows: Rows, collect_queries: SqlCollectQueries
):
    collect = rows.collect(rows.user())

    page = collect_queries.feed(collect.id, PageRequest.of())

    assert page is not None and (page.count, list(page.items)) == (0, [])


def test_donor_names(rows: Rows, collect_queries: SqlCollectQueries, engine: Engine):
    collect = rows.collect(rows.user())
    named = rows.user("ivan", first_name="Иван", last_name="Петров")
    plain = rows.user("plain_user")
    gone = rows.user("gone", first_name="Gone", last_name="Away")
    rows.donation(collect, named, "1.00", at=NOW - timedelta(minutes=5))
    rows.donation(
        collect,
        named,
        "2.00",
        visibility=DonationVisibility.ANONYMOUS,
        at=NOW - timedelta(minutes=4),
    )
    rows.donation(collect, plain, "3.00", at=NOW - timedelta(minutes=3))
    gone_payment = rows.donation(collect, gone, "4.00", at=NOW - timedelta(minutes=2))

    with engine.begin() as connection:
        connection.execute(delete(users).where(users.c.id == gone.id))
    with engine.connect() as connection:
        payer_id = connection.execute(
            select(payments.c.payer_id).where(payments.c.id == gone_payment.id)
        ).scalar_one()

    detail = collect_queries.detail(collect.id)
    feed = collect_queries.feed(collect.id, PageRequest.of())

    assert payer_id is None  # ON DELETE SET NULL kept the payment
    expected = [ANONYMOUS, "plain_user", ANONYMOUS, "Иван Петров"]
    assert detail is not None and [entry.donor_name for entry in detail.payments] == expected
    assert feed is not None and [entry.donor_name for entry in feed.items] == expected
    assert [str(entry.amount) for entry in detail.payments] == ["4.00", "3.00", "2.00", "1.00"]


# --- my payments -------------------------------------------------------------------------------


def test_my_payments_are_every_status_newest_first(rows: Rows, payment_queries: SqlPaymentQueries):
    me, someone = rows.user(), rows.user()
    first, second = rows.collect(someone), rows.collect(someone)
    old = rows.donation(first, me, "1.00", at=NOW - timedelta(days=1))
    tie_a = rows.donation(second, me, "2.00")
    pending = rows.payment_row(first, me, "3.00", status=PaymentStatus.PENDING)
    failed = rows.payment_row(second, me, "4.00", status=PaymentStatus.FAILED)
    newest = rows.payment_row(
        first, me, "5.00", status=PaymentStatus.COMPLETED, at=NOW + timedelta(1)
    )
    rows.donation(first, someone, "6.00")  # not mine

    page = payment_queries.of_payer(me.id, PageRequest.of())

    assert page.count == 5
    assert _ids(page.items) == [newest, failed, pending, tie_a.id, old.id]
    assert [item.status for item in page.items] == [
        PaymentStatus.COMPLETED,
        PaymentStatus.FAILED,
        PaymentStatus.PENDING,
        PaymentStatus.COMPLETED,
        PaymentStatus.COMPLETED,
    ]
    mine = page.items[3]
    assert (mine.collect, mine.amount, mine.transaction_id) == (
        second.id,
        Money.of("2.00"),
        tie_a.transaction_id,
    )
    assert mine.payment_date == NOW and mine.payment_date.tzinfo == UTC


def test_my_payments_page_and_end(rows: Rows, payment_queries: SqlPaymentQueries):
    me = rows.user()
    collect = rows.collect(rows.user())
    made = [rows.donation(collect, me, f"{n + 1}.00").id for n in range(5)]

    def ids(number: int) -> list[int]:
        return _ids(payment_queries.of_payer(me.id, PageRequest.of(number, 2)).items)

    assert [ids(1), ids(2), ids(3), ids(4)] == [made[4:2:-1], made[2:0:-1], made[0:1], []]
    assert payment_queries.of_payer(999_999, PageRequest.of()).count == 0


# --- a constant number of statements per page --------------------------------------------------


def _count(statements: StatementCounter, read: Callable[[], object]) -> int:
    with statements.recording() as seen:
        read()
    return len(seen)


def test_a_list_page_costs_the_same_statements_whatever_its_size(
    rows: Rows, collect_queries: SqlCollectQueries, statements: StatementCounter
):
    payer = rows.user()
    for number in range(101):
        collect = rows.collect(rows.user(first_name=f"Author {number}"))  # 101 distinct authors
        rows.donation(collect, payer, "1.00")

    one = _count(statements, lambda: collect_queries.list(CollectFilter(), PageRequest.of(1, 1)))
    full = _count(statements, lambda: collect_queries.list(CollectFilter(), PageRequest.of(1, 100)))
    searched = _count(
        statements,
        lambda: collect_queries.list(
            CollectFilter(search="a", is_active=True), PageRequest.of(2, 100)
        ),
    )

    assert one == full == searched
    assert full <= 3


def test_a_detail_costs_the_same_statements_with_0_or_50_payments(
    rows: Rows, collect_queries: SqlCollectQueries, statements: StatementCounter
):
    author = rows.user()
    empty, busy = rows.collect(author), rows.collect(author)
    for _ in range(50):
        rows.donation(busy, rows.user(), "1.00")  # 50 distinct payers, each named in the feed

    without = _count(statements, lambda: collect_queries.detail(empty.id))
    with_50 = _count(statements, lambda: collect_queries.detail(busy.id))

    assert without == with_50
    assert with_50 <= 2


def test_a_feed_page_and_my_payments_cost_the_same_statements_whatever_their_size(
    rows: Rows,
    collect_queries: SqlCollectQueries,
    payment_queries: SqlPaymentQueries,
    statements: StatementCounter,
):
    me = rows.user()
    collect = rows.collect(rows.user())
    for _ in range(100):
        rows.donation(collect, rows.user(), "1.00")
    for _ in range(100):
        rows.donation(collect, me, "2.00")

    feed_1 = _count(statements, lambda: collect_queries.feed(collect.id, PageRequest.of(1, 1)))
    feed_100 = _count(statements, lambda: collect_queries.feed(collect.id, PageRequest.of(2, 100)))
    mine_1 = _count(statements, lambda: payment_queries.of_payer(me.id, PageRequest.of(1, 1)))
    mine_100 = _count(statements, lambda: payment_queries.of_payer(me.id, PageRequest.of(1, 100)))

    assert feed_1 == feed_100 <= 3
    assert mine_1 == mine_100 <= 3
