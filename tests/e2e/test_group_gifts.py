"""Group gifts over HTTP: private and link collects, the surprise guard (with a warm cache),
`?mine=true`, joining with the share key, and the key's rotation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.e2e.conftest import Account, assert_problem, create_collect, donate

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"


@pytest.fixture
def cast(make_account: MakeAccount) -> dict[str, Account]:
    """The author, Anna (the gift is for her), a colleague in the secret, an outsider."""
    return {
        name: make_account(first, "")
        for name, first in (
            ("author", "Олег"),
            ("anna", "Анна"),
            ("colleague", "Пётр"),
            ("outsider", "Иван"),
        )
    }


def _secret(client: TestClient[Any], cast: dict[str, Account], visibility: str) -> int:
    return create_collect(
        client,
        cast["author"],
        title="Подарок Анне",
        visibility=visibility,
        hidden_from=[cast["anna"].id],
        suggested_amount="500",
        goal_amount="5000",
    )


def _key(client: TestClient[Any], collect_id: int, who: Account) -> str:
    shared = client.get(f"{COLLECTS}{collect_id}/share/", headers=who.headers)
    assert shared.status_code == 200, shared.text
    return str(shared.json()["key"])


def test_a_new_private_collect_shows_its_group_fields(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    collect_id = _secret(client, cast, "private")

    body = client.get(f"{COLLECTS}{collect_id}/", headers=cast["author"].headers).json()

    assert body["visibility"] == "private"
    assert body["hidden_from"] == [cast["anna"].id]
    assert body["suggested_amount"] == "500.00"
    assert body["participants_count"] == 1


@pytest.mark.parametrize("visibility", ["link", "private"])
def test_the_person_the_gift_is_for_finds_nothing_even_with_a_warm_cache(
    client: TestClient[Any], cast: dict[str, Account], visibility: str
) -> None:
    collect_id = _secret(client, cast, visibility)
    key = _key(client, collect_id, cast["author"])
    paths = [f"{COLLECTS}{collect_id}/", f"{COLLECTS}{collect_id}/payments/"]
    for path in paths:  # warm: the author's reads are cached
        client.get(path, headers=cast["author"].headers)
        assert client.get(path, headers=cast["author"].headers).headers["x-cache"] == "HIT"

    anna = cast["anna"].headers
    for path in paths:
        assert_problem(client.get(path, headers=anna), 404)
    assert_problem(
        client.post(f"{COLLECTS}{collect_id}/join/", json={"key": key}, headers=anna), 404
    )
    assert_problem(client.get(f"{COLLECTS}{collect_id}/share/", headers=anna), 404)
    assert_problem(client.post(f"{COLLECTS}{collect_id}/share/rotate/", headers=anna), 404)
    assert_problem(client.patch(f"{COLLECTS}{collect_id}/", json={"title": "x"}, headers=anna), 404)
    assert_problem(client.delete(f"{COLLECTS}{collect_id}/", headers=anna), 404)
    assert_problem(donate(client, cast["anna"], collect_id, 100), 400, "collect")
    for query in ("", "?mine=true", f"?author={cast['author'].id}", "?search=Анне"):
        listed = client.get(f"{COLLECTS}{query}", headers=anna).json()["results"]
        assert collect_id not in [item["id"] for item in listed], query
    detail = client.get(f"{COLLECTS}{collect_id}/", headers=cast["author"].headers).json()
    assert (detail["donations_count"], detail["participants_count"]) == (0, 1)


def test_a_cached_answer_is_served_to_members_only(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    collect_id = _secret(client, cast, "link")
    path = f"{COLLECTS}{collect_id}/"
    key = _key(client, collect_id, cast["author"])
    client.get(path, headers=cast["author"].headers)
    assert client.get(path, headers=cast["author"].headers).headers["x-cache"] == "HIT"

    assert_problem(client.get(path, headers=cast["outsider"].headers), 404)
    joined = client.post(f"{path}join/", json={"key": key}, headers=cast["colleague"].headers)
    assert joined.status_code == 200, joined.text
    first = client.get(path, headers=cast["colleague"].headers)
    again = client.get(path, headers=cast["colleague"].headers)

    assert (first.status_code, first.json()["participants_count"]) == (200, 2)
    assert again.headers["x-cache"] == "HIT"
    assert_problem(client.get(path, headers=cast["outsider"].headers), 404)


def test_joining_a_link_collect_takes_its_key_and_answers_the_participant_entry(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    collect_id = _secret(client, cast, "link")
    key = _key(client, collect_id, cast["author"])
    join = f"{COLLECTS}{collect_id}/join/"
    colleague = cast["colleague"].headers

    assert_problem(client.post(join, headers=colleague), 404)
    assert_problem(client.post(join, json={"key": key[:-1]}, headers=colleague), 404)
    joined = client.post(join, json={"key": key}, headers=colleague)
    again = client.post(join, headers=colleague)  # a member needs no key any more

    assert joined.status_code == again.status_code == 200, joined.text
    entry = joined.json()
    assert set(entry) == {
        "user",
        "name",
        "role",
        "joined_at",
        "paid_amount",
        "donations_count",
        "last_payment_at",
        "last_reminded_at",
    }
    assert (entry["user"], entry["name"], entry["role"]) == (
        cast["colleague"].id,
        "Пётр",
        "participant",
    )
    assert (entry["paid_amount"], entry["donations_count"], entry["last_payment_at"]) == (
        "0.00",
        0,
        None,
    )
    assert donate(client, cast["colleague"], collect_id, 500).status_code == 201
    paid = client.post(join, headers=colleague).json()
    assert (paid["paid_amount"], paid["donations_count"]) == ("500.00", 1)


def test_a_public_collect_is_joined_without_a_key_and_a_private_one_not_at_all(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    public = create_collect(client, cast["author"])
    private = _secret(client, cast, "private")

    joined = client.post(f"{COLLECTS}{public}/join/", headers=cast["outsider"].headers)
    assert joined.status_code == 200, joined.text
    key = _key(client, private, cast["author"])
    refused = client.post(
        f"{COLLECTS}{private}/join/", json={"key": key}, headers=cast["outsider"].headers
    )
    assert_problem(refused, 404)
    assert (
        client.get(f"{COLLECTS}{public}/", headers=cast["author"].headers).json()[
            "participants_count"
        ]
        == 2
    )


def test_joining_a_closed_collect_is_a_409_and_bad_input_a_400(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    collect_id = create_collect(client, cast["author"])
    join = f"{COLLECTS}{collect_id}/join/"
    for who in ("colleague", "author"):  # a member's bad body is a 400 too, not a 200
        for key in (5, "k" * 65):
            answer = client.post(join, json={"key": key}, headers=cast[who].headers)
            assert_problem(answer, 400, "key")
    assert_problem(
        client.post(
            join,
            content=b"[1]",
            headers={**cast["colleague"].headers, "content-type": "application/json"},
        ),
        400,
    )
    closed = client.patch(
        f"{COLLECTS}{collect_id}/", json={"is_active": False}, headers=cast["author"].headers
    )
    assert closed.status_code == 200, closed.text

    assert_problem(client.post(join, headers=cast["outsider"].headers), 409)
    assert client.post(join, headers=cast["author"].headers).json()["role"] == "author"


def test_the_share_key_is_for_those_who_run_the_collect_and_rotation_retires_it(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    collect_id = _secret(client, cast, "link")
    old = _key(client, collect_id, cast["author"])
    share = f"{COLLECTS}{collect_id}/share/"
    client.post(
        f"{COLLECTS}{collect_id}/join/", json={"key": old}, headers=cast["colleague"].headers
    )

    assert_problem(client.get(share, headers=cast["colleague"].headers), 403)
    assert_problem(client.get(share, headers=cast["outsider"].headers), 404)
    rotated = client.post(f"{share}rotate/", headers=cast["author"].headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["key"] != old and len(new["key"]) >= 32
    assert new["url"].endswith(f"/collects/{collect_id}?key={new['key']}")
    assert client.get(share, headers=cast["author"].headers).json() == new
    late = f"{COLLECTS}{collect_id}/join/"
    assert_problem(client.post(late, json={"key": old}, headers=cast["outsider"].headers), 404)
    assert (
        client.post(late, json={"key": new["key"]}, headers=cast["outsider"].headers).status_code
        == 200
    )


def test_mine_lists_every_collect_of_the_caller_and_the_plain_list_public_ones(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    public = create_collect(client, cast["author"], title="Всем")
    private = _secret(client, cast, "private")
    link = _secret(client, cast, "link")

    def listed(who: Account, query: str = "") -> list[int]:
        answer = client.get(f"{COLLECTS}{query}", headers=who.headers)
        assert answer.status_code == 200, answer.text
        return sorted(item["id"] for item in answer.json()["results"])

    assert listed(cast["author"], "?author=me") == [public]
    assert {private, link}.isdisjoint(listed(cast["author"]))
    assert listed(cast["author"], "?mine=true") == sorted([public, private, link])
    assert listed(cast["author"], "?mine=true&visibility=x") == sorted([public, private, link])
    assert listed(cast["colleague"], "?mine=true") == []
    assert listed(cast["author"], "?mine=true") == sorted([public, private, link])  # cached
    assert listed(cast["colleague"], "?mine=true") == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"visibility": "secret"}, "visibility"),
        ({"hidden_from": [1]}, "hidden_from"),
        ({"visibility": "private", "hidden_from": "1"}, "hidden_from"),
        ({"visibility": "private", "hidden_from": [0]}, "hidden_from"),
        ({"visibility": "private", "hidden_from": list(range(1, 52))}, "hidden_from"),
        ({"visibility": "private", "hidden_from": [999_999]}, "hidden_from"),
        ({"goal_amount": "100", "suggested_amount": "100.01"}, "suggested_amount"),
        ({"suggested_amount": "0.5"}, "suggested_amount"),
    ],
)
def test_invalid_group_fields_are_a_400_naming_them(
    client: TestClient[Any], cast: dict[str, Account], fields: dict[str, Any], field: str
) -> None:
    answer = client.post(
        COLLECTS, json={"title": "Подарок", **fields}, headers=cast["author"].headers
    )

    assert_problem(answer, 400, field)


def test_hiding_the_author_or_a_member_is_a_400(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    collect_id = _secret(client, cast, "link")
    key = _key(client, collect_id, cast["author"])
    client.post(
        f"{COLLECTS}{collect_id}/join/", json={"key": key}, headers=cast["colleague"].headers
    )
    path = f"{COLLECTS}{collect_id}/"

    for hidden in ([cast["author"].id], [cast["colleague"].id]):
        answer = client.patch(path, json={"hidden_from": hidden}, headers=cast["author"].headers)
        assert_problem(answer, 400, "hidden_from")
    public = client.patch(path, json={"visibility": "public"}, headers=cast["author"].headers)
    assert_problem(public, 400, "hidden_from")
    both = client.patch(
        path, json={"visibility": "public", "hidden_from": []}, headers=cast["author"].headers
    )
    assert both.status_code == 200, both.text
    assert (both.json()["visibility"], both.json()["hidden_from"]) == ("public", [])
    lowered = client.patch(path, json={"goal_amount": "499.99"}, headers=cast["author"].headers)
    assert_problem(lowered, 400, "goal_amount")


def test_the_participants_list_shows_who_paid_to_those_who_run_the_collect(
    client: TestClient[Any], cast: dict[str, Account]
) -> None:
    collect_id = _secret(client, cast, "link")
    key = _key(client, collect_id, cast["author"])
    for who in ("colleague", "outsider"):
        joined = client.post(
            f"{COLLECTS}{collect_id}/join/", json={"key": key}, headers=cast[who].headers
        )
        assert joined.status_code == 200, joined.text
    donate(client, cast["colleague"], collect_id, "300", visibility="anonymous")
    path = f"{COLLECTS}{collect_id}/participants/"

    everyone = client.get(path, headers=cast["author"].headers)
    paid = client.get(f"{path}?paid=true", headers=cast["author"].headers).json()
    unpaid = client.get(f"{path}?paid=false&page_size=1", headers=cast["author"].headers).json()

    assert everyone.status_code == 200, everyone.text
    entries = everyone.json()["results"]
    assert [(e["user"], e["role"], e["paid_amount"]) for e in entries] == [
        (cast["author"].id, "author", "0.00"),
        (cast["colleague"].id, "participant", "300.00"),  # anonymous to the feed, not here
        (cast["outsider"].id, "participant", "0.00"),
    ]
    assert entries[1]["name"] == "Пётр"
    assert [e["user"] for e in paid["results"]] == [cast["colleague"].id]
    assert (unpaid["count"], [e["user"] for e in unpaid["results"]]) == (2, [cast["author"].id])
    assert unpaid["next"] is not None and "paid=false" in unpaid["next"]
    assert_problem(client.get(path, headers=cast["colleague"].headers), 403)
    assert_problem(client.get(path, headers=cast["anna"].headers), 404)
    assert_problem(client.get(f"{path}?paid=maybe", headers=cast["author"].headers), 400)
