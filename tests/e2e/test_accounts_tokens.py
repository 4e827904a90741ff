"""Tokens after login: refresh rotation (a reused one revokes its chain), logout, and
revocation that holds on a cache hit too."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.e2e.account_helpers import NEW_PASSWORD, log_in, me, sign_up
from tests.e2e.conftest import PASSWORD, assert_problem, create_collect
from tests.fakes import FixedClock

REFRESH, LOGOUT = "/auth/jwt/refresh/", "/auth/jwt/logout/"


def _refresh(client: TestClient[Any], token: str) -> Any:
    return client.post(REFRESH, json={"refresh": token})


def test_a_refresh_answers_a_new_pair_and_the_old_refresh_token_stops_working(
    client: TestClient[Any], clock: FixedClock
) -> None:
    person = sign_up(client)
    clock.advance(seconds=1)
    rotated = _refresh(client, person.refresh)
    assert rotated.status_code == 200, rotated.text
    pair = rotated.json()
    assert set(pair) == {"access", "refresh"}
    assert pair["refresh"] != person.refresh
    me_now = client.get("/auth/users/me/", headers={"Authorization": f"Bearer {pair['access']}"})
    assert me_now.status_code == 200
    assert _refresh(client, pair["refresh"]).status_code == 200, "the new one works, once"


def test_a_reused_refresh_token_revokes_its_whole_chain(
    client: TestClient[Any], clock: FixedClock
) -> None:
    """A stolen refresh token used after its owner rotated it (or the other way round): both
    parties lose the chain, and the owner logs in again."""
    person = sign_up(client)
    other_login = log_in(client, person.id, person.username, person.email)
    first = _refresh(client, person.refresh).json()
    second = _refresh(client, first["refresh"]).json()

    assert_problem(_refresh(client, person.refresh), 401)  # reused: the chain is revoked
    assert_problem(_refresh(client, second["refresh"]), 401)
    assert _refresh(client, other_login.refresh).status_code == 200, "another login's chain"
    clock.advance(seconds=1)
    assert log_in(client, person.id, person.username, person.email).refresh


def test_logout_ends_the_refresh_chain_and_is_idempotent(client: TestClient[Any]) -> None:
    person = sign_up(client)
    rotated = _refresh(client, person.refresh).json()
    logged_out = client.post(LOGOUT, json={"refresh": rotated["refresh"]})
    assert (logged_out.status_code, logged_out.content) == (204, b"")
    assert_problem(_refresh(client, rotated["refresh"]), 401)
    assert client.post(LOGOUT, json={"refresh": rotated["refresh"]}).status_code == 204
    assert client.post(LOGOUT, json={"refresh": person.refresh}).status_code == 204


def test_logout_needs_a_valid_refresh_token(client: TestClient[Any]) -> None:
    person = sign_up(client)
    assert_problem(client.post(LOGOUT, json={"refresh": person.access}), 401)
    assert_problem(client.post(LOGOUT, json={"refresh": "garbage"}), 401)
    assert_problem(client.post(LOGOUT, json={}), 400, "refresh")


def test_a_password_change_refuses_the_old_token_on_a_cache_hit(
    client: TestClient[Any], clock: FixedClock
) -> None:
    person = sign_up(client)
    detail = f"/api/v1/collects/{create_collect(client, person)}/"
    client.get(detail, headers=person.headers)
    hit = client.get(detail, headers=person.headers)
    assert (hit.status_code, hit.headers["x-cache"]) == (200, "HIT")

    clock.advance(seconds=1)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (
        client.post("/auth/users/set_password/", json=body, headers=person.headers).status_code
        == 204
    )
    refused = client.get(detail, headers=person.headers)
    assert_problem(refused, 401)
    assert "x-cache" not in refused.headers

    renewed = log_in(client, person.id, person.username, person.email, NEW_PASSWORD)
    again = client.get(detail, headers=renewed.headers)
    assert (again.status_code, again.headers["x-cache"]) == (200, "HIT"), "the entry stays"
    assert me(client, renewed).status_code == 200
