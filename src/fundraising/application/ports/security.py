"""Password hashing, tokens and login throttling."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol

from attrs import frozen


class TokenType(enum.StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@frozen
class TokenPair:
    access: str
    refresh: str


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def dummy_verify(self) -> None:
        """Spend the time of a verification, so unknown users can't be told apart by timing."""
        ...


class TokenService(Protocol):
    def issue(self, user_id: int) -> TokenPair: ...

    def verify(self, token: str, expected: TokenType | None = None) -> int:
        """The user id of a valid token (of the expected type); raise `AuthenticationFailed`."""
        ...


class RateLimiter(Protocol):
    """Attempts counted per key in fixed windows, by every server process together (Redis) or
    by this process alone (the embedded mode, and whenever Redis does not answer): never by
    nobody."""

    def reserve(self, keys: Sequence[str], *, limit: int, window_seconds: int) -> int:
        """Count one attempt against every key, all or none: 0 when counted; else nothing is
        counted and the answer is the seconds until the fullest key has room again."""
        ...

    def release(self, keys: Sequence[str]) -> None:
        """Take back an attempt that `reserve` counted (never below zero)."""
        ...
