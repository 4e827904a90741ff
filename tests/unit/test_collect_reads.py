"""Collect use cases that read: the detail, the list (filters, ordering, pages) and the feed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundraising.application.errors import NotFound, ValidationFailed
from fundraising.application.pagination import MAX_PAGE_SIZE, PageRequest
from fundraising.application.ports.queries import CollectFilter, CollectOrdering
from fundraising.application.use_cases.payments import Donation
from fundraising.domain.collect import Occasion
from fundraising.domain.money import Money
from fundraising.domain.payment import DonationVisibility, Payment, PaymentStatus
from tests.unit.collect_use_case_helpers import change


def ids(page) -> list[int]:
    return [view.id for view in page.items]


def list_ids(core, page: PageRequest | None = None, **filters: object) -> list[int]:
    return ids(core.list_collects(CollectFilter(**filters), page or PageRequest.of(1, 100)))


# get


def test_get_of_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        core.get_collect(999)


def test_the_detail_embeds_the_newest_20_payments_newest_first(core):
    ivan, olga = core.user("ivan"), core.user("olga", "Ольга", "Ли")
    created = core.collect(ivan).collect
    for amount in range(1, 26):
        core.clock.advance(minutes=1)
        core.give(olga, created.id, f"{amount}.00")
    detail = core.get_collect(created.id)
    assert [entry.amount for entry in detail.payments] == [
        Money.of(f"{amount}.00") for amount in range(25, 5, -1)
    ]
    assert detail.payments[0].payment_date == core.clock.now()
    assert {entry.donor_name for entry in detail.payments} == {"Ольга Ли"}
    assert detail.collect.donations_count == 25


def test_the_detail_breaks_payment_time_ties_by_newest_id(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    for amount in ("1.00", "2.00", "3.00"):
        core.give(ivan, created.id, amount)
    assert [e.amount for e in core.get_collect(created.id).payments] == [
        Money.of("3.00"),
        Money.of("2.00"),
        Money.of("1.00"),
    ]


def test_the_feed_shows_anonymous_and_vanished_donors_as_anonymous(core):
    ivan, olga, petr = core.user("ivan"), core.user("olga"), core.user("petr")
    created = core.collect(ivan).collect
    core.donate(Donation(olga.id, created.id, Money.of("5.00"), "anon-1", is_anonymous=True))
    core.give(petr, created.id, "7.00")
    del core.db.users[petr.id]
    assert [e.donor_name for e in core.get_collect(created.id).payments] == [
        "Anonymous",
        "Anonymous",
    ]


def test_the_feed_hides_what_each_donor_chose_and_shows_every_wish(core):
    ivan, olga, petr, anna = (core.user(name) for name in ("ivan", "olga", "petr", "anna"))
    created = core.collect(ivan).collect
    chosen = [
        (olga, "5.00", DonationVisibility.HIDE_AMOUNT, "Счастья!"),
        (petr, "7.00", DonationVisibility.ANONYMOUS, "Здоровья!"),
        (anna, "9.00", DonationVisibility.PUBLIC, None),
    ]
    for n, (donor, amount, visibility, wish) in enumerate(chosen):
        core.donate(
            Donation(
                donor.id,
                created.id,
                Money.of(amount),
                f"tx-{n}",
                visibility=visibility,
                comment=wish,
            )
        )

    shown = sorted(
        (e.donor_name, e.amount, e.comment)
        for e in core.list_feed(created.id, PageRequest.of()).items
    )

    assert shown == [
        ("Anonymous", Money.of("7.00"), "Здоровья!"),
        ("anna", Money.of("9.00"), None),
        ("olga", None, "Счастья!"),
    ]


def test_the_feed_leaves_out_payments_that_are_not_completed(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    core.uow().payments.insert(
        Payment(
            id=None,
            collect_id=created.id,
            payer_id=ivan.id,
            amount=Money.of("5.00"),
            status=PaymentStatus.FAILED,
            transaction_id="failed-1",
            payment_date=core.clock.now(),
        )
    )
    assert core.get_collect(created.id).payments == ()
    assert core.list_feed(created.id, PageRequest.of()).count == 0


# list: filters


@pytest.fixture
def catalogue(core):
    """Four collects by two authors: occasions, activity and texts to filter on."""
    ivan, olga = core.user("ivan"), core.user("olga")
    made = {
        "gift": core.collect(
            ivan, title="Gift for Anna", occasion=Occasion.BIRTHDAY, description="Flowers"
        ),
        "wedding": core.collect(olga, title="Wedding", occasion=Occasion.WEDDING),
        "party": core.collect(ivan, title="New year party", description="A BIG cake"),
        "closed": core.collect(olga, title="Old birthday", occasion=Occasion.BIRTHDAY),
    }
    change(core, made["closed"].collect.id, olga.id, is_active=False)
    ids_by_name = {name: detail.collect.id for name, detail in made.items()}
    return ivan, olga, ids_by_name


def test_list_shows_every_collect_newest_first_by_default(core, catalogue):
    _, _, made = catalogue
    assert list_ids(core) == sorted(made.values(), reverse=True)


def test_list_filters_by_occasion(core, catalogue):
    _, _, made = catalogue
    assert list_ids(core, occasion=Occasion.BIRTHDAY) == [made["closed"], made["gift"]]


def test_list_filters_by_activity(core, catalogue):
    _, _, made = catalogue
    assert list_ids(core, is_active=False) == [made["closed"]]
    assert made["closed"] not in list_ids(core, is_active=True)


def test_list_filters_by_author(core, catalogue):
    ivan, _, made = catalogue
    assert list_ids(core, author_id=ivan.id) == [made["party"], made["gift"]]


@pytest.mark.parametrize("search", ["cake", "CAKE", "big Cake", "new YEAR"])
def test_list_searches_title_and_description_ignoring_case(core, catalogue, search):
    _, _, made = catalogue
    assert list_ids(core, search=search) == [made["party"]]


def test_list_combines_filters(core, catalogue):
    _, olga, made = catalogue
    assert list_ids(core, author_id=olga.id, occasion=Occasion.BIRTHDAY, is_active=False) == [
        made["closed"]
    ]
    assert list_ids(core, author_id=olga.id, search="anna") == []


# list: ordering


@pytest.fixture
def ordered(core):
    """c1..c4 with ties on every ordering field, so that the id must break them."""
    ivan, olga = core.user("ivan"), core.user("olga")
    start = core.clock.now()

    def make(end_in_days: int) -> int:
        end = start + timedelta(days=end_in_days)
        return core.collect(ivan, end_date=end).collect.id

    c1 = make(3)
    core.clock.advance(hours=1)
    c2, c3 = make(1), make(3)
    core.clock.advance(hours=1)
    c4 = make(2)
    core.give(olga, c1, "100.00")
    core.give(olga, c2, "300.00")
    core.give(olga, c3, "100.00")
    return c1, c2, c3, c4


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (CollectOrdering.CREATED_AT, (1, 2, 3, 4)),
        (CollectOrdering.CREATED_AT_DESC, (4, 3, 2, 1)),
        (CollectOrdering.END_DATE, (2, 4, 1, 3)),
        (CollectOrdering.END_DATE_DESC, (3, 1, 4, 2)),
        (CollectOrdering.COLLECTED_AMOUNT, (4, 1, 3, 2)),
        (CollectOrdering.COLLECTED_AMOUNT_DESC, (2, 3, 1, 4)),
    ],
)
def test_list_orders_with_the_id_breaking_ties(core, ordered, ordering, expected):
    assert list_ids(core, ordering=ordering) == [ordered[n - 1] for n in expected]


def test_ordering_names_its_field_and_direction():
    assert CollectOrdering("-collected_amount").field == "collected_amount"
    assert CollectOrdering("-collected_amount").descending
    assert not CollectOrdering("end_date").descending


def test_an_unknown_ordering_is_not_an_ordering():
    with pytest.raises(ValueError, match="is not a valid CollectOrdering"):
        CollectOrdering("title")


# list: pagination


def test_page_one_of_an_empty_list_exists(core):
    page = core.list_collects(CollectFilter(), PageRequest.of())
    assert (page.items, page.count, page.number) == ([], 0, 1)
    assert not page.has_next
    assert not page.has_previous


def test_a_page_past_the_end_is_not_found(core):
    ivan = core.user()
    for _ in range(10):
        core.collect(ivan)
    assert len(ids(core.list_collects(CollectFilter(), PageRequest.of(1, 10)))) == 10
    with pytest.raises(NotFound):
        core.list_collects(CollectFilter(), PageRequest.of(2, 10))


def test_the_last_page_holds_the_rest(core):
    ivan = core.user()
    made = [core.collect(ivan).collect.id for _ in range(15)]
    first = core.list_collects(CollectFilter(), PageRequest.of(1, 10))
    last = core.list_collects(CollectFilter(), PageRequest.of(2, 10))
    assert ids(first) + ids(last) == made[::-1]
    assert (first.has_next, first.has_previous) == (True, False)
    assert (last.has_next, last.has_previous) == (False, True)
    assert last.count == 15


@pytest.mark.parametrize("page", [0, -1])
def test_a_page_below_one_is_not_found(page):
    with pytest.raises(NotFound):
        PageRequest.of(page)


@pytest.mark.parametrize("size", [0, -5])
def test_a_page_size_below_one_is_invalid(size):
    with pytest.raises(ValidationFailed) as raised:
        PageRequest.of(1, size)
    assert [e.field for e in raised.value.errors] == ["page_size"]


def test_the_page_size_defaults_to_10_and_is_clamped_to_100():
    assert PageRequest.of().size == 10
    assert PageRequest.of(1, 1000).size == MAX_PAGE_SIZE == 100
    assert PageRequest.of(3, 20).offset == 40


# the feed


def test_the_feed_pages_through_completed_payments_newest_first(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    for amount in range(1, 13):
        core.clock.advance(seconds=1)
        core.give(ivan, created.id, f"{amount}.00")
    second = core.list_feed(created.id, PageRequest.of(2, 5))
    assert [e.amount for e in second.items] == [Money.of(f"{a}.00") for a in (7, 6, 5, 4, 3)]
    assert second.count == 12


def test_the_feed_of_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        core.list_feed(999, PageRequest.of())


def test_an_empty_feed_has_page_one_but_no_page_two(core):
    created = core.collect(core.user()).collect
    assert core.list_feed(created.id, PageRequest.of()).items == []
    with pytest.raises(NotFound):
        core.list_feed(created.id, PageRequest.of(2))
