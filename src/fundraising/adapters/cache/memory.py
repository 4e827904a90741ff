"""The in-process cache and login throttle of the embedded mode (one process, no server)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

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
    """Failures counted per key in a fixed window that starts with the first failure."""

    def __init__(self, *, limit: int = 10, window_seconds: int = 300) -> None:
        self._limit = limit
        self._window = window_seconds
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keys: Sequence[str]) -> int:
        now = time.monotonic()
        with self._lock:
            waits = [
                ends - now
                for key in keys
                if (found := self._failures.get(key)) is not None
                for count, ends in [found]
                if count >= self._limit and ends > now
            ]
        return max((int(wait) + 1 for wait in waits), default=0)

    def record_failure(self, keys: Sequence[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                count, ends = self._failures.get(key, (0, 0.0))
                if ends <= now:
                    count, ends = 0, now + self._window
                self._failures[key] = (count + 1, ends)
            if len(self._failures) > 100_000:
                self._failures = {k: v for k, v in self._failures.items() if v[1] > now}
