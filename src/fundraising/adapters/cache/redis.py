"""The Redis cache and login throttle: one round trip per lookup, never a stale answer.

When Redis does not answer (within a short timeout) the cache stays out of the way for a
moment and requests are answered from the database (BYPASS); a version bump that could not
be written is kept and written before this process uses the cache again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence

import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from fundraising.adapters.cache.base import (
    BYPASS,
    LISTS,
    Entry,
    Lookup,
    collect_scope,
    new_version,
)

log = logging.getLogger(__name__)

# KEYS[1] version key; ARGV[1] entry key prefix, ARGV[2] entry key suffix, ARGV[3] new version.
_LOOKUP = """
local version = redis.call('GET', KEYS[1])
if not version then
    redis.call('SET', KEYS[1], ARGV[3], 'NX')
    version = redis.call('GET', KEYS[1])
end
return {version, redis.call('GET', ARGV[1] .. version .. ARGV[2])}
"""
# KEYS: counters; ARGV[1] limit. Returns the longest remaining window of a blocked key.
_RETRY_AFTER = """
local wait = 0
for _, key in ipairs(KEYS) do
    local count = tonumber(redis.call('GET', key) or '0')
    if count >= tonumber(ARGV[1]) then
        local ttl = redis.call('TTL', key)
        if ttl > wait then wait = ttl end
    end
end
return wait
"""


class _Breaker:
    """After a failure, skip Redis for `pause` seconds instead of waiting on it every time."""

    def __init__(self, pause: float) -> None:
        self._pause = pause
        self._closed_until = 0.0

    @property
    def open(self) -> bool:
        return time.monotonic() < self._closed_until

    def failed(self, error: Exception) -> None:
        if not self.open:
            log.warning("redis unreachable, answering without the cache: %s", error)
        self._closed_until = time.monotonic() + self._pause


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
        self._sync = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._async_url = url
        self._timeout = timeout
        self._async_clients: dict[int, aioredis.Redis] = {}
        self._ns = namespace
        self._ttl = ttl_seconds
        self._breaker = _Breaker(pause_after_failure)
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._lookup = self._sync.register_script(_LOOKUP)

    def _version_key(self, scope: str) -> str:
        return f"{self._ns}:v:{scope}"

    def _entry_key(self, scope: str, version: str, key: str) -> str:
        return f"{self._ns}:e:{scope}:{version}:{key}"

    def collect_changed(self, collect_id: int) -> None:
        with self._lock:
            self._pending.update((collect_scope(collect_id), LISTS))
        self._flush()

    def _flush(self) -> bool:
        """Write the pending version bumps; False if Redis did not take them."""
        with self._lock:
            scopes = sorted(self._pending)
        if not scopes:
            return True
        try:
            pipe = self._sync.pipeline(transaction=False)
            for scope in scopes:
                pipe.set(self._version_key(scope), new_version())
            pipe.execute()
        except RedisError as error:
            self._breaker.failed(error)
            return False
        with self._lock:
            self._pending.difference_update(scopes)
        return True

    def _client(self) -> aioredis.Redis:
        """One asyncio client per event loop (each server worker process has its own)."""
        loop_id = id(asyncio.get_running_loop())
        client = self._async_clients.get(loop_id)
        if client is None:
            # No socket timeout nor retries inside redis-py (each would cost a task per read):
            # one asyncio.timeout bounds every call instead.
            client = aioredis.Redis.from_url(
                self._async_url,
                socket_timeout=None,
                socket_connect_timeout=self._timeout,
                retry=None,
            )
            self._async_clients[loop_id] = client
        return client

    async def lookup(self, scope: str, key: str) -> Lookup:
        if self._breaker.open or (self._pending and not self._flush()):
            return BYPASS
        prefix = f"{self._ns}:e:{scope}:"
        try:
            async with asyncio.timeout(self._timeout):
                version, packed = await self._client().evalsha(
                    self._lookup.sha, 1, self._version_key(scope), prefix, f":{key}", new_version()
                )
        except aioredis.ResponseError:
            await self._client().script_load(_LOOKUP)
            return await self.lookup(scope, key)
        except (RedisError, OSError, TimeoutError) as error:
            self._breaker.failed(error)
            return BYPASS
        version = version.decode()
        return Lookup(Entry.unpack(packed) if packed else None, version)

    async def store(self, scope: str, version: str, key: str, entry: Entry) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._client().set(
                    self._entry_key(scope, version, key), entry.pack(), ex=self._ttl
                )
        except (RedisError, OSError, TimeoutError) as error:
            self._breaker.failed(error)

    def close(self) -> None:
        self._sync.close()


class RedisThrottle:
    """Login failures counted atomically in Redis (INCR, then EXPIRE on the first failure)."""

    def __init__(
        self,
        url: str,
        *,
        limit: int = 10,
        window_seconds: int = 300,
        namespace: str = "fundraising",
    ) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._limit = limit
        self._window = window_seconds
        self._ns = namespace
        self._retry_after = self._redis.register_script(_RETRY_AFTER)

    def _key(self, key: str) -> str:
        return f"{self._ns}:login:{key}"

    def retry_after(self, keys: Sequence[str]) -> int:
        try:
            wait = self._retry_after(keys=[self._key(key) for key in keys], args=[self._limit])
        except RedisError as error:
            log.warning("login throttle unavailable, allowing the attempt: %s", error)
            return 0
        return int(wait)

    def record_failure(self, keys: Sequence[str]) -> None:
        try:
            pipe = self._redis.pipeline(transaction=True)
            for key in keys:
                pipe.incr(self._key(key))
                pipe.expire(self._key(key), self._window, nx=True)
            pipe.execute()
        except RedisError as error:
            log.warning("login throttle unavailable, failure not counted: %s", error)
