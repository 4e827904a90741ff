"""Client addresses and login limits as the real server sees them: the TCP peer, unless a
trusted proxy names the client; IPv6 clients counted per /64; parallel guesses counted before
their passwords are checked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.test_served import serving

LIMIT = 10


def _fail(http: httpx.Client, username: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = http.post(
        "/auth/jwt/create/",
        json={"username": username, "password": "wrong password"},
        headers=headers,
    )
    return response.status_code


def test_x_forwarded_for_is_not_believed_without_trusted_proxies(tmp_path: Path) -> None:
    """uvicorn believed it from loopback: a local peer could rotate its address at will."""
    with serving(tmp_path) as served, httpx.Client(base_url=served.url, timeout=15) as http:
        answers = [_fail(http, f"guess{n}", f"198.51.100.{n}") for n in range(LIMIT + 1)]
        served.stop()
    assert answers == [401] * LIMIT + [429]


def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    with (
        serving(tmp_path, FUNDRAISING_TRUSTED_PROXIES="127.0.0.1") as served,
        httpx.Client(base_url=served.url, timeout=15) as http,
    ):
        from_one = [_fail(http, f"guess{n}", "198.51.100.1") for n in range(LIMIT + 1)]
        from_another = _fail(http, "someone", "198.51.100.2")
        ipv6 = [_fail(http, f"v6guess{n}", f"2001:db8::{n + 1:x}") for n in range(LIMIT)]
        same_64 = _fail(http, "v6more", "2001:db8::ffff")
        next_64 = _fail(http, "v6other", "2001:db8:0:1::1")
        served.stop()
    assert from_one == [401] * LIMIT + [429]
    assert from_another == 401
    assert ipv6 == [401] * LIMIT
    assert (same_64, next_64) == (429, 401)


def test_parallel_guesses_from_one_address_get_at_most_ten_answers(tmp_path: Path) -> None:
    """The address's attempt is reserved before the password check: 40 at once used to get
    25 × 401 (limit 10)."""
    with serving(tmp_path) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda n: _fail(http, f"parallel{n}"), range(40)))
        served.stop()
    assert answers.count(401) == LIMIT
    assert answers.count(429) == 40 - LIMIT
