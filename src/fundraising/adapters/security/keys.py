"""The signing key of an installation that configured none: random, made once, kept private."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

KEY_BYTES = 48


def key_from_file(path: Path) -> str:
    """The key kept at `path`, created on first use (mode 0600).

    Several processes may start at once: each writes a candidate aside and links it into place,
    which only the first can do; every process then reads the same key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(candidate, path)
        finally:
            candidate.unlink()
    return path.read_text().strip()
