"""The read cache: the write side says which collects a commit changed; the HTTP side looks
rendered answers up and stores them under the version its lookup returned.

A scope is a collect (its detail and its feed) or the lists (every collect list): a change
makes every entry of the collect's scope and of the lists stale at once.

The cache also keeps, per user, when their tokens were last revoked ("valid after", seconds
since the epoch; 0 for never), so that a hit can refuse a revoked token without SQL. A value
it does not hold is unknown, never "not revoked": the app then asks the database.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol

from attrs import frozen

LISTS = "lists"


def collect_scope(collect_id: int) -> str:
    return f"collect:{collect_id}"


@frozen
class CachedResponse:
    """A rendered body, its ETag, and who may be shown it (`audience` None: every user)."""

    body: bytes
    etag: str
    audience: frozenset[int] | None = None

    @classmethod
    def of(cls, body: bytes, audience: frozenset[int] | None = None) -> CachedResponse:
        etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
        return cls(body, etag, audience)

    def admits(self, user_id: int) -> bool:
        return self.audience is None or user_id in self.audience


@frozen
class Lookup:
    """The outcome of a lookup: a hit (`entry`), or a miss to be stored under `version`; and
    the user's `tokens_valid_after`, when the cache knows it.

    `version` None means the cache is unreachable: answer from the database, store nothing.
    """

    entry: CachedResponse | None
    version: str | None
    tokens_valid_after: float | None = None

    @property
    def bypassed(self) -> bool:
        return self.version is None


BYPASS = Lookup(None, None)


class Cache(Protocol):
    def collect_changed(self, collect_id: int) -> None:
        """Make every cached view of this collect and every cached list stale. Never raises."""
        ...

    def tokens_revoked(self, user_id: int, before: datetime) -> None:
        """From now on no hit accepts this user's tokens issued before `before`; raise
        `Unavailable` when that cannot be recorded (the revoking write must then fail)."""
        ...


class ResponseCache(Cache, Protocol):
    async def lookup(self, scope: str, key: str, user_id: int) -> Lookup:
        """The entry under `key` in the scope's current version, or the version to store a
        freshly rendered one under; with `user_id`'s tokens_valid_after when known."""
        ...

    async def tokens_valid_after(self, user_id: int) -> float | None:
        """When the user's tokens were last revoked (0: never); None when unknown."""
        ...

    async def remember_tokens_valid_after(self, user_id: int, valid_after: float) -> None:
        """Keep what the database says, unless a revocation was recorded meanwhile."""
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
