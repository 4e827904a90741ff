"""Links to the service that e-mails carry: built from the configured public address."""

from __future__ import annotations

from typing import Protocol


class Links(Protocol):
    def collect(self, collect_id: int) -> str:
        """Where a collect is seen."""
        ...
