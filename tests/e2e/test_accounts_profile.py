"""The profile (`PATCH /auth/users/me/`) and leaving the service (`DELETE /auth/users/me/`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from fundraising.settings import Settings
from tests.e2e.account_helpers import (
    ACTIVATION,
    activate,
    emailed,
    me,
    sign_up,
    uid_and_token,
    unique,
)
from tests.e2e.conftest import PASSWORD, Account, assert_problem, create_collect, donate
from tests.fakes import FixedClock

ME = "/auth/users/me/"


def test_names_change_and_the_address_stays_verified(
    client: TestClient[Any], settings: Settings
) -> None:
    person = sign_up(client)
    activate(client, settings.mail_dir, person)
    changed = client.patch(ME, json={"first_name": "Анна", "last_name": ""}, headers=person.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "id": person.id,
        "username": person.username,
        "email": person.email,
        "first_name": "Анна",
        "last_name": "",
        "email_verified": True,
    }
    assert me(client, person).json() == changed.json()
    assert client.patch(ME, json={}, headers=person.headers).json() == changed.json()


def test_a_new_address_is_verified_again_with_a_link_sent_to_it(
    client: TestClient[Any], settings: Settings
) -> None:
    person = sign_up(client)
    activate(client, settings.mail_dir, person)
    address = f"{unique('new')}@example.com"
    changed = client.patch(ME, json={"email": address.upper()}, headers=person.headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["email"], changed.json()["email_verified"]) == (address, False)

    [message] = emailed(settings.mail_dir, ACTIVATION, address)
    assert client.post("/auth/users/activation/", json=uid_and_token(message)).status_code == 204
    assert me(client, person).json()["email_verified"] is True


def test_a_link_to_the_old_address_dies_with_the_change(
    client: TestClient[Any], settings: Settings
) -> None:
    person = sign_up(client)
    [old] = emailed(settings.mail_dir, ACTIVATION, person.email)
    client.patch(ME, json={"email": f"{unique('new')}@example.com"}, headers=person.headers)
    assert_problem(client.post("/auth/users/activation/", json=uid_and_token(old)), 400, "token")


def test_a_taken_address_is_a_409_and_changes_nothing(client: TestClient[Any]) -> None:
    first, second = sign_up(client), sign_up(client)
    taken = client.patch(ME, json={"email": first.email.upper()}, headers=second.headers)
    assert_problem(taken, 409)
    assert me(client, second).json()["email"] == second.email


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "not-an-address"}, {"email"}),
        ({"first_name": "x" * 151}, {"first_name"}),
        ({"first_name": 5, "last_name": ["a"]}, {"first_name", "last_name"}),
        ({"email": None}, {"email"}),
    ],
)
def test_an_invalid_field_is_a_400_naming_it(
    client: TestClient[Any], body: dict[str, Any], fields: set[str]
) -> None:
    person = sign_up(client, first_name="Иван")
    assert_problem(client.patch(ME, json=body, headers=person.headers), 400, *fields)
    assert me(client, person).json()["first_name"] == "Иван"


def test_the_profile_needs_a_token(client: TestClient[Any]) -> None:
    assert_problem(client.patch(ME, json={"first_name": "x"}), 401)
    assert_problem(client.request("DELETE", ME, json={"current_password": PASSWORD}), 401)


def test_leaving_erases_the_person_and_keeps_the_records(
    client: TestClient[Any],
    make_account: Callable[..., Account],
    clock: FixedClock,
) -> None:
    leaving = sign_up(client, first_name="Иван", last_name="Петров")
    friend = make_account()
    mine = create_collect(client, leaving, title="Мой сбор")
    theirs = create_collect(client, friend, title="Сбор друга")
    assert donate(client, leaving, theirs, "300.00").status_code == 201
    assert donate(client, friend, mine, "100.00").status_code == 201
    clock.advance(seconds=1)

    left = client.request(
        "DELETE", ME, json={"current_password": PASSWORD}, headers=leaving.headers
    )
    assert (left.status_code, left.content) == (204, b"")

    assert_problem(me(client, leaving), 401)
    assert_problem(client.post("/auth/jwt/refresh/", json={"refresh": leaving.refresh}), 401)
    mine_now = client.get(f"/api/v1/collects/{mine}/", headers=friend.headers).json()
    assert (mine_now["author_name"], mine_now["is_active"]) == ("Deleted user", False)
    assert mine_now["collected_amount"] == "100.00"
    theirs_now = client.get(f"/api/v1/collects/{theirs}/", headers=friend.headers).json()
    assert theirs_now["collected_amount"] == "300.00"
    assert [p["donor_name"] for p in theirs_now["payments"]] == ["Anonymous"]

    again = sign_up(client, leaving.username)
    assert again.id != leaving.id
    assert me(client, again).json()["email"] == leaving.email


@pytest.mark.parametrize(
    ("body", "field"),
    [({"current_password": "not my password"}, "current_password"), ({}, "current_password")],
)
def test_leaving_needs_the_current_password(
    client: TestClient[Any], body: dict[str, Any], field: str
) -> None:
    person = sign_up(client)
    assert_problem(client.request("DELETE", ME, json=body, headers=person.headers), 400, field)
    assert me(client, person).status_code == 200
