"""In-memory fakes of the seeding ports: a predictable source, a bulk loader, recorded progress."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from attrs import evolve

from fundraising.application.ports.queries import Totals
from fundraising.application.ports.seeding import Person
from fundraising.domain.collect import Collect, Occasion
from fundraising.domain.membership import Member, Role
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment, PaymentStatus
from fundraising.domain.user import User
from tests.fakes import FakeDatabase


class FakeSeedSource:
    """Predictable people, collects and payments; every third person repeats a name."""

    def __init__(self) -> None:
        self._people = itertools.count(1)

    def person(self) -> Person:
        n = next(self._people)
        name = f"person{n - 1 if n % 3 == 0 else n}"
        return Person("Имя", "Фамилия", name, f"{name}@example.com")

    def history_start(self, now: datetime) -> datetime:
        return now - timedelta(days=30)

    def collect(self, author_id: int, now: datetime) -> Collect:
        return Collect.open(
            author_id=author_id,
            title="Сбор",
            occasion=Occasion.OTHER,
            description="",
            goal=None,
            end_date=None,
            now=now - timedelta(days=10),
            share_key="",
        )

    def payment(
        self, collect: Collect, payer_id: int, transaction_id: str, now: datetime
    ) -> Payment:
        assert collect.id is not None
        serial = int(transaction_id.rpartition("_")[2])
        status = PaymentStatus.FAILED if serial % 4 == 0 else PaymentStatus.COMPLETED
        return Payment(
            id=None,
            collect_id=collect.id,
            payer_id=payer_id,
            amount=Money.of(f"{serial % 50 + 1}.25"),
            status=status,
            transaction_id=transaction_id,
            payment_date=now,
        )

    def transaction_id(self, serial: int) -> str:
        return f"fake_{serial}"


class FakeBulkLoader:
    """Writes generated rows straight into the fake database."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.joined: list[datetime] = []

    def taken(self, usernames: Sequence[str], emails: Sequence[str]) -> tuple[set[str], set[str]]:
        users = self.db.users.values()
        return (
            {u.username for u in users} & set(usernames),
            {u.email for u in users} & set(emails),
        )

    def add_users(self, users: Sequence[tuple[Person, str]], joined: datetime) -> list[int]:
        self.joined.append(joined)
        ids = []
        for person, password_hash in users:
            user_id = next(self.db.ids)
            self.db.users[user_id] = User(
                user_id,
                person.username,
                person.email,
                password_hash,
                person.first_name,
                person.last_name,
                True,
                joined,
            )
            ids.append(user_id)
        return ids

    def add_collects(self, collects: Sequence[Collect]) -> list[int]:
        ids = []
        for collect in collects:
            collect_id = next(self.db.ids)
            self.db.collects[collect_id] = evolve(collect, id=collect_id)
            author = collect.author_id
            self.db.members[(collect_id, author)] = Member(
                collect_id, author, Role.AUTHOR, joined_at=collect.created_at
            )
            ids.append(collect_id)
        return ids

    def add_donors_as_members(self, collect_ids: Sequence[int]) -> None:
        for collect_id in collect_ids:
            for payment in self.db.completed_payments(collect_id):
                key = (collect_id, payment.payer_id or 0)
                if payment.payer_id is not None and key not in self.db.members:
                    self.db.members[key] = Member(
                        collect_id, payment.payer_id, Role.PARTICIPANT, payment.payment_date
                    )

    def add_payments(self, payments: Iterable[Payment]) -> int:
        count = 0
        for payment in payments:
            payment_id = next(self.db.ids)
            self.db.payments[payment_id] = evolve(payment, id=payment_id)
            count += 1
        return count

    def set_totals(self, totals: Mapping[int, Totals]) -> None:
        for collect_id, tally in totals.items():
            collect = self.db.collects[collect_id]
            collect.collected = tally.collected
            collect.donations_count = tally.donations
            collect.donors_count = tally.donors

    def payment_serial(self) -> int:
        return len(self.db.payments) + 1


class RecordedProgress:
    def __init__(self) -> None:
        self.stages: dict[str, list[int]] = {}

    def start(self, stage: str, total: int) -> None:
        self.stages[stage] = [total, 0]

    def advance(self, count: int) -> None:
        self.stages[list(self.stages)[-1]][1] += count
