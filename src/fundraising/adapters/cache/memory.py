"""The in-process cache of the embedded mode (no Redis).

The processes that share the embedded database — `serve`, the admin CLI, `fundraising worker`
— each keep their own cache and tell the others what they changed through a `ChangesFile`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime

from fundraising.adapters.cache.base import new_version
from fundraising.adapters.cache.changes import ChangesFile
from fundraising.application.errors import Unavailable
from fundraising.application.ports.cache import (
    BYPASS,
    LISTS,
    CachedResponse,
    Lookup,
    collect_scope,
)

log = logging.getLogger(__name__)
_Kept = tuple[float, CachedResponse]  # (when it expires, the entry)


class MemoryCache:
    """Versioned entries in a bounded LRU dict; the same semantics as the Redis adapter.

    A lookup first applies the changes other processes recorded (one stat() when there are
    none); when it cannot know them, it answers BYPASS.
    """

    def __init__(
        self, changes: ChangesFile, *, ttl_seconds: int = 300, max_entries: int = 10_000
    ) -> None:
        self._changes = changes
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._versions: dict[str, str] = {}
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, CachedResponse]] = (
            OrderedDict()
        )
        self._valid_after: dict[int, float] = {}
        self._lock = threading.Lock()
        self._unreadable = False

    def collect_changed(self, collect_id: int) -> None:
        with self._lock:
            self._forget(collect_id)
        try:
            self._changes.append(collect_id)
        except OSError as error:
            log.warning(
                "other processes may not see the change of collect %d: %s", collect_id, error
            )

    def tokens_revoked(self, user_id: int, before: datetime) -> None:
        with self._lock:
            self._valid_after[user_id] = before.timestamp()
        try:
            self._changes.revoke(user_id, before.timestamp())
        except OSError as error:
            raise Unavailable("The revocation cannot be told to the other processes.") from error

    def _forget(self, collect_id: int) -> None:
        """A scope without a version gets a new one: what was stored under the old is stale."""
        self._versions.pop(collect_scope(collect_id), None)
        self._versions.pop(LISTS, None)

    def _caught_up(self) -> bool:
        """Apply the changes of other processes; False while they cannot be read."""
        try:
            changed = self._changes.read()
        except OSError as error:
            if not self._unreadable:
                log.warning("cache changes file unreadable, answering from the database: %s", error)
            self._unreadable = True
            return False
        self._unreadable = False
        if changed is None:
            self._versions.clear()
            self._entries.clear()
            self._valid_after.clear()
        else:
            for collect_id in changed.collects:
                self._forget(collect_id)
            self._valid_after.update(changed.revoked)
        return True

    async def lookup(self, scope: str, key: str, user_id: int) -> Lookup:
        with self._lock:
            if not self._caught_up():
                return BYPASS
            version = self._versions.setdefault(scope, new_version())
            valid_after = self._valid_after.get(user_id)
            found = self._entries.get((scope, version, key))
            if found is None or found[0] < time.monotonic():
                return Lookup(None, version, valid_after)
            self._entries.move_to_end((scope, version, key))
            return Lookup(found[1], version, valid_after)

    async def tokens_valid_after(self, user_id: int) -> float | None:
        with self._lock:
            return self._valid_after.get(user_id) if self._caught_up() else None

    async def remember_tokens_valid_after(self, user_id: int, valid_after: float) -> None:
        with self._lock:
            if self._caught_up():
                self._valid_after.setdefault(user_id, valid_after)

    async def store(
        self, scope: str, version: str, key: str, entry: CachedResponse, *, ttl: float | None = None
    ) -> None:
        lifetime = self._ttl if ttl is None else min(ttl, self._ttl)
        with self._lock:
            if self._versions.get(scope) != version:
                return  # a write came in meanwhile: this body may already be stale
            self._entries[(scope, version, key)] = (time.monotonic() + lifetime, entry)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def close(self) -> None:
        with self._lock:
            self._changes.close()
