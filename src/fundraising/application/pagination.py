"""Page requests: the contract's `page`/`page_size` rules in one place."""

from __future__ import annotations

from typing import TypeVar

from attrs import frozen

from fundraising.application.errors import NotFound, ValidationFailed
from fundraising.application.views import Page

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


@frozen
class PageRequest:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def of(cls, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> PageRequest:
        """Clamp the size to 100; a size below 1 is invalid; a page below 1 does not exist."""
        if page_size < 1:
            raise ValidationFailed.single("page_size", "Must be a positive integer.")
        if page < 1:
            raise NotFound("Invalid page.")
        return cls(page, min(page_size, MAX_PAGE_SIZE))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def reaches(self, count: int) -> bool:
        """Whether this page exists for a list of `count` items (page 1 always does)."""
        return self.number == 1 or self.offset < count


def page_or_404(page: Page[T]) -> Page[T]:
    """The page, or `NotFound` when it lies past the end of its list."""
    if not PageRequest(page.number, page.size).reaches(page.count):
        raise NotFound("Invalid page.")
    return page
