"""File storage and image processing ports."""

from __future__ import annotations

from typing import BinaryIO, Protocol


class FileStorage(Protocol):
    def save(self, data: BinaryIO, *, folder: str, suffix: str, name: str | None = None) -> str:
        """Store a file and return its key: `folder/name+suffix`, or a fresh unique name.

        A given name is replaced if it exists (so that doing the same work twice leaves one file).
        """
        ...

    def read(self, key: str) -> bytes:
        """The file's bytes; `FileNotFoundError` when there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error."""
        ...

    def exists(self, key: str) -> bool: ...


class InvalidImage(Exception):
    """The data is not an acceptable image; the message says why, for the client."""


class ImageProcessor(Protocol):
    def check(self, data: BinaryIO) -> None:
        """Raise `InvalidImage` unless `data` is a JPEG, PNG or WebP within the pixel limit."""
        ...

    def make_cover(self, data: bytes) -> bytes:
        """The published cover: oriented, stripped of metadata, fitted, progressive JPEG."""
        ...
