"""Guessing passwords against the real app: throttled per username and address, also in a burst."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.e2e.attack_helpers import MakeAccount, assert_unauthorized
from tests.e2e.conftest import PASSWORD, PEER_HEADER, assert_problem

PEER = PEER_HEADER.decode()


def log_in(
    client: TestClient[Any], username: str, password: str, address: str, **headers: str
) -> Any:
    return client.post(
        "/auth/jwt/create/",
        json={"username": username, "password": password},
        headers={PEER: address, "X-Request-ID": "same-id", **headers},
    )


def unique_address() -> str:
    value = uuid.uuid4().int
    return f"10.{value % 250}.{value // 250 % 250}.{value // 62500 % 250 + 1}"


def assert_throttled(response: Any) -> dict[str, Any]:
    body = assert_problem(response, 429)
    assert 0 < int(response.headers["retry-after"]) <= 300, response.headers
    return body


def test_guessing_one_password_is_throttled_whatever_comes_next(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for attempt in range(10):  # from ten addresses: only the per-username count reaches 10
        failed = log_in(client, account.username, f"guess {attempt}!", unique_address())
        assert_unauthorized(failed)
    wrong = log_in(client, account.username, "guess 10!", unique_address())
    right = log_in(client, account.username, PASSWORD, unique_address())
    shouting = log_in(client, account.username.upper(), PASSWORD, unique_address())
    bodies = [assert_throttled(answer) for answer in (wrong, right, shouting)]
    # the right password is not revealed by a different answer while throttled
    assert bodies[0] == bodies[1], bodies
    assert wrong.headers.keys() == right.headers.keys()
    assert "access" not in right.text


def test_an_unknown_username_is_throttled_like_a_real_one(client: TestClient[Any]) -> None:
    nobody = f"nobody_{uuid.uuid4().hex[:10]}"
    answers = [log_in(client, nobody, "guess!", unique_address()) for _ in range(11)]
    for answer in answers[:10]:
        assert_unauthorized(answer)
    assert_throttled(answers[10])


def test_one_address_guessing_across_usernames_is_throttled(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    address = unique_address()
    for attempt in range(10):
        username = account.username if attempt % 3 == 0 else f"nobody_{uuid.uuid4().hex[:10]}"
        assert_unauthorized(log_in(client, username, "guess!", address))
    assert_throttled(log_in(client, account.username, PASSWORD, address))
    assert_throttled(log_in(client, f"nobody_{uuid.uuid4().hex[:10]}", "guess!", address))
    # headers a client sends about "its" address do not make it another client
    for spoofed in (
        {"X-Forwarded-For": unique_address()},
        {"X-Real-IP": unique_address()},
        {"Forwarded": f"for={unique_address()}"},
        {"X-Client-IP": unique_address(), "True-Client-IP": unique_address()},
    ):
        assert_throttled(log_in(client, account.username, PASSWORD, address, **spoofed))
    # the account itself (4 failures) and another address are not locked out
    assert log_in(client, account.username, PASSWORD, unique_address()).status_code == 200


@pytest.mark.settings(login_window_seconds=1, login_max_failures=3)
def test_the_throttle_lifts_when_the_window_passes(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    address = unique_address()
    for _ in range(3):
        assert_unauthorized(log_in(client, account.username, "guess!", address))
    assert_throttled(log_in(client, account.username, PASSWORD, address))
    time.sleep(1.2)
    assert log_in(client, account.username, PASSWORD, address).status_code == 200


@pytest.mark.settings(argon2_time_cost=2, argon2_memory_kib=19_456)  # production's hashing cost
def test_parallel_guesses_get_no_more_than_the_limit(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    """A burst of simultaneous guesses must not slip past the counter: at most 10 of them
    may be judged (401); the rest are 429."""
    account = make_account()
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def guess(number: int) -> None:
        start.wait()
        response = log_in(client, account.username, f"guess {number}!", unique_address())
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(number,)) for number in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) <= 10, sorted(statuses)
