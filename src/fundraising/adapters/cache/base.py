"""What both cache adapters share: scopes, lookups and entries."""

from __future__ import annotations

import hashlib
import itertools
import uuid

from attrs import frozen

LISTS = "lists"


def collect_scope(collect_id: int) -> str:
    return f"collect:{collect_id}"


_PROCESS = uuid.uuid4().hex[:12]
_versions = itertools.count()


def new_version() -> str:
    """A version never used before by anyone: this process's random prefix and a counter."""
    return f"{_PROCESS}{next(_versions):x}"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


@frozen
class Entry:
    """A cached response body and its ETag."""

    body: bytes
    etag: str

    def pack(self) -> bytes:
        return self.etag.encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, packed: bytes) -> Entry:
        etag, _, body = packed.partition(b"\n")
        return cls(body, etag.decode())


@frozen
class Lookup:
    """The outcome of a lookup: a hit (`entry`), or a miss to be stored under `version`.

    `version` None means the cache is unreachable: answer from the database, store nothing.
    """

    entry: Entry | None
    version: str | None

    @property
    def bypassed(self) -> bool:
        return self.version is None


BYPASS = Lookup(None, None)
