"""Errors the use cases raise; the HTTP layer maps each class to one status code."""

from __future__ import annotations

from fundraising.domain.errors import (
    Conflict,
    DomainError,
    ExplainedError,
    FieldError,
    PermissionDenied,
    ValidationFailed,
)

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "DomainError",
    "ExplainedError",
    "FieldError",
    "NotFound",
    "PermissionDenied",
    "ServiceFailure",
    "Throttled",
    "TransientFailure",
    "Unavailable",
    "ValidationFailed",
    "no_such",
]


def no_such(what: str) -> str:
    return f"No {what} with this id."


class NotFound(ExplainedError):
    """No such object, or one the actor may not know exists."""

    @classmethod
    def of(cls, what: str) -> NotFound:
        """`NotFound.of("collect")`: "No collect with this id." """
        return cls(no_such(what))


class AuthenticationFailed(ExplainedError):
    """Missing, invalid or expired credentials."""


class Throttled(ExplainedError):
    """Too many attempts; retry after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceFailure(ExplainedError):
    """A backing service failed the request: nothing about the request itself was wrong."""


class Unavailable(ServiceFailure):
    """A backing service (the database) does not answer; the request may be retried later."""


class TransientFailure(ServiceFailure):
    """The transaction lost a race (deadlock, lock timeout); running it again may succeed."""
