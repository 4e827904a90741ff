"""POST /api/v1/collects/: JSON and multipart bodies, invalid fields, exact money, the e-mail."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from litestar.testing import TestClient

from fundraising.settings import Settings
from tests.e2e.collect_helpers import BASE, COLLECTS, LIST_FIELDS, MakeAccount, collect_of, tag, url
from tests.e2e.conftest import (
    Account,
    assert_problem,
    check_each,
    create_collect,
    image_bytes,
    iso,
    mails,
    text_of,
    utc,
    wait_for,
)
from tests.fakes import FixedClock


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
