"""Password hashing, tokens and login throttling."""

from __future__ import annotations

import enum
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
    """Failed logins counted per account and per client address, in a fixed window.

    An account's attempt is counted *before* its password is checked (and taken back if it
    succeeds), so that parallel guesses at one account cannot get past the limit; an address
    counts its failures only, so that many people behind one address can log in at once.
    """

    def attempt(self, account: str, address: str) -> int:
        """0 when the attempt may go ahead (and is counted against the account); else the
        seconds until the account or the address may try again."""
        ...

    def failed(self, address: str) -> None:
        """Count a failure against the address (the account's was counted by `attempt`)."""
        ...

    def succeeded(self, account: str) -> None:
        """Take back the account's attempt: successful logins do not count."""
        ...
