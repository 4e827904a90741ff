"""Usernames and addresses over HTTP: one account per name whatever its case or width, no
look-alike alphabets, one e-mail recipient per address, and a limit on registrations."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.e2e.conftest import PASSWORD, PEER_HEADER, assert_problem

PEER = PEER_HEADER.decode()


def _register(client: TestClient[Any], username: str, **headers: str) -> Any:
    body = {
        "username": username,
        "email": f"{uuid.uuid4().hex[:12]}@example.com",
        "password": PASSWORD,
    }
    return client.post("/auth/users/", json=body, headers=headers)


def _log_in(client: TestClient[Any], username: str, password: str = PASSWORD, **headers: str):
    return client.post(
        "/auth/jwt/create/", json={"username": username, "password": password}, headers=headers
    )


def _name(prefix: str = "alice") -> str:
    return f"{prefix}{uuid.uuid4().int % 10**9}"


def test_a_username_the_same_after_case_and_width_folding_is_taken(
    client: TestClient[Any],
) -> None:
    name = _name()
    assert _register(client, name).status_code == 201
    full_width = name.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789abcdefghijklmnop"})
    for other in (name.upper(), name.capitalize(), full_width):
        assert_problem(_register(client, other), 409)


def test_a_full_width_username_is_stored_as_plain_characters(client: TestClient[Any]) -> None:
    response = _register(client, "ｆｕｌｌ" + _name("_"))
    assert response.status_code == 201, response.text
    assert response.json()["username"].startswith("full_")


def test_a_look_alike_alphabet_in_a_username_is_a_400(client: TestClient[Any]) -> None:
    assert_problem(_register(client, _name("pаypal")), 400, "username")  # a Cyrillic а
    assert _register(client, _name("иван_")).status_code == 201, "one alphabet is fine"


def test_a_login_matches_the_account_whatever_its_case(client: TestClient[Any]) -> None:
    name = _name()
    created = _register(client, name).json()
    for spelled in (name, name.upper(), name.title()):
        response = _log_in(client, spelled)
        assert response.status_code == 200, (spelled, response.text)
    assert created["username"] == name


def test_a_login_with_padding_is_refused_and_counts_against_the_address(
    client: TestClient[Any],
) -> None:
    """On MariaDB `victim   ` was the row of `victim` (PAD SPACE), under another throttle key:
    30 more guesses after the lock, and the right password with trailing spaces gave tokens."""
    name = _name("victim")
    assert _register(client, name).status_code == 201
    peer = {PEER: "192.0.2.77"}
    answers = [_log_in(client, f"{name}{' ' * n}", **peer).status_code for n in range(1, 11)]
    assert answers == [401] * 10
    assert_problem(_log_in(client, name, **peer), 429)
    assert _log_in(client, name, **{PEER: "192.0.2.78"}).status_code == 200


def test_a_list_of_addresses_is_not_an_email(client: TestClient[Any]) -> None:
    body = {"username": _name(), "email": "x,victim@example.com", "password": PASSWORD}
    assert_problem(client.post("/auth/users/", json=body), 400, "email")


@pytest.mark.settings(registrations_per_hour=3)
def test_registrations_are_limited_per_address(client: TestClient[Any]) -> None:
    peer = {PEER: "198.51.100.20"}
    assert [_register(client, _name(), **peer).status_code for _ in range(3)] == [201] * 3
    refused = _register(client, _name(), **peer)
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert _register(client, _name(), **{PEER: "198.51.100.21"}).status_code == 201
