"""Rate limits in memory and in Redis: one contract; atomic under parallel attempts; and when
Redis does not answer, the process keeps the limit itself — never no limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fundraising.adapters.cache.limits import MemoryRateLimiter, RedisRateLimiter
from tests.integration.fixtures_services import (
    RedisServer,
    SharedRedis,
    free_port,
    shared_redis_fixture,  # noqa: F401  (fixture)
)

LIMITS_DB = 15
Limiter = MemoryRateLimiter | RedisRateLimiter


@pytest.fixture(
    name="make_limiter", params=["memory", pytest.param("redis", marks=pytest.mark.redis)]
)
def make_limiter_fixture(
    request: pytest.FixtureRequest, shared_redis: SharedRedis
) -> Callable[[], Limiter]:
    if request.param == "memory":
        return MemoryRateLimiter
    url = shared_redis(LIMITS_DB)
    return lambda: RedisRateLimiter(url)


def test_a_full_key_blocks_and_counts_nothing(make_limiter: Callable[[], Limiter]) -> None:
    limiter = make_limiter()
    for n in range(10):
        assert limiter.reserve(["user:ivan", f"address:{n}"], limit=10, window_seconds=300) == 0
    assert 295 <= limiter.reserve(["user:ivan", "address:new"], limit=10, window_seconds=300) <= 300
    assert limiter.reserve(["user:petr", "address:new"], limit=10, window_seconds=300) == 0, (
        "the refused attempt counted nothing against the new address"
    )
    for n in range(9):
        assert limiter.reserve(["address:new"], limit=10, window_seconds=300) == 0, n
    assert limiter.reserve(["address:new"], limit=10, window_seconds=300) > 0


def test_a_released_attempt_does_not_count(make_limiter: Callable[[], Limiter]) -> None:
    limiter = make_limiter()
    for _ in range(5):
        assert limiter.reserve(["user:ivan", "address:1"], limit=2, window_seconds=300) == 0
        limiter.release(["user:ivan", "address:1"])
    limiter.release(["user:ivan"])  # never below zero
    assert limiter.reserve(["user:ivan"], limit=2, window_seconds=300) == 0
    assert limiter.reserve(["user:ivan"], limit=2, window_seconds=300) == 0
    assert limiter.reserve(["user:ivan"], limit=2, window_seconds=300) > 0


def test_parallel_attempts_never_pass_the_limit(make_limiter: Callable[[], Limiter]) -> None:
    limiter = make_limiter()

    def attempt(n: int) -> int:
        return limiter.reserve([f"user:{n % 3}", "address:1"], limit=10, window_seconds=300)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(attempt, range(60)))
    assert answers.count(0) == 10


def test_a_block_ends_with_its_window(make_limiter: Callable[[], Limiter]) -> None:
    limiter = make_limiter()
    for _ in range(3):
        limiter.reserve(["user:ivan"], limit=3, window_seconds=1)
    assert limiter.reserve(["user:ivan"], limit=3, window_seconds=1) > 0
    time.sleep(1.3)
    assert limiter.reserve(["user:ivan"], limit=3, window_seconds=1) == 0


@pytest.mark.redis
def test_every_process_counts_into_the_same_redis_keys(shared_redis: SharedRedis) -> None:
    url = shared_redis(LIMITS_DB)
    first, second = RedisRateLimiter(url), RedisRateLimiter(url)
    for _ in range(5):
        assert first.reserve(["user:ivan"], limit=10, window_seconds=300) == 0
        assert second.reserve(["user:ivan"], limit=10, window_seconds=300) == 0
    assert first.reserve(["user:ivan"], limit=10, window_seconds=300) > 0
    assert second.reserve(["user:ivan"], limit=10, window_seconds=300) > 0


def test_without_redis_the_process_keeps_the_limit() -> None:
    """The throttle used to fail open: a dead Redis allowed every attempt."""
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    answers = [limiter.reserve(["address:1"], limit=10, window_seconds=300) for _ in range(12)]
    assert answers[:10] == [0] * 10
    assert all(wait > 0 for wait in answers[10:])


def test_a_redis_that_goes_away_mid_window_hands_over_to_the_process(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    limiter = RedisRateLimiter(server.url(), timeout=0.2)
    try:
        for _ in range(4):
            assert limiter.reserve(["address:1"], limit=5, window_seconds=300) == 0
    finally:
        server.stop()
    answers = [limiter.reserve(["address:1"], limit=5, window_seconds=300) for _ in range(7)]
    limiter.close()
    assert answers[:5] == [0] * 5, "the process counts from zero: at most one more window"
    assert all(wait > 0 for wait in answers[5:])
