"""The read cache against real Redis, side by side with the in-memory adapter that must behave
alike; and Redis going away, hanging and coming back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from fundraising.adapters.cache.changes import ChangesFile
from fundraising.adapters.cache.limits import RedisRateLimiter
from fundraising.adapters.cache.memory import MemoryCache
from fundraising.adapters.cache.redis import RedisCache
from fundraising.application.errors import Unavailable
from fundraising.application.ports.cache import LISTS, CachedResponse, Lookup, collect_scope
from tests.integration.fixtures_services import (
    RedisServer,
    SharedRedis,
    free_port,
    redis_server_fixture,  # noqa: F401  (fixture)
    shared_redis_fixture,  # noqa: F401  (fixture)
    wait_until,
)

USER = 7  # whose "tokens valid after" stamp each lookup also reads

T = TypeVar("T")
Run = Callable[[Coroutine[Any, Any, T]], T]
Cache = MemoryCache | RedisCache
CACHE_DB = 11


def entry(text: str) -> CachedResponse:
    body = text.encode()
    return CachedResponse.of(body)


@pytest.fixture(name="run")
def run_fixture() -> Iterator[Run[Any]]:
    """One event loop for the whole test, as in a server process."""
    with asyncio.Runner() as runner:
        yield runner.run


@pytest.fixture(
    name="read_cache", params=["memory", pytest.param("redis", marks=pytest.mark.redis)]
)
def read_cache_fixture(
    request: pytest.FixtureRequest, shared_redis: SharedRedis, tmp_path: Path
) -> Iterator[Cache]:
    if request.param == "memory":
        memory = MemoryCache(ChangesFile(tmp_path / "cache-changes"))
        yield memory
        memory.close()
        return
    cache = RedisCache(shared_redis(CACHE_DB))
    yield cache
    cache.close()


# --- the same semantics in memory and in Redis --------------------------------------------


def test_a_new_scope_is_a_miss_with_a_version(read_cache: Cache, run: Run[Lookup]) -> None:
    found = run(read_cache.lookup(collect_scope(1), "detail", USER))
    assert found.entry is None
    assert found.version
    assert not found.bypassed
    again = run(read_cache.lookup(collect_scope(1), "detail", USER))
    assert again.version == found.version, "the version stays until something changes"


def test_a_stored_entry_is_a_hit(read_cache: Cache, run: Run[Any]) -> None:
    scope = collect_scope(1)
    miss = run(read_cache.lookup(scope, "detail", USER))
    body = entry('{"title": "Подарок"}')
    run(read_cache.store(scope, miss.version, "detail", body))

    hit = run(read_cache.lookup(scope, "detail", USER))
    assert hit.entry == body
    assert hit.version == miss.version
    assert run(read_cache.lookup(scope, "feed", USER)).entry is None, "another key of the scope"
    assert run(read_cache.lookup(collect_scope(2), "detail", USER)).entry is None, "another scope"


def test_a_changed_collect_makes_its_scope_and_the_lists_miss(
    read_cache: Cache, run: Run[Any]
) -> None:
    stored = {}
    for scope in (collect_scope(1), collect_scope(2), LISTS):
        version = run(read_cache.lookup(scope, "page", USER)).version
        run(read_cache.store(scope, version, "page", entry(scope)))
        stored[scope] = version

    read_cache.collect_changed(1)

    for scope in (collect_scope(1), LISTS):
        found = run(read_cache.lookup(scope, "page", USER))
        assert found.entry is None, scope
        assert found.version not in (None, stored[scope]), scope
    other = run(read_cache.lookup(collect_scope(2), "page", USER))
    assert other.entry == entry(collect_scope(2)), "another collect's views stay cached"
    assert other.version == stored[collect_scope(2)]


def test_a_store_under_an_old_version_is_never_served(read_cache: Cache, run: Run[Any]) -> None:
    """A reader that looked up before a write and rendered after it must not publish its body."""
    scope = collect_scope(7)
    before = run(read_cache.lookup(scope, "detail", USER))
    read_cache.collect_changed(7)
    run(read_cache.store(scope, before.version, "detail", entry("rendered before the write")))

    after = run(read_cache.lookup(scope, "detail", USER))
    assert after.entry is None
    assert after.version != before.version
    run(read_cache.store(scope, after.version, "detail", entry("fresh")))
    assert run(read_cache.lookup(scope, "detail", USER)).entry == entry("fresh")

    read_cache.collect_changed(7)
    read_cache.collect_changed(7)
    run(read_cache.store(scope, after.version, "detail", entry("two writes late")))
    assert run(read_cache.lookup(scope, "detail", USER)).entry is None


def test_a_revocation_comes_with_the_lookup_and_is_never_overwritten(
    read_cache: Cache, run: Run[Any]
) -> None:
    revoked = datetime(2026, 12, 3, 12, 0, 0, 250000, tzinfo=UTC)
    assert run(read_cache.lookup(LISTS, "page", USER)).tokens_valid_after is None, "unknown"
    run(read_cache.remember_tokens_valid_after(USER, 0.0))
    assert run(read_cache.lookup(LISTS, "page", USER)).tokens_valid_after == 0.0

    read_cache.tokens_revoked(USER, revoked)
    assert run(read_cache.lookup(LISTS, "page", USER)).tokens_valid_after == revoked.timestamp()
    run(read_cache.remember_tokens_valid_after(USER, 0.0))  # a read that began before it
    assert run(read_cache.tokens_valid_after(USER)) == revoked.timestamp()
    assert run(read_cache.tokens_valid_after(USER + 1)) is None, "another user"


# --- Redis only: shared between processes, one round trip ---------------------------------


@pytest.mark.redis
def test_versions_and_entries_are_shared_by_every_process(
    run: Run[Any], shared_redis: SharedRedis
) -> None:
    """Two adapters on one Redis stand for the web and worker processes."""
    url = shared_redis(CACHE_DB)
    web, worker = RedisCache(url), RedisCache(url)
    try:
        scope = collect_scope(3)
        version = run(web.lookup(scope, "detail", USER)).version
        run(web.store(scope, version, "detail", entry("cached by web")))
        assert run(worker.lookup(scope, "detail", USER)).entry == entry("cached by web")

        worker.collect_changed(3)
        assert run(web.lookup(scope, "detail", USER)).entry is None
        assert run(web.lookup(LISTS, "page", USER)).entry is None

        worker.tokens_revoked(USER, datetime(2026, 12, 3, tzinfo=UTC))
        revoked = run(web.lookup(LISTS, "page", USER)).tokens_valid_after
        assert revoked == datetime(2026, 12, 3, tzinfo=UTC).timestamp()
    finally:
        web.close()
        worker.close()


def _client_commands(server: RedisServer, action: Callable[[], object]) -> list[str]:
    """The commands clients sent the server while `action` ran (not those run inside scripts)."""
    watcher, marker = server.client(), server.client()
    try:
        with watcher.monitor() as monitor:
            marker.echo("begin-of-action")
            while "begin-of-action" not in monitor.next_command()["command"]:
                pass
            action()
            marker.echo("end-of-action")
            seen = []
            while "end-of-action" not in (command := monitor.next_command())["command"]:
                if command["client_type"] != "lua":
                    seen.append(command["command"])
            return seen
    finally:
        watcher.close()
        marker.close()


def test_a_lookup_is_one_round_trip(redis_server: RedisServer, run: Run[Any]) -> None:
    cache = RedisCache(redis_server.url())
    try:
        run(cache.lookup(LISTS, "warm-up", USER))  # the first one loads the script
        scope = collect_scope(5)

        sent = _client_commands(redis_server, lambda: run(cache.lookup(scope, "detail", USER)))
        assert len(sent) == 1, sent
        version = run(cache.lookup(scope, "detail", USER)).version
        run(cache.store(scope, version, "detail", entry("body")))
        found: list[Lookup] = []
        sent = _client_commands(
            redis_server, lambda: found.append(run(cache.lookup(scope, "detail", USER)))
        )
        assert found[0].entry == entry("body")
        assert len(sent) == 1, sent
    finally:
        cache.close()


# --- Redis unreachable, hung, and back --------------------------------------------------


def test_a_closed_port_means_bypass_and_bumps_do_not_raise(run: Run[Any]) -> None:
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0")
    try:
        for _ in range(3):
            found = run(cache.lookup(collect_scope(1), "detail", USER))
            assert found.bypassed
            assert found.entry is None
        cache.collect_changed(1)
        run(cache.store(collect_scope(1), "some-version", "detail", entry("x")))
        assert run(cache.tokens_valid_after(USER)) is None
        with pytest.raises(Unavailable):  # the revoking write must fail, not be forgotten
            cache.tokens_revoked(USER, datetime.now(UTC))
    finally:
        cache.close()


def test_a_hung_redis_is_given_up_on(redis_server: RedisServer, run: Run[Any]) -> None:
    """Every call returns (the suite's timeout would catch one that hangs): the cache is
    bypassed, a bump is dropped, and the rate limit is kept by the process meanwhile."""
    cache = RedisCache(redis_server.url())
    limiter = RedisRateLimiter(redis_server.url(), timeout=0.2)
    try:
        assert not run(cache.lookup(LISTS, "page", USER)).bypassed
        redis_server.pause()
        assert run(cache.lookup(LISTS, "page", USER)).bypassed
        cache.collect_changed(1)
        assert limiter.reserve(["address:a"], limit=1, window_seconds=60) == 0
        assert limiter.reserve(["address:a"], limit=1, window_seconds=60) > 0, "kept a limit"
    finally:
        redis_server.resume()
        cache.close()
        limiter.close()


@pytest.mark.parametrize("keeps_data", [False, True], ids=["data-lost", "data-kept"])
def test_after_an_outage_caching_resumes_and_the_missed_bump_comes_first(
    redis_server: RedisServer, run: Run[Any], keeps_data: bool
) -> None:
    """A write during the outage must win over an entry cached before it, even when Redis
    comes back with its data (persistence, or a failover to an up-to-date replica)."""
    cache = RedisCache(redis_server.url())
    scope = collect_scope(1)
    try:
        before = run(cache.lookup(scope, "detail", USER))
        run(cache.store(scope, before.version, "detail", entry("before the outage")))
        assert run(cache.lookup(scope, "detail", USER)).entry == entry("before the outage")

        redis_server.stop(save=keeps_data)
        cache.collect_changed(1)  # the write's bump cannot be written now
        assert run(cache.lookup(scope, "detail", USER)).bypassed

        redis_server.start()
        with redis_server.client() as direct:
            assert bool(direct.dbsize()) is keeps_data

        found: Lookup = wait_until(
            lambda: (
                (seen := run(cache.lookup(scope, "detail", USER))) and not seen.bypassed and seen
            ),
            timeout=5,
            what="the cache answering again",
        )
        assert found.entry is None, "the entry from before the outage was served"
        assert found.version != before.version
        run(cache.store(scope, found.version, "detail", entry("after the outage")))
        assert run(cache.lookup(scope, "detail", USER)).entry == entry("after the outage")
        assert run(cache.lookup(LISTS, "page", USER)).entry is None
    finally:
        cache.close()


def test_a_bump_missed_by_another_process_is_applied_when_redis_returns(
    redis_server: RedisServer, run: Run[Any]
) -> None:
    web, worker = RedisCache(redis_server.url()), RedisCache(redis_server.url())
    scope = collect_scope(1)
    try:
        version = run(web.lookup(scope, "detail", USER)).version
        run(web.store(scope, version, "detail", entry("cover processing")))
        redis_server.stop(save=True)
        worker.collect_changed(1)  # the cover is ready, but the bump cannot be written
        redis_server.start()
        time.sleep(2.5)  # more than the adapter's pause after a failure

        found: Lookup = wait_until(
            lambda: (seen := run(web.lookup(scope, "detail", USER))) and not seen.bypassed and seen,
            timeout=5,
            what="the cache answering again",
        )
        assert found.entry is None, "the entry cached before the outage was served"
    finally:
        web.close()
        worker.close()


def test_a_redis_answering_errors_means_bypass(redis_server: RedisServer, run: Run[Any]) -> None:
    with redis_server.client() as direct:
        direct.replicaof("127.0.0.1", free_port())  # read-only from now on
    cache = RedisCache(redis_server.url())
    try:
        found = run(cache.lookup(collect_scope(9), "detail", USER))
        assert found.entry is None
        assert found.bypassed
        cache.collect_changed(9)  # a bump that Redis refuses does not raise either
    finally:
        cache.close()
