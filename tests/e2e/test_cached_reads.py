"""`CachedReads`, the ASGI middleware in front of the app: a hit is answered without the app
(no routing, no handler, no SQL), with the headers every answer carries; anything else — a
miss, another method, a cross-origin read, a request without a valid token — goes to the app."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fundraising.adapters.cache.changes import ChangesFile
from fundraising.adapters.cache.memory import MemoryCache
from fundraising.application.errors import AuthenticationFailed
from fundraising.application.ports.cache import CachedResponse
from fundraising.application.ports.security import TokenClaims, TokenType
from fundraising.entrypoints.http.caching import CachedReads, cache_key

USER = 7


class RecordingApp:
    """Stands for the Litestar app: records what reaches it and answers 200 "from the app"."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"from the app"})


ISSUED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _authenticate(token: str) -> TokenClaims:
    if token != "good":
        raise AuthenticationFailed("no")
    return TokenClaims(USER, TokenType.ACCESS, issued_at=ISSUED, jti="jti")


def _scope(path: str, method: str = "GET", **headers: str) -> dict[str, Any]:
    raw = [
        (b"authorization", b"Bearer good"),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]
    return {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": path,
        "query_string": b"",
        "headers": [(name.lower(), value) for name, value in raw],
    }


def _call(middleware: CachedReads, scope: dict[str, Any]) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


@pytest.fixture
def cache(tmp_path: Path) -> MemoryCache:
    return MemoryCache(ChangesFile(tmp_path / "cache-changes"))


def _stored(cache: MemoryCache, path: str, body: bytes) -> None:
    found = cache_key(_scope(path), USER, "http://public.example")
    assert found is not None
    lookup = asyncio.run(cache.lookup(*found, USER))
    assert lookup.version is not None
    asyncio.run(cache.store(found[0], lookup.version, found[1], CachedResponse.of(body)))
    asyncio.run(cache.remember_tokens_valid_after(USER, 0.0))  # as the first request left it


def test_a_hit_is_answered_without_the_app(cache: MemoryCache) -> None:
    app = RecordingApp()
    middleware = CachedReads(
        app, cache=cache, authenticate=_authenticate, public_url="http://public.example"
    )
    _stored(cache, "/api/v1/collects/5/", b'{"id": 5}')

    status, headers, body = _call(middleware, _scope("/api/v1/collects/5/"))

    assert (status, body, app.paths) == (200, b'{"id": 5}', [])
    assert headers[b"x-cache"] == b"HIT"
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"x-request-id"]
    assert headers[b"etag"] == CachedResponse.of(b'{"id": 5}').etag.encode()


def test_everything_else_goes_to_the_app(cache: MemoryCache) -> None:
    app = RecordingApp()
    middleware = CachedReads(
        app, cache=cache, authenticate=_authenticate, public_url="http://public.example"
    )
    _stored(cache, "/api/v1/collects/5/", b'{"id": 5}')
    cases = [
        _scope("/api/v1/collects/6/"),  # a miss
        _scope("/api/v1/collects/5/", method="PATCH"),
        _scope("/api/v1/collects/5/", origin="https://app.example"),  # CORS is the app's
        {**_scope("/api/v1/collects/5/"), "headers": [(b"authorization", b"Bearer bad")]},
        _scope("/health/live"),
    ]
    answers = [_call(middleware, scope)[2] for scope in cases]
    assert answers == [b"from the app"] * len(cases)
    assert len(app.paths) == len(cases)


def test_a_change_makes_the_next_read_go_to_the_app(cache: MemoryCache) -> None:
    app = RecordingApp()
    middleware = CachedReads(
        app, cache=cache, authenticate=_authenticate, public_url="http://public.example"
    )
    _stored(cache, "/api/v1/collects/5/", b'{"id": 5}')
    cache.collect_changed(5)
    assert _call(middleware, _scope("/api/v1/collects/5/"))[2] == b"from the app"


def test_a_hit_for_a_user_whose_revocations_the_cache_does_not_know_goes_to_the_app(
    tmp_path: Path,
) -> None:
    """E.g. after Redis lost its data: the app checks the token against the database."""
    app = RecordingApp()
    cache = MemoryCache(ChangesFile(tmp_path / "cache-changes"))
    middleware = CachedReads(
        app, cache=cache, authenticate=_authenticate, public_url="http://public.example"
    )
    found = cache_key(_scope("/api/v1/collects/5/"), USER, "http://public.example")
    assert found is not None
    version = asyncio.run(cache.lookup(*found, USER)).version
    assert version is not None
    asyncio.run(cache.store(found[0], version, found[1], CachedResponse.of(b"{}")))

    assert _call(middleware, _scope("/api/v1/collects/5/"))[2] == b"from the app"


@pytest.mark.parametrize(
    ("revoked", "answered_by"),
    [
        (ISSUED + timedelta(microseconds=1), b"from the app"),  # the app answers the 401
        (ISSUED, b'{"id": 5}'),  # a token issued at the revocation's instant, or after, is good
    ],
)
def test_a_token_issued_before_its_user_s_revocation_never_gets_a_hit(
    cache: MemoryCache, revoked: datetime, answered_by: bytes
) -> None:
    app = RecordingApp()
    middleware = CachedReads(
        app, cache=cache, authenticate=_authenticate, public_url="http://public.example"
    )
    _stored(cache, "/api/v1/collects/5/", b'{"id": 5}')
    cache.tokens_revoked(USER, revoked)

    assert _call(middleware, _scope("/api/v1/collects/5/"))[2] == answered_by
