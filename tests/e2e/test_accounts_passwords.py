"""Passwords: changed with the current one, reset through an e-mailed link; either way every
earlier token stops working at once."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from fundraising.settings import Settings
from tests.e2e.account_helpers import (
    NEW_PASSWORD,
    RESET,
    Person,
    emailed,
    link_of,
    log_in,
    me,
    sign_up,
    uid_and_token,
)
from tests.e2e.conftest import PASSWORD, PEER_HEADER, assert_problem, mails, text_of
from tests.fakes import FixedClock

SET_PASSWORD = "/auth/users/set_password/"
RESET_PASSWORD = "/auth/users/reset_password/"
CONFIRM = "/auth/users/reset_password_confirm/"


def _logs_in(client: TestClient[Any], person: Person, password: str) -> int:
    login = {"username": person.username, "password": password}
    return client.post("/auth/jwt/create/", json=login).status_code


def _revoked(client: TestClient[Any], person: Person) -> None:
    """Neither token of that login works any more."""
    assert_problem(me(client, person), 401)
    assert_problem(client.post("/auth/jwt/refresh/", json={"refresh": person.refresh}), 401)
    assert_problem(client.post("/auth/jwt/verify/", json={"token": person.access}), 401)


def test_a_changed_password_revokes_every_earlier_token(
    client: TestClient[Any], clock: FixedClock
) -> None:
    person = sign_up(client)
    other_login = log_in(client, person.id, person.username, person.email)
    clock.advance(seconds=1)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    changed = client.post(SET_PASSWORD, json=body, headers=person.headers)
    assert (changed.status_code, changed.content) == (204, b"")

    _revoked(client, person)
    _revoked(client, other_login)
    assert _logs_in(client, person, PASSWORD) == 401
    renewed = log_in(client, person.id, person.username, person.email, NEW_PASSWORD)
    assert me(client, renewed).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "wrong password!", "new_password": NEW_PASSWORD}, "current_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "12345678"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
    ],
)
def test_a_wrong_current_or_weak_new_password_is_a_400_and_changes_nothing(
    client: TestClient[Any], body: dict[str, Any], field: str
) -> None:
    person = sign_up(client)
    assert_problem(client.post(SET_PASSWORD, json=body, headers=person.headers), 400, field)
    assert me(client, person).status_code == 200
    assert _logs_in(client, person, PASSWORD) == 200


def test_setting_a_password_needs_a_token(client: TestClient[Any]) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert_problem(client.post(SET_PASSWORD, json=body), 401)


def test_a_reset_link_sets_a_new_password_once(
    client: TestClient[Any], settings: Settings, clock: FixedClock
) -> None:
    person = sign_up(client)
    assert client.post(RESET_PASSWORD, json={"email": person.email}).status_code == 204
    [message] = emailed(settings.mail_dir, RESET, person.email)
    assert message["Subject"] == "Сброс пароля"
    assert link_of(message).startswith("http://testserver.local/password/reset/confirm/")
    assert "1\u00a0час" in text_of(message)

    clock.advance(seconds=1)
    confirm = {**uid_and_token(message), "new_password": NEW_PASSWORD}
    assert client.post(CONFIRM, json=confirm).status_code == 204
    _revoked(client, person)
    assert _logs_in(client, person, NEW_PASSWORD) == 200
    assert_problem(client.post(CONFIRM, json={**confirm, "new_password": "x" + NEW_PASSWORD}), 400)
    assert _logs_in(client, person, NEW_PASSWORD) == 200, "a used link changes nothing"


def test_a_reset_link_expires_after_an_hour(
    client: TestClient[Any], settings: Settings, clock: FixedClock
) -> None:
    person = sign_up(client)
    client.post(RESET_PASSWORD, json={"email": person.email})
    [message] = emailed(settings.mail_dir, RESET, person.email)
    clock.advance(hours=1, seconds=1)
    confirm = {**uid_and_token(message), "new_password": NEW_PASSWORD}
    assert_problem(client.post(CONFIRM, json=confirm), 400, "token")
    assert _logs_in(client, person, PASSWORD) == 200


def test_a_reset_link_dies_when_the_password_changes_otherwise(
    client: TestClient[Any], settings: Settings, clock: FixedClock
) -> None:
    person = sign_up(client)
    client.post(RESET_PASSWORD, json={"email": person.email})
    [message] = emailed(settings.mail_dir, RESET, person.email)
    clock.advance(seconds=1)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post(SET_PASSWORD, json=body, headers=person.headers).status_code == 204
    confirm = {**uid_and_token(message), "new_password": "another-good-passphrase"}
    assert_problem(client.post(CONFIRM, json=confirm), 400, "token")


def test_a_weak_new_password_is_a_400_and_leaves_the_link_usable(
    client: TestClient[Any], settings: Settings
) -> None:
    person = sign_up(client)
    client.post(RESET_PASSWORD, json={"email": person.email})
    [message] = emailed(settings.mail_dir, RESET, person.email)
    link = uid_and_token(message)
    assert_problem(client.post(CONFIRM, json={**link, "new_password": "123"}), 400, "new_password")
    assert client.post(CONFIRM, json={**link, "new_password": NEW_PASSWORD}).status_code == 204


def test_a_reset_never_tells_whether_an_address_is_registered(
    client: TestClient[Any], settings: Settings
) -> None:
    person = sign_up(client)
    known = client.post(RESET_PASSWORD, json={"email": person.email.upper()})
    unknown = client.post(RESET_PASSWORD, json={"email": "never-registered@example.com"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert known.status_code == 204
    assert len(emailed(settings.mail_dir, RESET, person.email)) == 1
    assert mails(settings.mail_dir, RESET, "never-registered@example.com") == []


def test_resets_are_limited_per_e_mail_and_per_client_address(client: TestClient[Any]) -> None:
    person = sign_up(client)
    for _ in range(5):
        assert client.post(RESET_PASSWORD, json={"email": person.email}).status_code == 204
    elsewhere = {PEER_HEADER.decode(): "198.51.100.10"}
    assert_problem(
        client.post(RESET_PASSWORD, json={"email": person.email}, headers=elsewhere), 429
    )
    assert_problem(client.post(RESET_PASSWORD, json={"email": "other@example.com"}), 429)
    other = client.post(RESET_PASSWORD, json={"email": "other@example.com"}, headers=elsewhere)
    assert other.status_code == 204, "another address and e-mail"
