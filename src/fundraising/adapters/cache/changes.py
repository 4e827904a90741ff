"""The changes file: how processes on one machine that share a database but no Redis (`serve`,
the admin CLI, `fundraising worker`) tell each other's memory caches which collects changed,
and whose tokens were revoked.

One line per change — a collect's id, or `u<user id>:<timestamp>` for a revocation — appended
with O_APPEND: a small append is atomic, so
concurrent writers never interleave. A reader stats the file on every lookup and reads only
what was appended since (its own changes too: forgetting a collect twice is harmless). A file
that shrank, was replaced or deleted, or a line that does not parse, means changes the reader
cannot know: it drops everything. Past its size bound a writer replaces the file with an empty
one (made aside, renamed over); a writer whose line went to a file renamed away meanwhile
writes it again to the new one, so that no reader can miss it.
"""

from __future__ import annotations

import os
from pathlib import Path

from attrs import field, frozen

from fundraising.adapters.cache.base import new_version

MAX_BYTES = 1 << 20  # about 40,000 changes between two rotations

Stamp = tuple[int, int, int]  # device, inode, size
_REVOKED = b"u"


@frozen
class Changes:
    """What other processes changed since the last read."""

    collects: set[int] = field(factory=set)
    revoked: dict[int, float] = field(factory=dict)  # user id -> tokens valid after (epoch s)


def _parsed(lines: list[bytes]) -> Changes | None:
    """None when a line does not parse: a garbled file means anything may have changed."""
    changes = Changes()
    for line in lines:
        if line.isdigit():
            changes.collects.add(int(line))
            continue
        user, _, stamp = line.removeprefix(_REVOKED).partition(b":")
        if not line.startswith(_REVOKED) or not user.isdigit():
            return None
        try:
            changes.revoked[int(user)] = float(stamp)
        except ValueError:
            return None
    return changes


def _open(path: Path, flags: int) -> int:
    try:
        return os.open(path, flags | os.O_CREAT, 0o666)
    except FileNotFoundError:  # its folder is missing too
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, flags | os.O_CREAT, 0o666)


def _stamp(found: os.stat_result) -> Stamp:
    return found.st_dev, found.st_ino, found.st_size


def _stamp_of(path: Path) -> Stamp | None:
    try:
        return _stamp(os.stat(path))
    except FileNotFoundError:
        return None


class ChangesFile:
    """One cache's end of the file. Reading is not thread-safe: the cache reads under its lock.

    The reader holds the file open: an inode in use is never reused, so a path that shows the
    same device and inode is the same file.
    """

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self._path = path
        self._max_bytes = max_bytes
        self._fd: int | None = None
        self._seen: Stamp | None = None  # the file as last read
        self._offset = 0  # where the first unread line starts

    def append(self, collect_id: int) -> None:
        """Tell the other processes; raises OSError when the file cannot be written."""
        self._write(b"%d\n" % collect_id)

    def revoke(self, user_id: int, valid_after: float) -> None:
        """Tell the other processes; raises OSError when the file cannot be written."""
        self._write(b"%s%d:%r\n" % (_REVOKED, user_id, valid_after))

    def _write(self, line: bytes) -> None:
        while (size := self._append(line)) is None:
            pass  # the file was replaced meanwhile: write the line again, to the new one
        if size > self._max_bytes:
            aside = self._path.with_name(f"{self._path.name}.{new_version()}")
            os.close(_open(aside, os.O_WRONLY))
            os.replace(aside, self._path)

    def _append(self, line: bytes) -> int | None:
        """The file's size with `line`, or None if the path no longer names that file."""
        fd = _open(self._path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line)
            written = _stamp(os.fstat(fd))
            named = _stamp_of(self._path)  # while `fd` is open its inode cannot be reused
        finally:
            os.close(fd)
        return written[2] if named is not None and named[:2] == written[:2] else None

    def read(self) -> Changes | None:
        """The changes since the last read; None when they cannot be known (the file was
        replaced, cut or garbled): anything may have changed.

        Raises OSError when the file cannot be read.
        """
        now = _stamp_of(self._path)
        if now is not None and now == self._seen:
            return Changes()  # the common case: one stat(), nothing new
        if now is None or self._seen is None or now[:2] != self._seen[:2] or now[2] < self._seen[2]:
            self._reopen()
            return None
        assert self._fd is not None
        data = os.pread(self._fd, now[2] - self._offset, self._offset)
        complete = data[: data.rfind(b"\n") + 1]  # a line being written is read next time
        self._seen = (*now[:2], self._offset + len(data))
        self._offset += len(complete)
        return _parsed(complete.splitlines())

    def _reopen(self) -> None:
        """Go on from the end of the file as it is now (what came before is unknown)."""
        self.close()
        self._fd = _open(self._path, os.O_RDONLY)
        self._seen = _stamp(os.fstat(self._fd))
        self._offset = self._seen[2]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._seen = None, None
