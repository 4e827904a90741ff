"""/api/v1/collects/: create, read, list (filters, ordering, pages), feed, change, delete."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar.testing import TestClient
from PIL import Image

from fundraising.container import Container
from fundraising.domain.collect import Collect, Occasion
from fundraising.settings import Settings
from tests.e2e.conftest import (
    Account,
    assert_problem,
    check_each,
    create_collect,
    donate,
    image_bytes,
    iso,
    mails,
    text_of,
    utc,
    wait_for,
)
from tests.fakes import FixedClock

MakeAccount = Callable[..., Account]
BASE = "http://testserver.local"
COLLECTS = "/api/v1/collects/"
LIST_FIELDS = {
    "id",
    "title",
    "occasion",
    "description",
    "goal_amount",
    "collected_amount",
    "donors_count",
    "donations_count",
    "progress",
    "start_date",
    "end_date",
    "is_active",
    "status",
    "created_by",
    "author_name",
    "cover_url",
    "cover_status",
    "created_at",
    "updated_at",
}
FEED_FIELDS = {"amount", "payment_date", "donor_name"}


def url(collect_id: int | str) -> str:
    return f"{COLLECTS}{collect_id}/"


def collect_of(client: TestClient[Any], account: Account, collect_id: int) -> dict[str, Any]:
    response = client.get(url(collect_id), headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def listing(client: TestClient[Any], account: Account, **params: Any) -> dict[str, Any]:
    response = client.get(COLLECTS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def titles(page: dict[str, Any]) -> list[str]:
    return [item["title"] for item in page["results"]]


def tag() -> str:
    return uuid.uuid4().hex[:10]


# --- create ---


def test_create_answers_201_with_the_detail_and_a_location(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account("Иван", "Петров")
    response = client.post(COLLECTS, json={"title": "Подарок"}, headers=author.headers)
    assert response.status_code == 201, response.text
    detail = response.json()
    assert set(detail) == LIST_FIELDS | {"payments"}
    assert response.headers["location"] == f"{BASE}{url(detail['id'])}"
    assert isinstance(detail["id"], int) and detail["id"] > 0
    assert detail["title"] == "Подарок"
    assert detail["occasion"] == "other"
    assert detail["description"] == ""
    assert detail["goal_amount"] is None
    assert detail["collected_amount"] == "0.00"
    assert (detail["donors_count"], detail["donations_count"]) == (0, 0)
    assert detail["progress"] is None
    assert detail["end_date"] is None
    assert detail["is_active"] is True
    assert detail["status"] == "open"
    assert detail["created_by"] == author.id
    assert detail["author_name"] == "Иван Петров"
    assert (detail["cover_status"], detail["cover_url"]) == ("none", None)
    assert detail["payments"] == []
    for name in ("start_date", "created_at", "updated_at"):
        utc(detail[name])
    assert collect_of(client, author, detail["id"]) == detail


def test_author_name_is_the_username_without_names(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    assert collect_of(client, author, create_collect(client, author))["author_name"] == (
        author.username
    )
    first_only = make_account("Анна", "")
    assert collect_of(client, first_only, create_collect(client, first_only))["author_name"] == (
        "Анна"
    )


def test_create_with_every_writable_field(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author = make_account()
    end = (clock.now() + timedelta(days=3)).astimezone(timezone(timedelta(hours=3)))
    response = client.post(
        COLLECTS,
        json={
            "title": "  Свадьба Маши  ",
            "occasion": "wedding",
            "description": "На подарок молодым",
            "goal_amount": "5000",
            "end_date": end.isoformat(),
        },
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail["title"] == "Свадьба Маши"
    assert detail["occasion"] == "wedding"
    assert detail["description"] == "На подарок молодым"
    assert detail["goal_amount"] == "5000.00"
    assert detail["progress"] == 0.0
    assert utc(detail["end_date"]) == end


def test_fields_outside_the_writable_set_are_ignored(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    other = make_account()
    response = client.post(
        COLLECTS,
        json={
            "title": "Только заголовок",
            "collected_amount": "999.00",
            "donors_count": 7,
            "donations_count": 9,
            "created_by": other.id,
            "id": 999_999,
            "is_active": False,
            "cover_status": "ready",
            "author_name": "Someone else",
        },
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail["id"] != 999_999
    assert detail["collected_amount"] == "0.00"
    assert (detail["donors_count"], detail["donations_count"]) == (0, 0)
    assert detail["created_by"] == author.id
    assert detail["is_active"] is True
    assert detail["cover_status"] == "none"
    assert detail["author_name"] == author.username


def test_title_of_255_characters_is_accepted(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    title = "Ж" * 255
    response = client.post(COLLECTS, json={"title": title}, headers=author.headers)
    assert response.status_code == 201, response.text
    assert response.json()["title"] == title


def test_description_of_10000_characters_is_accepted(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    response = client.post(
        COLLECTS, json={"title": "t", "description": "д" * 10_000}, headers=author.headers
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["description"]) == 10_000


INVALID_CREATE = [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "Ж" * 256}, "title"),
    ({"title": None}, "title"),
    ({"title": 5}, "title"),
    ({"title": ["t"]}, "title"),
    ({"title": "t", "description": "x" * 10_001}, "description"),
    ({"title": "t", "description": None}, "description"),
    ({"title": "t", "goal_amount": 0}, "goal_amount"),
    ({"title": "t", "goal_amount": "0.00"}, "goal_amount"),
    ({"title": "t", "goal_amount": -1}, "goal_amount"),
    ({"title": "t", "goal_amount": "-1.00"}, "goal_amount"),
    ({"title": "t", "goal_amount": "abc"}, "goal_amount"),
    ({"title": "t", "goal_amount": ""}, "goal_amount"),
    ({"title": "t", "goal_amount": "1.001"}, "goal_amount"),
    ({"title": "t", "goal_amount": 1.001}, "goal_amount"),
    ({"title": "t", "goal_amount": "12345678901"}, "goal_amount"),
    ({"title": "t", "goal_amount": 12345678901}, "goal_amount"),
    ({"title": "t", "goal_amount": "NaN"}, "goal_amount"),
    ({"title": "t", "goal_amount": "Infinity"}, "goal_amount"),
    ({"title": "t", "goal_amount": "-Infinity"}, "goal_amount"),
    ({"title": "t", "goal_amount": True}, "goal_amount"),
    ({"title": "t", "goal_amount": {"amount": 1}}, "goal_amount"),
    ({"title": "t", "end_date": "2000-01-01T00:00:00Z"}, "end_date"),
    ({"title": "t", "end_date": "tomorrow"}, "end_date"),
    ({"title": "t", "end_date": 1893456000}, "end_date"),
    ({"title": "t", "occasion": "funeral"}, "occasion"),
    ({"title": "t", "occasion": "BIRTHDAY"}, "occasion"),
    ({"title": "t", "occasion": None}, "occasion"),
]


def test_create_rejects_each_invalid_field(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    headers = make_account().headers

    def rejected(case: tuple[dict[str, Any], str]) -> None:
        body, field = case
        assert_problem(client.post(COLLECTS, json=body, headers=headers), 400, field)

    check_each(INVALID_CREATE, rejected)


def test_create_names_every_invalid_field_in_one_400(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    response = client.post(
        COLLECTS,
        json={
            "title": "",
            "description": "x" * 10_001,
            "goal_amount": 0,
            "end_date": iso(clock.now() - timedelta(seconds=1)),
            "occasion": "funeral",
        },
        headers=make_account().headers,
    )
    assert_problem(response, 400, "title", "description", "goal_amount", "end_date", "occasion")


def test_end_date_equal_to_now_is_in_the_past(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    response = client.post(
        COLLECTS, json={"title": "t", "end_date": iso(clock.now())}, headers=make_account().headers
    )
    assert_problem(response, 400, "end_date")


def post_raw(client: TestClient[Any], account: Account, body: str) -> Any:
    return client.post(
        COLLECTS,
        content=body.encode(),
        headers={**account.headers, "Content-Type": "application/json"},
    )


def test_money_is_exact_from_a_json_number_or_a_string(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()

    def stored(case: tuple[str, str]) -> None:
        raw, expected = case
        response = post_raw(client, author, f'{{"title": "money", "goal_amount": {raw}}}')
        assert response.status_code == 201, response.text
        assert response.json()["goal_amount"] == expected

    check_each(
        [
            ("150.5", "150.50"),
            ('"150.5"', "150.50"),
            ("150", "150.00"),
            ("1.5e2", "150.00"),
            ('" 7.05 "', "7.05"),
            ("9999999999.99", "9999999999.99"),
            ('"0.01"', "0.01"),
            ("0.10", "0.10"),
        ],
        stored,
    )


def test_money_more_precise_than_a_float_is_rejected(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()

    def rejected(raw: str) -> None:
        response = post_raw(client, author, f'{{"title": "money", "goal_amount": {raw}}}')
        assert_problem(response, 400, "goal_amount")

    check_each(
        [
            "10.0000000000000000001",
            "150.499999999999999999",
            "0.005",
            "1e400",
            "1E-400",
            "-0",
            "10000000000",
            "1e10",
        ],
        rejected,
    )


def test_multipart_create_without_a_cover(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    response = client.post(
        COLLECTS,
        data={"title": "Форма", "occasion": "birthday", "goal_amount": "100.5", "end_date": ""},
        files={"unused": ("a.txt", b"ignored", "text/plain")},
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    detail = response.json()
    assert (detail["title"], detail["occasion"], detail["goal_amount"]) == (
        "Форма",
        "birthday",
        "100.50",
    )
    assert detail["end_date"] is None
    assert (detail["cover_status"], detail["cover_url"]) == ("none", None)


def test_multipart_create_with_a_cover_processes_it(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    response = client.post(
        COLLECTS,
        data={"title": "С обложкой"},
        files={"cover": ("cover.png", image_bytes("PNG", (40, 30)), "image/png")},
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["cover_status"] in ("processing", "ready")
    detail = wait_for(
        lambda: (d := collect_of(client, author, created["id"]))["cover_status"] == "ready" and d
    )
    assert detail, "the cover was not processed in time"
    assert detail["cover_url"].startswith(f"{BASE}/media/")
    image = client.get(detail["cover_url"].removeprefix(BASE))
    assert image.status_code == 200
    assert image.content[:3] == b"\xff\xd8\xff"  # a JPEG


def test_multipart_form_with_an_invalid_field_is_a_400(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    response = client.post(
        COLLECTS,
        data={"title": "", "goal_amount": "abc", "occasion": "x"},
        files={"cover": ("c.png", image_bytes(), "image/png")},
        headers=make_account().headers,
    )
    assert_problem(response, 400, "title", "goal_amount", "occasion")


def test_creating_a_collect_mails_its_author(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    author = make_account()
    title = f"Письмо {tag()}"
    create_collect(client, author, title=title, goal_amount="1500")
    address = f"{author.username}@example.com"
    sent = wait_for(lambda: mails(settings.mail_dir, "collect_created", to=address))
    assert sent, "no collect_created e-mail within the deadline"
    assert len(sent) == 1
    assert title in sent[0]["Subject"]
    assert "1\u00a0500,00" in text_of(sent[0])


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


def test_the_feed_never_shows_email_transaction_or_metadata(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author)
    paid = donate(client, donor, collect_id, "10", comment="секрет", metadata={"card": "4111"})
    assert paid.status_code == 201
    for path in (url(collect_id), f"{url(collect_id)}payments/"):
        text = client.get(path, headers=author.headers).text
        for secret in (paid.json()["transaction_id"], "example.com", "4111", "секрет"):
            assert secret not in text


MISSING_IDS = ["0", "-1", "abc", str(2**64), str(2**63 - 1), "1.5", "1e3", "%20"]


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


# --- patch ---


def test_the_author_patches_a_collect(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author = make_account()
    collect_id = create_collect(client, author, title="old", goal_amount="100")
    before = collect_of(client, author, collect_id)
    clock.advance(minutes=5)
    end = clock.now() + timedelta(days=10)
    response = client.patch(
        url(collect_id),
        json={
            "title": "new",
            "occasion": "new_year",
            "description": "описание",
            "goal_amount": 250.5,
            "end_date": iso(end),
        },
        headers=author.headers,
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert set(detail) == LIST_FIELDS | {"payments"}
    assert (detail["title"], detail["occasion"], detail["description"]) == (
        "new",
        "new_year",
        "описание",
    )
    assert detail["goal_amount"] == "250.50"
    assert utc(detail["end_date"]) == end
    assert utc(detail["updated_at"]) > utc(before["updated_at"])
    assert detail["created_at"] == before["created_at"]
    assert collect_of(client, author, collect_id) == detail


def test_patch_may_clear_the_goal_and_the_end_date(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author = make_account()
    collect_id = create_collect(
        client, author, goal_amount="100", end_date=iso(clock.now() + timedelta(days=1))
    )
    response = client.patch(
        url(collect_id), json={"goal_amount": None, "end_date": None}, headers=author.headers
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert (detail["goal_amount"], detail["end_date"], detail["progress"]) == (None, None, None)


def test_patch_ignores_fields_outside_the_writable_set(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    other = make_account()
    collect_id = create_collect(client, author)
    response = client.patch(
        url(collect_id),
        json={
            "collected_amount": "999.00",
            "donations_count": 4,
            "created_by": other.id,
            "id": 1,
            "start_date": "2000-01-01T00:00:00Z",
        },
        headers=author.headers,
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert (detail["id"], detail["created_by"]) == (collect_id, author.id)
    assert (detail["collected_amount"], detail["donations_count"]) == ("0.00", 0)
    assert not detail["start_date"].startswith("2000")


def test_an_empty_patch_is_a_200_no_op(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author = make_account()
    collect_id = create_collect(client, author, title="same", goal_amount="10")
    before = collect_of(client, author, collect_id)
    clock.advance(minutes=1)
    response = client.patch(url(collect_id), json={}, headers=author.headers)
    assert response.status_code == 200, response.text
    assert response.json() == before
    assert collect_of(client, author, collect_id) == before


def test_patch_by_another_user_is_a_403(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    collect_id = create_collect(client, author, title="mine")
    response = client.patch(
        url(collect_id), json={"title": "theirs"}, headers=make_account().headers
    )
    assert_problem(response, 403)
    assert collect_of(client, author, collect_id)["title"] == "mine"


def test_403_comes_before_400_on_patch(client: TestClient[Any], make_account: MakeAccount) -> None:
    collect_id = create_collect(client, make_account())
    response = client.patch(
        url(collect_id), json={"title": "", "goal_amount": "abc"}, headers=make_account().headers
    )
    assert_problem(response, 403)


def test_patch_of_a_missing_collect_is_a_404(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    headers = make_account().headers
    check_each(
        MISSING_IDS,
        lambda i: assert_problem(client.patch(url(i), json={"title": ""}, headers=headers), 404),
    )


def test_patch_names_every_invalid_field(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author = make_account()
    collect_id = create_collect(client, author, title="kept")
    response = client.patch(
        url(collect_id),
        json={
            "title": " ",
            "goal_amount": -5,
            "end_date": iso(clock.now() - timedelta(days=1)),
            "occasion": "party",
            "is_active": "yes",
            "description": "x" * 10_001,
        },
        headers=author.headers,
    )
    assert_problem(
        response, 400, "title", "goal_amount", "end_date", "occasion", "is_active", "description"
    )
    assert collect_of(client, author, collect_id)["title"] == "kept"
    response = client.patch(url(collect_id), json={"cover": "a file?"}, headers=author.headers)
    assert_problem(response, 400, "cover")


def test_a_deactivated_collect_refuses_donations(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    response = client.patch(url(collect_id), json={"is_active": False}, headers=author.headers)
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert_problem(donate(client, make_account(), collect_id, "10"), 409)
    reopened = client.patch(url(collect_id), json={"is_active": True}, headers=author.headers)
    assert reopened.json()["is_active"] is True
    assert donate(client, make_account(), collect_id, "10").status_code == 201


def test_a_cover_is_removed_with_json_null(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    author = make_account()
    created = client.post(
        COLLECTS,
        data={"title": "обложка"},
        files={"cover": ("c.jpg", image_bytes("JPEG", (30, 20)), "image/jpeg")},
        headers=author.headers,
    ).json()
    ready = wait_for(lambda: collect_of(client, author, created["id"])["cover_status"] == "ready")
    assert ready
    response = client.patch(url(created["id"]), json={"cover": None}, headers=author.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["cover_status"], response.json()["cover_url"]) == ("none", None)
    assert collect_of(client, author, created["id"])["cover_status"] == "none"
    left = wait_for(lambda: not [p for p in settings.media_dir.rglob("*") if p.is_file()])
    assert left, "the old cover files are still there"


def test_a_cover_is_removed_with_an_empty_multipart_field(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    created = client.post(
        COLLECTS,
        data={"title": "обложка"},
        files={"cover": ("c.png", image_bytes(), "image/png")},
        headers=author.headers,
    ).json()
    # let processing finish first: a PATCH racing with it can be lost (see the report)
    assert wait_for(lambda: collect_of(client, author, created["id"])["cover_status"] == "ready")
    response = client.patch(
        url(created["id"]),
        data={"cover": "", "title": "без обложки"},
        headers=author.headers,
        files={"unused": ("x.txt", b"x", "text/plain")},
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert (detail["title"], detail["cover_status"], detail["cover_url"]) == (
        "без обложки",
        "none",
        None,
    )


def test_patch_replaces_a_cover_with_multipart(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    response = client.patch(
        url(collect_id),
        files={"cover": ("c.webp", image_bytes("WEBP", (20, 20)), "image/webp")},
        headers=author.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["cover_status"] in ("processing", "ready")
    assert wait_for(lambda: collect_of(client, author, collect_id)["cover_status"] == "ready")


def media_files(settings: Settings) -> list[Path]:
    return sorted(path for path in settings.media_dir.rglob("*") if path.is_file())


def upload(client: TestClient[Any], author: Account, content: bytes) -> int:
    response = client.post(
        COLLECTS,
        data={"title": "cover"},
        files={"cover": ("c.jpg", content, "image/jpeg")},
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def processed(client: TestClient[Any], author: Account, collect_id: int) -> Image.Image:
    """The processed cover, once processing is done."""
    detail = wait_for(
        lambda: (d := collect_of(client, author, collect_id))["cover_status"] == "ready" and d
    )
    assert detail, "the cover was not processed in time"
    response = client.get(detail["cover_url"].removeprefix(BASE))
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content))


def test_a_processed_cover_is_a_small_progressive_jpeg_without_metadata(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "Camera maker"
    oriented = io.BytesIO()
    Image.new("RGB", (300, 100), (10, 120, 200)).save(oriented, "JPEG", exif=exif.tobytes())
    big = image_bytes("PNG", (2400, 1000))
    small = image_bytes("PNG", (40, 30))
    expected = {
        upload(client, author, oriented.getvalue()): (100, 300),  # EXIF orientation applied
        upload(client, author, big): (1200, 500),  # fits 1200×800, aspect kept
        upload(client, author, small): (40, 30),  # never upscaled
    }
    for collect_id, size in expected.items():
        image = processed(client, author, collect_id)
        assert image.format == "JPEG"
        assert image.size == size
        assert image.info.get("progressive") or image.info.get("progression")
        assert not image.getexif()
        assert "exif" not in image.info


def test_replacing_or_deleting_a_cover_leaves_no_orphan_files(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    author = make_account()
    collect_id = upload(client, author, image_bytes("JPEG", (30, 20)))
    processed(client, author, collect_id)
    first = media_files(settings)
    assert len(first) == 1, first  # the processed cover; the upload itself is gone
    response = client.patch(
        url(collect_id),
        files={"cover": ("new.png", image_bytes("PNG", (20, 30)), "image/png")},
        headers=author.headers,
    )
    assert response.status_code == 200, response.text
    assert processed(client, author, collect_id).size == (20, 30)
    assert wait_for(lambda: len(media_files(settings)) == 1 and media_files(settings) != first)
    assert client.delete(url(collect_id), headers=author.headers).status_code == 204
    assert wait_for(lambda: media_files(settings) == []), media_files(settings)


# --- delete ---


def test_the_author_deletes_a_collect_without_payments(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    response = client.delete(url(collect_id), headers=author.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(client.get(url(collect_id), headers=author.headers), 404)
    assert listing(client, author, author="me")["count"] == 0
    assert_problem(client.delete(url(collect_id), headers=author.headers), 404)


def test_delete_by_another_user_is_a_403(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    assert_problem(client.delete(url(collect_id), headers=make_account().headers), 403)
    assert collect_of(client, author, collect_id)["id"] == collect_id


def test_delete_of_a_missing_collect_is_a_404(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    headers = make_account().headers
    check_each(MISSING_IDS, lambda i: assert_problem(client.delete(url(i), headers=headers), 404))


def test_a_collect_with_payments_cannot_be_deleted(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    assert donate(client, make_account(), collect_id, "10").status_code == 201
    problem = assert_problem(client.delete(url(collect_id), headers=author.headers), 409)
    assert "deactivat" in problem["detail"].lower()
    assert collect_of(client, author, collect_id)["donations_count"] == 1


def test_403_comes_before_409_on_delete(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    assert donate(client, make_account(), collect_id, "10").status_code == 201
    assert_problem(client.delete(url(collect_id), headers=make_account().headers), 403)


def test_collect_endpoints_require_a_token(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    collect_id = create_collect(client, make_account())
    for method, path in [
        ("GET", COLLECTS),
        ("POST", COLLECTS),
        ("GET", url(collect_id)),
        ("PATCH", url(collect_id)),
        ("DELETE", url(collect_id)),
        ("GET", f"{url(collect_id)}payments/"),
    ]:
        assert_problem(client.request(method, path, json={"title": "x"}), 401)


def test_sums_are_exact_decimals(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author, goal_amount="0.3")
    for _ in range(3):
        assert donate(client, donor, collect_id, "1.10").status_code == 201
    detail = collect_of(client, author, collect_id)
    assert Decimal(detail["collected_amount"]) == Decimal("3.30")
    assert detail["progress"] == 1100.0
