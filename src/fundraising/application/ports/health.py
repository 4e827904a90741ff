"""Readiness: whether each backing service answers right now."""

from __future__ import annotations

from typing import Protocol

OK = "ok"


class Readiness(Protocol):
    def check(self) -> dict[str, str]:
        """Each part's state by name ("database", "cache", "broker"): `OK` or what is wrong,
        never a secret."""
        ...
