"""Rate limits: counters in fixed windows, in Redis (shared by every process) or in memory.

When Redis does not answer, the limits are kept by the process itself until it answers again:
a limit never falls back to no limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS: the counters; ARGV[1] the limit, ARGV[2] the window in seconds. When a counter is full,
# nothing is counted and the longest wait is returned; else every counter counts one attempt.
_RESERVE = """
local wait = 0
for _, key in ipairs(KEYS) do
    if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[1]) then
        local ttl = redis.call('TTL', key)
        if ttl < 0 then redis.call('EXPIRE', key, ARGV[2]); ttl = tonumber(ARGV[2]) end
        if ttl > wait then wait = ttl end
    end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
    redis.call('INCR', key)
    redis.call('EXPIRE', key, ARGV[2], 'NX')
end
return 0
"""
# KEYS: counters. Each takes one attempt back, never below zero.
_RELEASE = """
for _, key in ipairs(KEYS) do
    if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


class MemoryRateLimiter:
    """Counters of this process; a window starts with the first attempt counted in it."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def reserve(self, keys: Sequence[str], *, limit: int, window_seconds: int) -> int:
        now = time.monotonic()
        with self._lock:
            current = {key: self._current(key, now, window_seconds) for key in keys}
            full = [ends - now for count, ends in current.values() if count >= limit]
            if full:
                return int(max(full)) + 1
            for key, (count, ends) in current.items():
                self._counts[key] = (count + 1, ends)
            if len(self._counts) > self._max_keys:
                self._counts = {key: kept for key, kept in self._counts.items() if kept[1] > now}
        return 0

    def release(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                count, ends = self._counts.get(key, (0, 0.0))
                if count > 0:
                    self._counts[key] = (count - 1, ends)

    def _current(self, key: str, now: float, window: int) -> tuple[int, float]:
        count, ends = self._counts.get(key, (0, 0.0))
        return (count, ends) if ends > now else (0, now + window)


class RedisRateLimiter:
    """Counters in Redis, checked and counted by one script (atomic across processes)."""

    def __init__(self, url: str, *, namespace: str = "fundraising", timeout: float = 0.5) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._ns = namespace
        self._reserve = self._redis.register_script(_RESERVE)
        self._release = self._redis.register_script(_RELEASE)
        self._fallback = MemoryRateLimiter()
        self._warned = False

    def _keys(self, keys: Sequence[str]) -> list[str]:
        return [f"{self._ns}:limit:{key}" for key in keys]

    def reserve(self, keys: Sequence[str], *, limit: int, window_seconds: int) -> int:
        try:
            wait = self._reserve(keys=self._keys(keys), args=[limit, window_seconds])
        except RedisError as error:
            self._unavailable(error)
            return self._fallback.reserve(keys, limit=limit, window_seconds=window_seconds)
        self._warned = False
        return int(wait)

    def release(self, keys: Sequence[str]) -> None:
        try:
            self._release(keys=self._keys(keys))
        except RedisError as error:
            self._unavailable(error)
        self._fallback.release(keys)  # it may have counted the attempt; never goes below zero

    def _unavailable(self, error: RedisError) -> None:
        if not self._warned:
            log.warning("redis unreachable, rate limits are kept by this process: %s", error)
            self._warned = True

    def close(self) -> None:
        self._redis.close()
