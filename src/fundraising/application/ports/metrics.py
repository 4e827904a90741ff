"""Business figures for operators: donations and refunds, counted and summed."""

from __future__ import annotations

from typing import Protocol

from fundraising.domain.money import Money


class Meter(Protocol):
    """Told only once the commit that made a figure true has succeeded."""

    def donated(self, amount: Money) -> None: ...

    def refunded(self, count: int, amount: Money) -> None: ...


class Unmetered:
    """The meter of use cases that nobody watches (one-off commands, tests)."""

    def donated(self, amount: Money) -> None:
        pass

    def refunded(self, count: int, amount: Money) -> None:
        pass


UNMETERED = Unmetered()
