"""Errors the use cases raise; the HTTP layer maps each class to one status code."""

from __future__ import annotations

from fundraising.domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    PermissionDenied,
    ValidationFailed,
)

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "DomainError",
    "FieldError",
    "NotFound",
    "PermissionDenied",
    "Throttled",
    "TransientFailure",
    "Unavailable",
    "ValidationFailed",
]


class NotFound(DomainError):
    """No such object, or one the actor may not know exists."""


class AuthenticationFailed(DomainError):
    """Missing, invalid or expired credentials."""


class Throttled(DomainError):
    """Too many attempts; retry after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A backing service (the database) does not answer; the request may be retried later."""


class TransientFailure(DomainError):
    """The transaction lost a race (deadlock, lock timeout); running it again may succeed."""
