"""The read cache, seen from the write side: what changed, after the commit."""

from typing import Protocol


class Cache(Protocol):
    def collect_changed(self, collect_id: int) -> None:
        """Make every cached view of this collect and every cached list stale. Never raises."""
        ...
