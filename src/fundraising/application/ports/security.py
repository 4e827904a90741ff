"""Password hashing, tokens and login throttling."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from attrs import frozen

from fundraising.domain.user import AccountToken, User


class TokenType(enum.StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@frozen
class TokenPair:
    access: str
    refresh: str


@frozen
class RefreshToken:
    """The service's record of a refresh token it issued: a rotation may use it once; the
    rotations of one login form a family, revoked together."""

    jti: str
    user_id: int
    family: str
    issued_at: datetime
    expires_at: datetime


@frozen
class IssuedTokens:
    pair: TokenPair
    refresh: RefreshToken


@frozen
class TokenClaims:
    """What a valid token says. `family` is the login it belongs to (refresh tokens)."""

    user_id: int
    token_type: TokenType
    issued_at: datetime
    jti: str
    family: str | None = None


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def dummy_verify(self) -> None:
        """Spend the time of a verification, so unknown users can't be told apart by timing."""
        ...


class TokenService(Protocol):
    def issue(self, user_id: int, *, family: str | None = None) -> IssuedTokens:
        """An access and a refresh token; the refresh token continues `family`, or starts one."""
        ...

    def verify(self, token: str, expected: TokenType | None = None) -> TokenClaims:
        """The claims of a valid, unexpired token (of the expected type), checked by signature
        alone; else raise `AuthenticationFailed`."""
        ...


class AccountTokens(Protocol):
    """Tokens e-mailed to an account's owner (activation, password reset): they prove who
    asked, hold no state, and are bound to the account as it is (`User.token_binding`)."""

    def make(self, user: User, purpose: AccountToken, *, now: datetime) -> str: ...

    def check(
        self, user: User, purpose: AccountToken, token: str, *, now: datetime, max_age: timedelta
    ) -> bool:
        """Whether `token` was made for this account as it is now, and is at most `max_age`
        old (compared in constant time)."""
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
