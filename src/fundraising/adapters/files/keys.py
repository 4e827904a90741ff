"""File keys (`folder/name+suffix`, the same in every storage) and where a bucket keeps them."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

NAME_BYTES = 24


def file_key(folder: str, suffix: str, name: str | None) -> str:
    """The key of `name`, else of 192 random bits (covers of private collects are served to
    whoever knows the name: it must not be guessable)."""
    return f"{folder}/{name or secrets.token_hex(NAME_BYTES)}{suffix}"


def s3_location(url: str) -> tuple[str, str]:
    """The bucket and key prefix of `s3://bucket[/prefix]`."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not an s3://bucket[/prefix] URL")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""
