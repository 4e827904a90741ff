"""Redis URLs as an operator writes them: unix://, rediss:// (TLS, with a password) and
redis:// reach the same cache; a TLS server that cannot be verified, or a rediss:// URL to a
plain-text port, is never talked to in clear text; any other scheme is refused at start."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from fundraising.adapters.cache.pipelined import PipelinedRedis
from fundraising.adapters.cache.redis import RedisCache
from fundraising.application.ports.cache import CachedResponse, collect_scope
from tests.e2e.cli_helpers import Cli, assert_one_line_failure
from tests.integration.fixtures_services import (
    RedisServer,
    free_port,
    secured_redis_fixture,  # noqa: F401  (fixture)
)
from tests.integration.processes import deployment

USER = 7  # whose "tokens valid after" stamp each lookup also reads

URLS: dict[str, Callable[[RedisServer], str]] = {
    "unix": lambda server: server.unix_url(1),
    "rediss": lambda server: server.tls_url(2),
    "redis": lambda server: server.url(3),
}
BODY = CachedResponse.of(b'{"title": "cached"}')


async def _hit_then_stale(cache: RedisCache) -> None:
    scope = collect_scope(1)
    miss = await cache.lookup(scope, "detail", USER)
    assert miss.entry is None
    assert not miss.bypassed, "the cache did not answer"
    assert miss.version is not None
    await cache.store(scope, miss.version, "detail", BODY)
    assert (await cache.lookup(scope, "detail", USER)).entry == BODY

    cache.collect_changed(1)
    stale = await cache.lookup(scope, "detail", USER)
    assert stale.entry is None
    assert stale.version not in (None, miss.version)


@pytest.mark.parametrize("scheme", URLS)
def test_the_cache_works_over_each_scheme(secured_redis: RedisServer, scheme: str) -> None:
    url = URLS[scheme](secured_redis)
    assert url.startswith(f"{scheme}://")
    cache = RedisCache(url)
    try:
        asyncio.run(_hit_then_stale(cache))
    finally:
        cache.close()


async def _bypassed(cache: RedisCache) -> None:
    for _ in range(3):
        found = await cache.lookup(collect_scope(1), "detail", USER)
        assert found.bypassed
        assert found.entry is None
        await cache.store(collect_scope(1), "some-version", "detail", BODY)


def test_a_rediss_url_to_a_plain_text_port_is_a_bypass(secured_redis: RedisServer) -> None:
    cache = RedisCache(secured_redis.url().replace("redis://", "rediss://"))
    try:
        asyncio.run(_bypassed(cache))
    finally:
        cache.close()


async def _ping(url: str, timeout: float = 2.0) -> bytes:
    client = PipelinedRedis(url)
    try:
        async with asyncio.timeout(timeout):
            return bytes(await client.call("PING"))
    finally:
        client.close()


def test_rediss_never_falls_back_to_clear_text(secured_redis: RedisServer) -> None:
    """Before, the pipelined client ignored the scheme: this PING was answered, the password
    having gone over the wire in the open."""
    plain_port = secured_redis.url().replace("redis://", "rediss://")
    with pytest.raises((ssl.SSLError, TimeoutError)):
        asyncio.run(_ping(plain_port, timeout=0.5))  # a plain-text server waits for more


@pytest.mark.parametrize(
    ("url", "connects"),
    [
        (lambda server: server.tls_url(), True),
        (lambda server: server.tls_url(trust=False), False),
        (lambda server: server.tls_url(host="127.0.0.1"), False),
        (lambda server: server.tls_url(trust=False) + "?ssl_cert_reqs=none", True),
        (lambda server: server.tls_url(host="127.0.0.1") + "&ssl_check_hostname=false", True),
    ],
    ids=["verified", "unknown-ca", "wrong-host", "cert-reqs-none", "no-hostname-check"],
)
def test_tls_verifies_the_certificate_and_the_host_unless_the_url_says_not_to(
    secured_redis: RedisServer, url: Callable[[RedisServer], str], connects: bool
) -> None:
    if connects:
        assert asyncio.run(_ping(url(secured_redis))) == b"PONG"
    else:
        with pytest.raises(ssl.SSLCertVerificationError):
            asyncio.run(_ping(url(secured_redis)))


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("http://127.0.0.1:6379/0", "http"), ("REDIS://127.0.0.1", "REDIS"), ("h:6379", "h")],
)
def test_another_scheme_is_refused_by_name_when_built(url: str, scheme: str) -> None:
    for build in (PipelinedRedis, RedisCache):
        with pytest.raises(ValueError, match=f"scheme '{scheme}' is not one of"):
            build(url)


def test_an_unknown_certificate_requirement_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="ssl_cert_reqs"):
        RedisCache("rediss://localhost:6379/0?ssl_cert_reqs=maybe")


# --- `fundraising serve` configured with each scheme ------------------------------------------


@pytest.mark.mysql
@pytest.mark.parametrize("scheme", ["unix", "rediss"])
def test_served_collects_are_cached_over_the_scheme(
    tmp_path: Path, secured_redis: RedisServer, scheme: str
) -> None:
    with deployment(tmp_path) as deployed:
        deployed.serve(workers=1, FUNDRAISING_REDIS_URL=URLS[scheme](secured_redis))
        api = deployed.api()
        try:
            author = api.account("author")
            collect = api.collect(author, "Подарок")
            first, second = api.detail(collect["id"], author), api.detail(collect["id"], author)
            assert (first.status_code, second.status_code) == (200, 200), deployed.logs()
            assert [first.headers["X-Cache"], second.headers["X-Cache"]] == ["MISS", "HIT"]
            assert second.content == first.content
            ready = api.http.get("/health/ready")
            assert ready.status_code == 200, ready.text
        finally:
            api.close()


@pytest.mark.parametrize(
    ("variable", "url"),
    [("FUNDRAISING_REDIS_URL", "http://x"), ("FUNDRAISING_BROKER_URL", "localhost:6379")],
)
def test_serve_refuses_another_scheme_in_one_line(tmp_path: Path, variable: str, url: str) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'fundraising.sqlite3'}", **{variable: url})
    result = cli.run("serve", "--port", str(free_port()), timeout=30)
    assert_one_line_failure(result, variable, "redis://", "rediss://", "unix://")
