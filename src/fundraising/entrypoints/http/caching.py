"""Cached GET responses of collects: a hit is answered in front of the app, a miss by it.

`CachedReads` is an ASGI middleware wrapped around the Litestar app: a collect GET whose answer
the cache holds is answered there, before routing — one cache round trip, no SQL, the stored
bytes as they are. Anything else goes on to the app, where `cached_json` renders a miss in a
worker thread and stores it under the version read *before* the query, so that a write
committed meanwhile is never hidden. Both derive the key the same way (`cache_key`). A cache
that fails in any way is bypassed: the answer comes from the database, never a 500.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from attrs import frozen
from litestar import Request, Response
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

from fundraising.application.errors import AuthenticationFailed
from fundraising.application.ports.cache import (
    BYPASS,
    LISTS,
    CachedResponse,
    Lookup,
    ResponseCache,
    collect_scope,
)
from fundraising.application.ports.security import TokenClaims
from fundraising.domain.ids import is_id
from fundraising.entrypoints.http.headers import common_headers
from fundraising.entrypoints.http.observed import user_seen
from fundraising.entrypoints.http.pages import COLLECT_LIST_QUERY, PAGING
from fundraising.entrypoints.http.threads import in_thread

log = logging.getLogger(__name__)
COLLECTS = "/api/v1/collects"
_LOOKUP = "cache_lookup"


MAX_ENTRY_BYTES = 1 << 20  # a larger body is answered, not kept
_QUERIES = {"": COLLECT_LIST_QUERY, "detail": (), "payments": PAGING}


@frozen
class Rendered:
    """A body, for how long the cache may keep it at most (what a clock changes, a collect's
    `ended`, must not outlive its moment in the cache; None: as long as it likes), and who
    else may be shown it (None: every user)."""

    body: bytes
    fresh_for: float | None = None
    audience: frozenset[int] | None = None


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")


def _bearer(scope: Scope) -> str:
    kind, _, token = _header(scope, b"authorization").partition(" ")
    return token.strip() if kind.lower() == "bearer" else ""


def cache_key(scope: Scope, user_id: int, public_url: str | None) -> tuple[str, str] | None:
    """The cache scope and key of a collect GET, or None for any other request.

    The key covers what the body depends on: the base of its absolute links (the public URL,
    else the request's scheme and host), the path, and the query parameters the endpoint knows,
    with `author=me` and `mine` resolved to the caller so that nobody gets another's list. Unknown
    parameters change nothing, so they make no new entry.
    """
    parts = scope["path"].removeprefix(COLLECTS).strip("/").split("/")
    if parts == [""]:
        cache_scope, known = LISTS, _QUERIES[""]
    elif parts[0].isascii() and parts[0].isdigit() and parts[1:] in ([], ["payments"]):
        if not is_id(int(parts[0])):
            return None
        cache_scope, known = collect_scope(int(parts[0])), _QUERIES[(parts[1:] or ["detail"])[0]]
    else:
        return None
    # In the order given: with a repeated parameter the last one wins, so order matters.
    query = [
        (name, _personal(name, value, user_id))
        for name, value in parse_qsl(scope["query_string"].decode("latin-1"), True)
        if name in known
    ]
    base = public_url or f"{scope['scheme']}://{_header(scope, b'host')}"
    text = f"{base}{scope['path'].rstrip('/')}?{query}"
    return cache_scope, hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _personal(name: str, value: str, user_id: int) -> str:
    """A parameter's value in the key: `author=me` is the caller's id, and `mine` names whose."""
    if (name, value) == ("author", "me"):
        return str(user_id)
    return f"{value}@{user_id}" if name == "mine" else value


class CachedReads:
    """Answer collect GETs from the cache when it holds them; pass everything else on (to the
    app, whose handlers render and store what the cache did not hold)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: ResponseCache,
        authenticate: Callable[[str], TokenClaims],
        public_url: str | None,
    ) -> None:
        self._app = app
        self._cache = cache
        self._authenticate = authenticate
        self._public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Websockets have no method. A cross-origin read goes through the app, whose CORS layer
        # adds its headers; the handler answers it from the cache all the same.
        if scope.get("method") != "GET" or _header(scope, b"origin"):
            await self._app(scope, receive, send)
            return
        try:
            claims = self._authenticate(_bearer(scope))
        except AuthenticationFailed:
            await self._app(scope, receive, send)  # the handler answers the 401
            return
        found = cache_key(scope, claims.user_id, self._public_url)
        if found is None:
            await self._app(scope, receive, send)
            return
        lookup = await _lookup(self._cache, found, claims.user_id)
        scope.setdefault("state", {})[_LOOKUP] = (found, lookup)
        if lookup.entry is None or not _accepts(lookup, claims):
            await self._app(scope, receive, send)  # it checks the token against the database
            return
        if not lookup.entry.admits(claims.user_id):
            await self._app(scope, receive, send)  # it answers the 404
            return
        scope["path_template"] = _route(scope["path"])  # as the app's router would name it
        user_seen(scope, claims.user_id)
        status, headers = _answer(_header(scope, b"if-none-match"), lookup.entry, "HIT")
        body = b"" if status == 304 else lookup.entry.body
        raw_headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        raw_headers += common_headers(scope)
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


def _route(path: str) -> str:
    """The route template of a path that `cache_key` accepted."""
    parts = path.removeprefix(COLLECTS).strip("/").split("/")
    if parts == [""]:
        return COLLECTS
    return f"{COLLECTS}/{{collect_id}}" + ("/payments" if parts[1:] else "")


def _accepts(lookup: Lookup, claims: TokenClaims) -> bool:
    """Whether the cache knows the token is not revoked (unknown: the app asks the database)."""
    valid_after = lookup.tokens_valid_after
    return valid_after is not None and claims.issued_at.timestamp() >= valid_after


def looked_up_valid_after(scope: Scope) -> float | None:
    """The caller's tokens-valid-after that `CachedReads` found for this request, if any."""
    found = scope.get("state", {}).get(_LOOKUP)
    return None if found is None else found[1].tokens_valid_after


async def cached_json(
    request: Request[Any, Any, Any],
    cache: ResponseCache | None,
    user_id: int,
    render: Callable[[], Rendered],
) -> Response[bytes]:
    """The JSON body for this request: from the cache, or from `render` run in a thread."""
    if cache is None:
        return _respond(request, (await _rendered(render))[0], "MISS")
    found, lookup = request.scope.get("state", {}).get(_LOOKUP) or (None, None)
    if found is None or lookup is None:
        found = cache_key(request.scope, user_id, request.app.state.public_url)
        if found is None:  # a path the router took but no cache key names (e.g. /collects/+1/)
            return _respond(request, (await _rendered(render))[0], "BYPASS")
        lookup = await _lookup(cache, found, user_id)
        if lookup.entry is not None and lookup.entry.admits(user_id):
            return _respond(request, lookup.entry, "HIT")  # the token was checked already
    entry, fresh_for = await _rendered(render)
    if lookup.version is None:
        return _respond(request, entry, "BYPASS")
    return _respond(request, entry, await _kept(cache, found, lookup.version, entry, fresh_for))


async def _kept(
    cache: ResponseCache,
    found: tuple[str, str],
    version: str,
    entry: CachedResponse,
    fresh_for: float | None,
) -> str:
    """Store a rendered body unless it is too large or already stale; how it was answered."""
    if len(entry.body) > MAX_ENTRY_BYTES or (fresh_for is not None and fresh_for <= 0):
        return "MISS"
    try:
        await cache.store(found[0], version, found[1], entry, ttl=fresh_for)
    except Exception as error:
        log.warning("response cache failed to store, answering without it", exc_info=error)
        return "BYPASS"
    return "MISS"


async def _lookup(cache: ResponseCache, found: tuple[str, str], user_id: int) -> Lookup:
    try:
        return await cache.lookup(*found, user_id)
    except Exception as error:
        log.warning("response cache failed to look up, answering without it", exc_info=error)
        return BYPASS


async def known_valid_after(cache: ResponseCache, user_id: int) -> float | None:
    """The user's revocation stamp as the cache knows it; None when it does not (or fails)."""
    try:
        return await cache.tokens_valid_after(user_id)
    except Exception as error:
        log.warning(
            "response cache failed to tell a revocation, asking the database", exc_info=error
        )
        return None


async def remember_valid_after(cache: ResponseCache, user_id: int, valid_after: float) -> None:
    try:
        await cache.remember_tokens_valid_after(user_id, valid_after)
    except Exception as error:
        log.warning("response cache failed to remember a revocation stamp", exc_info=error)


async def _rendered(render: Callable[[], Rendered]) -> tuple[CachedResponse, float | None]:
    rendered = await in_thread(render)
    return CachedResponse.of(rendered.body, rendered.audience), rendered.fresh_for


def _answer(if_none_match: str, entry: CachedResponse, status: str) -> tuple[int, dict[str, str]]:
    headers = {"ETag": entry.etag, "X-Cache": status, "Cache-Control": "private, no-cache"}
    return (304 if _matches(if_none_match, entry.etag) else 200), headers


def _respond(
    request: Request[Any, Any, Any], entry: CachedResponse, status: str
) -> Response[bytes]:
    code, headers = _answer(request.headers.get("if-none-match", ""), entry, status)
    if code == 304:
        return Response(b"", status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
