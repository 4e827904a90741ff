"""GET /api/v1/collects/: detail, list (filters, ordering, pages), a collect's feed, exact sums."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar.testing import TestClient

from fundraising.container import Container
from fundraising.domain.collect import Collect, Occasion
from tests.e2e.collect_helpers import (
    BASE,
    COLLECTS,
    LIST_FIELDS,
    MISSING_IDS,
    MakeAccount,
    collect_of,
    listing,
    tag,
    url,
)
from tests.e2e.conftest import assert_problem, check_each, create_collect, donate, iso, utc
from tests.fakes import FixedClock

FEED_FIELDS = {"amount", "payment_date", "donor_name", "comment"}


def titles(page: dict[str, Any]) -> list[str]:
    return [item["title"] for item in page["results"]]


# --- get ---


def test_detail_embeds_the_newest_20_payments_newest_first(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account("Пётр", "Сидоров")
    collect_id = create_collect(client, author)
    for amount in range(1, 26):
        assert donate(client, donor, collect_id, f"{amount}.00").status_code == 201
    detail = collect_of(client, author, collect_id)
    assert detail["donations_count"] == 25
    assert detail["collected_amount"] == "325.00"
    feed = detail["payments"]
    assert len(feed) == 20
    # the clock stands still: equal payment dates, so the newest (highest id) come first
    assert [entry["amount"] for entry in feed] == [f"{n}.00" for n in range(25, 5, -1)]
    for entry in feed:
        assert set(entry) == FEED_FIELDS
        assert entry["donor_name"] == "Пётр Сидоров"
        utc(entry["payment_date"])


def test_anonymous_donations_show_as_anonymous(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account("Тайный", "Друг")
    collect_id = create_collect(client, author)
    assert donate(client, donor, collect_id, "10", is_anonymous=True).status_code == 201
    assert donate(client, donor, collect_id, "20").status_code == 201
    names = [entry["donor_name"] for entry in collect_of(client, author, collect_id)["payments"]]
    assert names == ["Тайный Друг", "Anonymous"]
    assert "Тайный" not in str(collect_of(client, author, collect_id)["payments"][1])


def test_the_feed_shows_the_wish_but_never_email_transaction_or_metadata(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author)
    paid = donate(client, donor, collect_id, "10", comment="пожелание", metadata={"card": "4111"})
    assert paid.status_code == 201
    for path in (url(collect_id), f"{url(collect_id)}payments/"):
        text = client.get(path, headers=author.headers).text
        assert "пожелание" in text
        for secret in (paid.json()["transaction_id"], "example.com", "4111"):
            assert secret not in text


def test_detail_of_a_missing_id_is_a_404(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    headers = make_account().headers
    check_each(MISSING_IDS, lambda i: assert_problem(client.get(url(i), headers=headers), 404))


def test_a_deleted_collect_is_a_404(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    assert client.delete(url(collect_id), headers=author.headers).status_code == 204
    assert_problem(client.get(url(collect_id), headers=author.headers), 404)


# --- list ---


def test_list_pages_carry_count_and_absolute_links(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    ids = [create_collect(client, author) for _ in range(3)]
    first = listing(client, author, author="me", page_size=2)
    assert first["count"] == 3
    assert [item["id"] for item in first["results"]] == ids[::-1][:2]
    assert first["previous"] is None
    assert query_of(first["next"]) == {"author": ["me"], "page_size": ["2"], "page": ["2"]}
    assert set(first["results"][0]) == LIST_FIELDS
    second = client.get(first["next"].removeprefix(BASE), headers=author.headers).json()
    assert [item["id"] for item in second["results"]] == [ids[0]]
    assert second["next"] is None
    assert query_of(second["previous"])["page"] == ["1"]
    back = client.get(second["previous"].removeprefix(BASE), headers=author.headers).json()
    assert back == first


def query_of(link: str) -> dict[str, list[str]]:
    """The query of an absolute link to this service's collect list."""
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    assert parts.path.rstrip("/") == COLLECTS.rstrip("/")
    return parse_qs(parts.query)


def test_page_links_keep_the_path_as_written(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    create_collect(client, author)
    assert donate(client, author, collect_id, "1").status_code == 201
    assert donate(client, author, collect_id, "2").status_code == 201
    page = listing(client, author, author="me", page_size=1)
    assert urlsplit(page["next"]).path == COLLECTS
    feed = client.get(
        f"{url(collect_id)}payments/", params={"page_size": 1}, headers=author.headers
    )
    assert urlsplit(feed.json()["next"]).path == f"{url(collect_id)}payments/"


def test_an_empty_list_is_page_one_with_count_zero(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    page = listing(client, make_account(), author="me")
    assert page == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_page_past_the_end_or_below_one_is_a_404(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    create_collect(client, author)
    create_collect(client, author)

    def missing(page: str) -> None:
        params: dict[str, str | int] = {"author": "me", "page": page, "page_size": 1}
        assert_problem(client.get(COLLECTS, params=params, headers=author.headers), 404)

    check_each(["3", "0", "-1", str(2**70)], missing)


def test_page_size_is_clamped_to_100(
    client: TestClient[Any], make_account: MakeAccount, container: Container, clock: FixedClock
) -> None:
    author = make_account()
    # 101 collects through the app's own repository: 101 POSTs would take seconds
    with container.uow() as uow:
        for number in range(101):
            uow.collects.add(
                Collect.open(
                    author_id=author.id,
                    title=f"bulk {number}",
                    occasion=Occasion.OTHER,
                    description="",
                    goal=None,
                    end_date=None,
                    now=clock.now(),
                    share_key=f"key-{number}",
                )
            )
        uow.commit()
    page = listing(client, author, author="me", page_size=1000)
    assert page["count"] == 101
    assert len(page["results"]) == 100
    assert page["next"] is not None
    assert len(listing(client, author, author="me")["results"]) == 10  # the default size


def test_a_bad_query_parameter_is_a_400_naming_it(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    headers = make_account().headers

    def rejected(case: tuple[dict[str, str], str]) -> None:
        params, field = case
        assert_problem(client.get(COLLECTS, params=params, headers=headers), 400, field)

    check_each(
        [
            ({"page": "abc"}, "page"),
            ({"page": "1.5"}, "page"),
            ({"page": ""}, "page"),
            ({"page_size": "abc"}, "page_size"),
            ({"page_size": "0"}, "page_size"),
            ({"occasion": "funeral"}, "occasion"),
            ({"ordering": "title"}, "ordering"),
            ({"ordering": "-id"}, "ordering"),
            ({"ordering": "created_at,id"}, "ordering"),
            ({"is_active": "maybe"}, "is_active"),
            ({"author": "someone"}, "author"),
            ({"author": "-5"}, "author"),
        ],
        rejected,
    )


def test_filter_by_occasion(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    create_collect(client, author, title="ДР", occasion="birthday")
    create_collect(client, author, title="Свадьба", occasion="wedding")
    create_collect(client, author, title="Ёлка", occasion="new_year")
    create_collect(client, author, title="Прочее")
    for occasion, expected in [
        ("birthday", ["ДР"]),
        ("wedding", ["Свадьба"]),
        ("new_year", ["Ёлка"]),
        ("other", ["Прочее"]),
    ]:
        assert titles(listing(client, author, author="me", occasion=occasion)) == expected


def test_filter_by_is_active(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    open_id = create_collect(client, author, title="open")
    closed_id = create_collect(client, author, title="closed")
    patched = client.patch(url(closed_id), json={"is_active": False}, headers=author.headers)
    assert patched.status_code == 200, patched.text
    assert titles(listing(client, author, author="me", is_active="false")) == ["closed"]
    assert titles(listing(client, author, author="me", is_active="true")) == ["open"]
    assert {item["id"] for item in listing(client, author, author="me")["results"]} == {
        open_id,
        closed_id,
    }


def test_filter_by_author(client: TestClient[Any], make_account: MakeAccount) -> None:
    me = make_account()
    other = make_account()
    create_collect(client, me, title="mine")
    create_collect(client, other, title="theirs")
    assert titles(listing(client, me, author="me")) == ["mine"]
    assert titles(listing(client, other, author="me")) == ["theirs"]
    assert titles(listing(client, me, author=str(other.id))) == ["theirs"]
    assert listing(client, me, author=str(2**62))["count"] == 0


def test_search_is_case_insensitive_in_title_and_description(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    marker = tag()
    create_collect(client, author, title=f"Подарок ДЛЯ Ивана {marker}")
    create_collect(client, author, title=f"Other {marker}", description="A gift for ÉMILE")
    create_collect(client, author, title="Unrelated")
    assert titles(listing(client, author, author="me", search="для ивана")) == [
        f"Подарок ДЛЯ Ивана {marker}"
    ]
    assert titles(listing(client, author, author="me", search="ПОДАРОК")) == [
        f"Подарок ДЛЯ Ивана {marker}"
    ]
    assert titles(listing(client, author, author="me", search="gift FOR")) == [f"Other {marker}"]
    assert titles(listing(client, author, author="me", search="émile")) == [f"Other {marker}"]
    assert listing(client, author, search=marker.upper())["count"] == 2
    assert listing(client, author, author="me", search="nothing like it")["count"] == 0


def test_percent_and_underscore_in_search_are_literal(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    create_collect(client, author, title="100% fun")
    create_collect(client, author, title="100 fun")
    create_collect(client, author, title="a_b")
    create_collect(client, author, title="axb")
    create_collect(client, author, title="back\\slash")
    assert titles(listing(client, author, author="me", search="%")) == ["100% fun"]
    assert titles(listing(client, author, author="me", search="0%")) == ["100% fun"]
    assert titles(listing(client, author, author="me", search="_")) == ["a_b"]
    assert titles(listing(client, author, author="me", search="a_b")) == ["a_b"]
    assert titles(listing(client, author, author="me", search="\\")) == ["back\\slash"]


def test_filters_combine(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    marker = tag()
    create_collect(client, author, title=f"ДР {marker}", occasion="birthday")
    create_collect(client, author, title=f"Свадьба {marker}", occasion="wedding")
    create_collect(client, author, title="ДР без метки", occasion="birthday")
    page = listing(client, author, author="me", occasion="birthday", search=marker)
    assert titles(page) == [f"ДР {marker}"]


def test_ordering(client: TestClient[Any], make_account: MakeAccount, clock: FixedClock) -> None:
    author = make_account()
    donor = make_account()
    now = clock.now()
    specs = [("b", 3, "30.00"), ("a", 1, "50.00"), ("c", 2, "10.00")]
    ids = {}
    for title, days, amount in specs:
        ids[title] = create_collect(
            client, author, title=title, end_date=iso(now + timedelta(days=days))
        )
        assert donate(client, donor, ids[title], amount).status_code == 201
        clock.advance(seconds=1)
    expected = {
        "created_at": ["b", "a", "c"],
        "-created_at": ["c", "a", "b"],
        "end_date": ["a", "c", "b"],
        "-end_date": ["b", "c", "a"],
        "collected_amount": ["c", "b", "a"],
        "-collected_amount": ["a", "b", "c"],
    }
    for ordering, order in expected.items():
        assert titles(listing(client, author, author="me", ordering=ordering)) == order, ordering
    assert titles(listing(client, author, author="me")) == expected["-created_at"]


def test_newest_first_breaks_ties_by_id(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    ids = [create_collect(client, author) for _ in range(4)]  # the clock stands still
    assert [item["id"] for item in listing(client, author, author="me")["results"]] == ids[::-1]
    assert [
        item["id"]
        for item in listing(client, author, author="me", ordering="created_at")["results"]
    ] == ids


def test_list_items_carry_counters_and_progress(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author, goal_amount="300")
    for amount in ("100", "150.55", "200"):
        assert donate(client, donor, collect_id, amount).status_code == 201
    assert donate(client, author, collect_id, "1").status_code == 201
    item = listing(client, author, author="me")["results"][0]
    assert item["collected_amount"] == "451.55"
    assert (item["donations_count"], item["donors_count"]) == (4, 2)
    assert item["progress"] == 150.5  # may exceed 100


# --- a collect's feed ---


def test_feed_is_paginated_newest_first(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author)
    for amount in range(1, 6):
        assert donate(client, donor, collect_id, amount).status_code == 201
    path = f"{url(collect_id)}payments/"
    first = client.get(path, params={"page_size": 2}, headers=author.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["count"] == 5
    assert [entry["amount"] for entry in page["results"]] == ["5.00", "4.00"]
    assert set(page["results"][0]) == FEED_FIELDS
    assert page["previous"] is None
    assert page["next"].startswith(f"{BASE}{path.rstrip('/')}")
    last = client.get(path, params={"page_size": 2, "page": 3}, headers=author.headers).json()
    assert [entry["amount"] for entry in last["results"]] == ["1.00"]
    assert last["next"] is None
    assert last["previous"].startswith(f"{BASE}{path.rstrip('/')}")
    assert_problem(
        client.get(path, params={"page_size": 2, "page": 4}, headers=author.headers), 404
    )
    assert_problem(client.get(path, params={"page": 0}, headers=author.headers), 404)
    assert_problem(client.get(path, params={"page": "x"}, headers=author.headers), 400, "page")


def test_feed_of_a_collect_without_payments_is_empty(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    response = client.get(f"{url(create_collect(client, author))}payments/", headers=author.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_feed_of_a_missing_collect_is_a_404(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    headers = make_account().headers
    check_each(
        MISSING_IDS,
        lambda i: assert_problem(client.get(f"{url(i)}payments/", headers=headers), 404),
    )


def test_sums_are_exact_decimals(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author, goal_amount="0.3")
    for _ in range(3):
        assert donate(client, donor, collect_id, "1.10").status_code == 201
    detail = collect_of(client, author, collect_id)
    assert Decimal(detail["collected_amount"]) == Decimal("3.30")
    assert detail["progress"] == 1100.0
