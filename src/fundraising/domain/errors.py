"""Errors raised when a domain rule is broken."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from attrs import frozen

T = TypeVar("T")
REQUIRED = "This field is required."


class ExplainedError(Exception):
    """Raised on purpose, with a `detail` written for the client: the base of the errors of
    every layer that an entrypoint answers (the HTTP layer maps each class to a status)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class DomainError(ExplainedError):
    """A domain rule is broken."""


class InvalidValue(ValueError):
    """A single value breaks its rule; callers attach it to the field it came from."""


@frozen
class FieldError:
    field: str
    message: str


class ValidationFailed(DomainError):
    """One or more input fields are invalid; `errors` names every one of them."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        fields = ", ".join(dict.fromkeys(error.field for error in self.errors))
        super().__init__(f"Invalid input: {fields}.")

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])


class PermissionDenied(DomainError):
    """The actor may not do this to this object."""


class Conflict(DomainError):
    """The request is valid but clashes with the current state."""


class FieldErrors:
    """Collects per-field errors so that one `ValidationFailed` can name all of them."""

    def __init__(self, errors: Iterable[FieldError] = ()) -> None:
        self._errors = list(errors)

    def add(self, field: str, message: str) -> None:
        self._errors.append(FieldError(field, message))

    def require(self, field: str, value: object) -> None:
        """A missing value (None) is an error of its field, unless the field has one already."""
        if value is None and field not in self:
            self.add(field, REQUIRED)

    def check(self, field: str, parse: Callable[[], T]) -> T | None:
        """Run `parse()`; on `InvalidValue` record it under `field` and return None.

        A field that already has an error is not parsed again.
        """
        if field in self:
            return None
        try:
            return parse()
        except InvalidValue as error:
            self.add(field, str(error))
            return None

    def __contains__(self, field: object) -> bool:
        return any(error.field == field for error in self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            raise ValidationFailed(self._errors)

    def __bool__(self) -> bool:
        return bool(self._errors)
