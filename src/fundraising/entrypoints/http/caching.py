"""Cached GET responses of collects.

A hit is answered by `CachedReads`, a middleware that runs before the handler's parameter
parsing and dependencies: one cache round trip, no SQL, the stored bytes as they are. A miss
goes on to the handler, which runs the use case in a worker thread and stores the encoded body
under the version read *before* the query, so a write committed meanwhile is never hidden.
Both sides derive the cache key from the raw request the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl

from litestar import Request, Response
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

from fundraising.adapters.cache.base import LISTS, Entry, Lookup, collect_scope, etag_of
from fundraising.application.errors import AuthenticationFailed
from fundraising.entrypoints.http.dependencies import MAX_ID
from fundraising.entrypoints.http.threads import in_thread

COLLECTS = "/api/v1/collects"
_LOOKUP = "cache_lookup"


class ResponseCache(Protocol):
    async def lookup(self, scope: str, key: str) -> Lookup: ...

    async def store(self, scope: str, version: str, key: str, entry: Entry) -> None: ...


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")


def _bearer(scope: Scope) -> str:
    kind, _, token = _header(scope, b"authorization").partition(" ")
    return token.strip() if kind.lower() == "bearer" else ""


def target(scope: Scope, user_id: int) -> tuple[str, str] | None:
    """The cache scope and key of a collect GET, or None for any other request.

    The key covers what the body depends on: scheme and host (absolute links), path and the
    query, with `author=me` resolved to the caller so that nobody gets another's list.
    """
    parts = scope["path"].removeprefix(COLLECTS).strip("/").split("/")
    if parts == [""]:
        cache_scope = LISTS
    elif parts[0].isascii() and parts[0].isdigit() and parts[1:] in ([], ["payments"]):
        if not 1 <= int(parts[0]) <= MAX_ID:
            return None
        cache_scope = collect_scope(int(parts[0]))
    else:
        return None
    # In the order given: with a repeated parameter the last one wins, so order matters.
    query = [
        (name, str(user_id) if (name, value) == ("author", "me") else value)
        for name, value in parse_qsl(scope["query_string"].decode("latin-1"), True)
    ]
    host = _header(scope, b"host")
    text = f"{scope['scheme']}://{host}{scope['path'].rstrip('/')}?{query}"
    return cache_scope, hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class CachedReads:
    """Answer collect GETs from the cache when it holds them; pass everything else on."""

    def __init__(
        self, app: ASGIApp, *, cache: ResponseCache, authenticate: Callable[[str], int]
    ) -> None:
        self._app = app
        self._cache = cache
        self._authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "GET":  # websockets have no method
            await self._app(scope, receive, send)
            return
        try:
            user_id = self._authenticate(_bearer(scope))
        except AuthenticationFailed:
            await self._app(scope, receive, send)  # the handler answers the 401
            return
        found = target(scope, user_id)
        if found is None:
            await self._app(scope, receive, send)
            return
        lookup = await self._cache.lookup(*found)
        if lookup.entry is None:
            scope.setdefault("state", {})[_LOOKUP] = (found, lookup)
            await self._app(scope, receive, send)
            return
        status, headers = _answer(_header(scope, b"if-none-match"), lookup.entry, "HIT")
        body = b"" if status == 304 else lookup.entry.body
        raw_headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        if status == 200:
            raw_headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": status,
            "headers": raw_headers,
        }
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def cached_json(
    request: Request[Any, Any, Any],
    cache: ResponseCache | None,
    user_id: int,
    render: Callable[[], bytes],
) -> Response[bytes]:
    """The JSON body for this request: from the cache, or from `render` run in a thread."""
    if cache is None:
        return _respond(request, await _rendered(render), "MISS")
    found, lookup = request.scope.get("state", {}).get(_LOOKUP) or (None, None)
    if found is None or lookup is None:
        found = target(request.scope, user_id)
        if found is None:  # a path the router took but no cache key names (e.g. /collects/+1/)
            return _respond(request, await _rendered(render), "BYPASS")
        lookup = await cache.lookup(*found)
        if lookup.entry is not None:
            return _respond(request, lookup.entry, "HIT")
    entry = await _rendered(render)
    if lookup.version is None:
        return _respond(request, entry, "BYPASS")
    await cache.store(found[0], lookup.version, found[1], entry)
    return _respond(request, entry, "MISS")


async def _rendered(render: Callable[[], bytes]) -> Entry:
    body = await in_thread(render)
    return Entry(body, etag_of(body))


def _answer(if_none_match: str, entry: Entry, status: str) -> tuple[int, dict[str, str]]:
    headers = {"ETag": entry.etag, "X-Cache": status, "Cache-Control": "private, no-cache"}
    return (304 if _matches(if_none_match, entry.etag) else 200), headers


def _respond(request: Request[Any, Any, Any], entry: Entry, status: str) -> Response[bytes]:
    code, headers = _answer(request.headers.get("if-none-match", ""), entry, status)
    if code == 304:
        return Response(b"", status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
