"""`CachedReads`, the ASGI middleware in front of the app: a hit is answered without the app
(no routing, no handler, no SQL), with the headers every answer carries; anything else — a
miss, another method, a cross-origin read, a request without a valid token — goes to the app."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fundraising.adapters.cache.changes import ChangesFile
from fundraising.adapters.cache.memory import MemoryCache
from fundraising.application.errors import AuthenticationFailed
from fundraising.application.ports.cache import CachedResponse
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


def _authenticate(token: str) -> int:
    if token != "good":
        raise AuthenticationFailed("no")
    return USER


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
    lookup = asyncio.run(cache.lookup(*found))
    assert lookup.version is not None
    asyncio.run(cache.store(found[0], lookup.version, found[1], CachedResponse.of(body)))


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
