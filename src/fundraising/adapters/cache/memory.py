"""The in-process cache and login throttle of the embedded mode (one process, no server)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from fundraising.adapters.cache.base import LISTS, Entry, Lookup, collect_scope, new_version


class MemoryCache:
    """Versioned entries in a bounded LRU dict; the same semantics as the Redis adapter."""

    def __init__(self, *, ttl_seconds: int = 300, max_entries: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._versions: dict[str, str] = {}
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, Entry]] = OrderedDict()
        self._lock = threading.Lock()

    def collect_changed(self, collect_id: int) -> None:
        with self._lock:
            self._versions[collect_scope(collect_id)] = new_version()
            self._versions[LISTS] = new_version()

    async def lookup(self, scope: str, key: str) -> Lookup:
        with self._lock:
            version = self._versions.setdefault(scope, new_version())
            found = self._entries.get((scope, version, key))
            if found is None or found[0] < time.monotonic():
                return Lookup(None, version)
            self._entries.move_to_end((scope, version, key))
            return Lookup(found[1], version)

    async def store(self, scope: str, version: str, key: str, entry: Entry) -> None:
        with self._lock:
            if self._versions.get(scope) != version:
                return  # a write came in meanwhile: this body may already be stale
            self._entries[(scope, version, key)] = (time.monotonic() + self._ttl, entry)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


class MemoryThrottle:
    """Attempts counted per key in a fixed window that starts with the first one."""

    def __init__(self, *, limit: int = 10, window_seconds: int = 300) -> None:
        self._limit = limit
        self._window = window_seconds
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def attempt(self, account: str, address: str) -> int:
        now = time.monotonic()
        with self._lock:
            current = {key: self._current(key, now) for key in (account, address)}
            blocked = [ends - now for count, ends in current.values() if count >= self._limit]
            if blocked:
                return int(max(blocked)) + 1
            count, ends = current[account]
            self._counts[account] = (count + 1, ends)
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        return 0

    def failed(self, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            count, ends = self._current(address, now)
            self._counts[address] = (count + 1, ends)

    def succeeded(self, account: str) -> None:
        with self._lock:
            count, ends = self._counts.get(account, (0, 0.0))
            if count > 0:
                self._counts[account] = (count - 1, ends)

    def _current(self, key: str, now: float) -> tuple[int, float]:
        count, ends = self._counts.get(key, (0, 0.0))
        return (count, ends) if ends > now else (0, now + self._window)
