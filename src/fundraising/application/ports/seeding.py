"""What generating test data needs: a source of realistic values and a bulk loader."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from attrs import frozen

from fundraising.application.ports.queries import Totals
from fundraising.domain.collect import Collect
from fundraising.domain.payment import Payment


@frozen
class Person:
    first_name: str
    last_name: str
    username: str
    email: str


class SeedSource(Protocol):
    """Realistic, reproducible values: the same seed gives the same sequence."""

    def person(self) -> Person: ...

    def history_start(self, now: datetime) -> datetime:
        """No generated collect or payment is older: the users joined before it."""
        ...

    def collect(self, author_id: int, now: datetime) -> Collect: ...

    def payment(
        self, collect: Collect, payer_id: int, transaction_id: str, now: datetime
    ) -> Payment: ...

    def transaction_id(self, serial: int) -> str:
        """A processor-prefixed id, unique for each `serial`."""
        ...


class BulkLoader(Protocol):
    """Multi-row inserts, each call its own transaction; ids come back in order. Like a unit
    of work, it makes the cache forget the collects each transaction wrote, once committed."""

    def taken(self, usernames: Sequence[str], emails: Sequence[str]) -> tuple[set[str], set[str]]:
        """Which of these usernames and e-mails already exist."""
        ...

    def add_users(self, users: Sequence[tuple[Person, str]], joined: datetime) -> list[int]:
        """Insert (person, password hash) rows; their new ids, in order."""
        ...

    def add_collects(self, collects: Sequence[Collect]) -> list[int]:
        """Insert collects, each with its author as its first member; their new ids, in order."""
        ...

    def add_payments(self, payments: Iterable[Payment]) -> int:
        """Insert payments as they are (counters untouched); how many."""
        ...

    def set_totals(self, totals: Mapping[int, Totals]) -> None:
        """Write the counters of these collects."""
        ...

    def add_donors_as_members(self, collect_ids: Sequence[int]) -> None:
        """Make everyone who completed a donation to these collects a participant of it."""
        ...

    def payment_serial(self) -> int:
        """A number larger than any used so far, to keep new transaction ids unique."""
        ...


class Progress(Protocol):
    """How the caller shows a long run: one stage at a time."""

    def start(self, stage: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...
