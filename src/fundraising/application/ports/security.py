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


class LoginThrottle(Protocol):
    def retry_after(self, keys: Sequence[str]) -> int:
        """Seconds until any of `keys` may try again; 0 when none is blocked."""
        ...

    def record_failure(self, keys: Sequence[str]) -> None: ...
