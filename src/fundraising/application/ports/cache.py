"""The read cache: the write side says which collects a commit changed; the HTTP side looks
rendered answers up and stores them under the version its lookup returned.

A scope is a collect (its detail and its feed) or the lists (every collect list): a change
makes every entry of the collect's scope and of the lists stale at once.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from attrs import frozen

LISTS = "lists"


def collect_scope(collect_id: int) -> str:
    return f"collect:{collect_id}"


@frozen
class CachedResponse:
    """A rendered body and its ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> CachedResponse:
        return cls(body, '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"')


@frozen
class Lookup:
    """The outcome of a lookup: a hit (`entry`), or a miss to be stored under `version`.

    `version` None means the cache is unreachable: answer from the database, store nothing.
    """

    entry: CachedResponse | None
    version: str | None

    @property
    def bypassed(self) -> bool:
        return self.version is None


BYPASS = Lookup(None, None)


class Cache(Protocol):
    def collect_changed(self, collect_id: int) -> None:
        """Make every cached view of this collect and every cached list stale. Never raises."""
        ...


class ResponseCache(Cache, Protocol):
    async def lookup(self, scope: str, key: str) -> Lookup:
        """The entry under `key` in the scope's current version, or the version to store a
        freshly rendered one under."""
        ...

    async def store(
        self,
        scope: str,
        version: str,
        key: str,
        entry: CachedResponse,
        *,
        ttl: float | None = None,
    ) -> None:
        """Keep `entry` (for at most `ttl` seconds) unless the scope moved past `version`."""
        ...
