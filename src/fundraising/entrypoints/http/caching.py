"""Cached GET responses: a hit is served on the event loop from one cache round trip, with no
SQL; a miss runs the use case in a worker thread and stores the encoded body under the
version read before the query, so a write committed meanwhile is never hidden."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol

from litestar import Request, Response

from fundraising.adapters.cache.base import Entry, Lookup, etag_of
from fundraising.entrypoints.http.threads import in_thread


class ResponseCache(Protocol):
    async def lookup(self, scope: str, key: str) -> Lookup: ...

    async def store(self, scope: str, version: str, key: str, entry: Entry) -> None: ...


def cache_key(request: Request[Any, Any, Any], *parts: object) -> str:
    """What a response depends on: host (absolute links), path and normalized parameters."""
    text = "|".join([str(request.base_url), request.url.path, *map(str, parts)])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


async def cached_json(
    request: Request[Any, Any, Any],
    cache: ResponseCache | None,
    *,
    scope: str,
    key: str,
    render: Callable[[], bytes],
) -> Response[bytes]:
    """The JSON body for this request from the cache, or from `render` (run in a thread)."""
    if cache is None:
        return _respond(request, await _rendered(render), "MISS")
    lookup = await cache.lookup(scope, key)
    if lookup.entry is not None:
        return _respond(request, lookup.entry, "HIT")
    entry = await _rendered(render)
    if lookup.version is None:
        return _respond(request, entry, "BYPASS")
    await cache.store(scope, lookup.version, key, entry)
    return _respond(request, entry, "MISS")


async def _rendered(render: Callable[[], bytes]) -> Entry:
    body = await in_thread(render)
    return Entry(body, etag_of(body))


def _respond(request: Request[Any, Any, Any], entry: Entry, status: str) -> Response[bytes]:
    headers = {"ETag": entry.etag, "X-Cache": status, "Cache-Control": "private, no-cache"}
    if _matches(request.headers.get("if-none-match"), entry.etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
