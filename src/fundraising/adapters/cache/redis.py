"""The Redis cache and login throttle: one round trip per lookup, never a stale answer.

When Redis does not answer (within a short timeout) the cache stays out of the way for a
moment and requests are answered from the database (BYPASS). A process that could not reach
Redis — it may have missed a version bump, its own or another's — or that has just started
is "dirty": it serves nothing from the cache, and a background thread keeps trying to move the
global epoch, which every entry key includes. Once it has, nothing cached before the outage
(or before a restart during one) can be served by any process.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime

import redis
from redis.exceptions import NoScriptError, RedisError

from fundraising.adapters.cache.base import new_version
from fundraising.adapters.cache.pipelined import PipelinedRedis
from fundraising.application.errors import Unavailable
from fundraising.application.ports.cache import (
    BYPASS,
    LISTS,
    CachedResponse,
    Lookup,
    collect_scope,
)

log = logging.getLogger(__name__)
_RECOVERY_INTERVAL = 0.1
_KNOWN = 24 * 3600  # how long a user's tokens-valid-after is kept (then asked again)

# KEYS[1] epoch, KEYS[2] the scope's version, KEYS[3] the user's tokens-valid-after;
# ARGV[1] entry key prefix, ARGV[2] its suffix, ARGV[3] a new version for a scope that has
# none. Returns {epoch.version, entry, valid after} (GET's false for a missing key keeps the
# array whole).
_LOOKUP = """
local epoch = redis.call('GET', KEYS[1]) or '-'
local version = redis.call('GET', KEYS[2])
if not version then
    redis.call('SET', KEYS[2], ARGV[3], 'NX')
    version = redis.call('GET', KEYS[2])
end
local token = epoch .. '.' .. version
return {token, redis.call('GET', ARGV[1] .. token .. ARGV[2]), redis.call('GET', KEYS[3])}
"""


def _packed(entry: CachedResponse) -> bytes:
    """The ETag, the audience ("*" for every user, else user ids) and the body, in lines."""
    audience = "*" if entry.audience is None else ",".join(map(str, sorted(entry.audience)))
    return f"{entry.etag}\n{audience}\n".encode() + entry.body


def _unpacked(packed: bytes) -> CachedResponse:
    etag, _, rest = packed.partition(b"\n")
    audience, _, body = rest.partition(b"\n")
    ids = None if audience == b"*" else frozenset(int(i) for i in audience.split(b",") if i)
    return CachedResponse(body, etag.decode(), ids)


class _Breaker:
    """After a failure, skip Redis for `pause` seconds instead of waiting on it every time."""

    def __init__(self, pause: float) -> None:
        self._pause = pause
        self._open_until = 0.0

    @property
    def open(self) -> bool:
        return time.monotonic() < self._open_until

    def failed(self, error: Exception) -> None:
        if not self.open:
            log.warning("redis unreachable, answering without the cache: %s", error)
        self._open_until = time.monotonic() + self._pause


class RedisCache:
    def __init__(
        self,
        url: str,
        *,
        namespace: str = "fundraising",
        ttl_seconds: int = 300,
        timeout: float = 0.25,
        pause_after_failure: float = 1.0,
    ) -> None:
        PipelinedRedis(url)  # a URL the read path cannot use is refused now, not on each request
        self._sync = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._async_url = url
        self._timeout = timeout
        self._async_clients: dict[int, tuple[asyncio.AbstractEventLoop, PipelinedRedis]] = {}
        self._ns = namespace
        self._ttl = ttl_seconds
        self._pause = pause_after_failure
        self._breaker = _Breaker(pause_after_failure)
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._recovering: threading.Thread | None = None
        self._lookup = self._sync.register_script(_LOOKUP)
        self._new_epoch()  # this process may be a restart that missed bumps: start afresh

    def _new_epoch(self) -> None:
        try:
            self._sync.set(f"{self._ns}:epoch", new_version())
        except RedisError as error:
            self._breaker.failed(error)
            self._missed_a_bump()

    def _version_key(self, scope: str) -> str:
        return f"{self._ns}:v:{scope}"

    def collect_changed(self, collect_id: int) -> None:
        try:
            pipe = self._sync.pipeline(transaction=False)
            for scope in (collect_scope(collect_id), LISTS):
                pipe.set(self._version_key(scope), new_version())
            pipe.execute()
        except RedisError as error:
            self._breaker.failed(error)
            self._missed_a_bump()

    def _missed_a_bump(self) -> None:
        self._dirty.set()
        with self._lock:
            if self._recovering is None or not self._recovering.is_alive():
                self._recovering = threading.Thread(
                    target=self._recover, name="cache-recovery", daemon=True
                )
                self._recovering.start()

    def _recover(self) -> None:
        """Move the epoch once Redis answers: every entry written before is unreachable."""
        while self._dirty.is_set() and not self._closed.is_set():
            try:
                self._sync.set(f"{self._ns}:epoch", new_version())
            except Exception:  # anything but success means: try again soon
                self._closed.wait(_RECOVERY_INTERVAL)
                continue
            self._dirty.clear()
            log.info("redis is back: cached responses from before the outage are dropped")

    def _client(self) -> PipelinedRedis:
        """One pipelined connection per event loop (each server worker process has its own)."""
        loop = asyncio.get_running_loop()
        found = self._async_clients.get(id(loop))
        if found is None or found[0] is not loop:
            found = self._async_clients[id(loop)] = (loop, PipelinedRedis(self._async_url))
        return found[1]

    def _valid_after_key(self, user_id: int) -> str:
        return f"{self._ns}:tva:{user_id}"

    async def lookup(self, scope: str, key: str, user_id: int) -> Lookup:
        if self._breaker.open or self._dirty.is_set():
            return BYPASS
        keys = (f"{self._ns}:epoch", self._version_key(scope), self._valid_after_key(user_id))
        args = (f"{self._ns}:e:{scope}:", f":{key}", new_version())
        client = self._client()
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    reply = await client.call("EVALSHA", self._lookup.sha, 3, *keys, *args)
                except NoScriptError:  # Redis restarted: its script cache is empty
                    reply = await client.call("EVAL", _LOOKUP, 3, *keys, *args)
            token, packed, valid_after = reply
            entry = _unpacked(packed) if packed else None
            return Lookup(entry, token.decode(), float(valid_after) if valid_after else None)
        except Exception as error:  # TLS, protocol, a reply of the wrong shape: all a failure
            self._failed(client, error)
            return BYPASS

    def tokens_revoked(self, user_id: int, before: datetime) -> None:
        try:
            self._sync.set(self._valid_after_key(user_id), repr(before.timestamp()), ex=_KNOWN)
        except RedisError as error:
            self._breaker.failed(error)
            raise Unavailable("The revocation cannot be recorded; try again shortly.") from error

    async def tokens_valid_after(self, user_id: int) -> float | None:
        if self._breaker.open or self._dirty.is_set():
            return None
        client = self._client()
        try:
            async with asyncio.timeout(self._timeout):
                found = await client.call("GET", self._valid_after_key(user_id))
        except Exception as error:
            self._failed(client, error)
            return None
        return float(found) if found else None

    async def remember_tokens_valid_after(self, user_id: int, valid_after: float) -> None:
        if self._breaker.open or self._dirty.is_set():
            return
        client = self._client()
        key = self._valid_after_key(user_id)
        try:  # NX: a revocation recorded meanwhile is newer than what the database said
            async with asyncio.timeout(self._timeout):
                await client.call("SET", key, repr(valid_after), "EX", _KNOWN, "NX")
        except Exception as error:
            self._failed(client, error)

    async def store(
        self, scope: str, version: str, key: str, entry: CachedResponse, *, ttl: float | None = None
    ) -> None:
        lifetime_ms = int(1000 * (self._ttl if ttl is None else min(ttl, self._ttl)))
        client = self._client()
        try:
            async with asyncio.timeout(self._timeout):
                entry_key = f"{self._ns}:e:{scope}:{version}:{key}"
                await client.call("SET", entry_key, _packed(entry), "PX", max(lifetime_ms, 1))
        except Exception as error:  # as in lookup: a cache never fails a request
            self._failed(client, error)

    def _failed(self, client: PipelinedRedis, error: Exception) -> None:
        self._breaker.failed(error)
        client.close()  # a connection that timed out may be half dead: start afresh
        self._missed_a_bump()  # others may have written while we could not see Redis

    def close(self) -> None:
        self._closed.set()
        self._sync.close()
        for _, client in self._async_clients.values():
            client.close()
