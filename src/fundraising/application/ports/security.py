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
    """Failed logins counted per key in a fixed window; the count is taken before the password
    is checked, so that parallel guesses cannot get past the limit."""

    def attempt(self, keys: Sequence[str]) -> int:
        """Count one attempt on every key; if one is over the limit, count nothing and return
        the seconds until it may try again. 0: the attempt is counted and may go ahead."""
        ...

    def succeeded(self, keys: Sequence[str]) -> None:
        """Take back the attempt just counted: successful logins do not count."""
        ...
