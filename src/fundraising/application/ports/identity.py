"""Checks of names and addresses that need data the core does not hold: Unicode's table of
look-alike characters, and the grammar of e-mail addresses with internationalised domains."""

from __future__ import annotations

from typing import Protocol


class IdentityRules(Protocol):
    def email(self, value: str) -> str:
        """One address (never a list: `a,b@x.y` is refused), normalised and lower-cased, as
        stored; raise `InvalidValue` saying what is wrong."""
        ...

    def deceptive(self, username: str) -> bool:
        """Whether it mixes alphabets with look-alike letters (`pаypal` with a Cyrillic а)."""
        ...
