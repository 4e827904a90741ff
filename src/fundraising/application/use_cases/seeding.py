"""Generating realistic test data at scale, through the service's ports."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from attrs import define, field, frozen

from fundraising.application.ports.clock import Clock
from fundraising.application.ports.queries import Totals
from fundraising.application.ports.security import PasswordHasher
from fundraising.application.ports.seeding import BulkLoader, Person, Progress, SeedSource
from fundraising.application.use_cases.collects import new_share_key
from fundraising.domain.collect import Collect
from fundraising.domain.errors import ValidationFailed
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment, PaymentStatus
from fundraising.domain.user import username_key

BATCH = 5_000


@frozen
class SeedRequest:
    users: int = 50
    collects: int = 100
    payments: int = 5_000
    password: str = "testpassword"


@frozen
class SeedSummary:
    users: int
    collects: int
    payments: int


@frozen
class GenerateTestData:
    """Users, then collects by random authors, then payments streamed in batches (memory stays
    flat); each collect's totals are counted from the payments generated for it."""

    loader: BulkLoader
    hasher: PasswordHasher
    clock: Clock

    def __call__(
        self, request: SeedRequest, source: SeedSource, rng: random.Random, progress: Progress
    ) -> SeedSummary:
        if request.users < 1 or request.collects < 0 or request.payments < 0:
            raise ValidationFailed.single("users", "Need at least one user and no negative count.")
        now = self.clock.now()
        users = self._users(request, source, progress, now)
        collects = self._collects(
            request.collects, authors=users, source=source, rng=rng, progress=progress, now=now
        )
        payments = self._payments(
            request.payments,
            collects=collects,
            payers=users,
            source=source,
            rng=rng,
            progress=progress,
            now=now,
        )
        return SeedSummary(len(users), len(collects), payments)

    def _users(
        self, request: SeedRequest, source: SeedSource, progress: Progress, now: datetime
    ) -> list[int]:
        progress.start("users", request.users)
        password_hash = self.hasher.hash(request.password)  # hashed once, shared by all
        ids: list[int] = []
        while len(ids) < request.users:
            people = self._unique_people(source, min(BATCH, request.users - len(ids)))
            joined = source.history_start(now)
            ids += self.loader.add_users([(person, password_hash) for person in people], joined)
            progress.advance(len(people))
        return ids

    def _unique_people(self, source: SeedSource, count: int) -> list[Person]:
        """`count` people whose usernames and e-mails are new, also against existing rows."""
        people: list[Person] = []
        names: set[str] = set()
        emails: set[str] = set()
        while len(people) < count:
            candidates = [source.person() for _ in range(count - len(people))]
            taken_names, taken_emails = self.loader.taken(
                [p.username for p in candidates], [p.email for p in candidates]
            )
            emails |= taken_emails
            names |= {username_key(name) for name in taken_names}
            for person in candidates:
                if username_key(person.username) not in names and person.email not in emails:
                    people.append(person)
                    names.add(username_key(person.username))
                    emails.add(person.email)
        return people

    def _collects(
        self,
        count: int,
        *,
        authors: list[int],
        source: SeedSource,
        rng: random.Random,
        progress: Progress,
        now: datetime,
    ) -> list[Collect]:
        progress.start("collects", count)
        made: list[Collect] = []
        while len(made) < count:
            size = min(BATCH, count - len(made))
            batch = [source.collect(rng.choice(authors), now) for _ in range(size)]
            for collect in batch:
                collect.share_key = new_share_key()  # a secret of the service, not made-up data
            for collect, collect_id in zip(batch, self.loader.add_collects(batch), strict=True):
                collect.id = collect_id
            made += batch
            progress.advance(size)
        return made

    def _payments(
        self,
        count: int,
        *,
        collects: list[Collect],
        payers: list[int],
        source: SeedSource,
        rng: random.Random,
        progress: Progress,
        now: datetime,
    ) -> int:
        progress.start("payments", count if collects else 0)
        if not collects:
            return 0
        serial = self.loader.payment_serial()
        tallies = {collect.id: _Tally() for collect in collects if collect.id is not None}

        def batch(first: int, size: int) -> Iterator[Payment]:
            for offset in range(size):
                collect, payer = rng.choice(collects), rng.choice(payers)
                txid = source.transaction_id(first + offset)
                payment = source.payment(collect, payer, txid, now)
                tallies[payment.collect_id].count(payment)
                yield payment

        written = 0
        while written < count:
            size = min(BATCH, count - written)
            written += self.loader.add_payments(batch(serial + written, size))
            progress.advance(size)
        self.loader.set_totals({cid: tally.totals() for cid, tally in tallies.items()})
        self.loader.add_donors_as_members(list(tallies))
        return written


@define
class _Tally:
    """A collect's totals, counted as its payments are generated."""

    kopecks: int = 0
    donations: int = 0
    donors: set[int | None] = field(factory=set)

    def count(self, payment: Payment) -> None:
        if payment.status is PaymentStatus.COMPLETED:
            self.kopecks += int(payment.amount.amount * 100)
            self.donations += 1
            self.donors.add(payment.payer_id)

    def totals(self) -> Totals:
        return Totals(Money(Decimal(self.kopecks).scaleb(-2)), self.donations, len(self.donors))
