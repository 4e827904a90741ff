"""What both cache adapters share: versions no process ever used before."""

from __future__ import annotations

import itertools
import uuid

_PROCESS = uuid.uuid4().hex[:12]
_versions = itertools.count()


def new_version() -> str:
    """A version never used before by anyone: this process's random prefix and a counter."""
    return f"{_PROCESS}{next(_versions):x}"
