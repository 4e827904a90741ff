"""A `SeedSource` on Faker: people, collects and payments with realistic distributions."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from fundraising.adapters.seed.templates import (
    CAUSES,
    COMMENTS,
    DEPARTMENTS,
    DESCRIPTIONS,
    PROCESSORS,
    TITLES,
)
from fundraising.application.ports.seeding import Person
from fundraising.domain.collect import TITLE_MAX, Collect, Occasion
from fundraising.domain.money import Money
from fundraising.domain.payment import DonationVisibility, Payment, PaymentStatus

OCCASIONS = (Occasion.BIRTHDAY, Occasion.WEDDING, Occasion.NEW_YEAR, Occasion.OTHER)
OCCASION_WEIGHTS = (40, 20, 20, 20)
# (share, lowest, highest) in roubles: small, medium, large, whale.
AMOUNT_BANDS = ((50, 10, 100), (30, 100, 500), (15, 500, 2_000), (5, 2_000, 10_000))
STATUSES = (PaymentStatus.COMPLETED, PaymentStatus.PENDING, PaymentStatus.FAILED)
STATUS_WEIGHTS = (90, 5, 5)
MAX_AGE = timedelta(days=180)


class FakerSource:
    def __init__(self, *, seed: int | None = None, locale: str = "ru_RU") -> None:
        from faker import Faker  # noqa: PLC0415 (half a second to import: only when seeding)

        self._faker = Faker(locale)
        self._rng = random.Random(seed)
        self._faker.seed_instance(seed if seed is not None else self._rng.getrandbits(32))

    def person(self) -> Person:
        female = self._rng.random() < 0.5
        first = self._faker.first_name_female() if female else self._faker.first_name_male()
        last = self._faker.last_name_female() if female else self._faker.last_name_male()
        base = self._faker.user_name()
        username = f"{base}{self._rng.randint(1, 9999)}" if self._rng.random() < 0.5 else base
        email = f"{username}@{self._faker.free_email_domain()}"
        return Person(first, last, username, email.lower())

    def history_start(self, now: datetime) -> datetime:
        return now - MAX_AGE - timedelta(days=1)

    def collect(self, author_id: int, now: datetime) -> Collect:
        occasion = self._rng.choices(OCCASIONS, OCCASION_WEIGHTS)[0]
        start = now - MAX_AGE * self._rng.random()
        end = self._end_date(start, now)
        values = self._values(start)
        title = self._rng.choice(TITLES[occasion]).format(**values)[:TITLE_MAX]
        description = self._rng.choice(DESCRIPTIONS[occasion]).format(**values)
        goal = (
            None if self._rng.random() < 0.2 else Money(Decimal(self._rng.randint(10, 400) * 500))
        )
        return Collect(
            id=None,
            author_id=author_id,
            title=title,
            occasion=occasion,
            description=description,
            goal=goal,
            start_date=start,
            end_date=end,
            is_active=end is None or end > now,  # one that ended was closed by its author
            created_at=start,
            updated_at=start,
        )

    def _end_date(self, start: datetime, now: datetime) -> datetime | None:
        """Mostly set and ahead, a tenth of those already past; some collects never end."""
        if self._rng.random() < 0.15:
            return None
        if self._rng.random() < 0.1:
            return start + (now - start) * self._rng.uniform(0.3, 0.95)
        return now + timedelta(days=self._rng.randint(3, 120))

    def _values(self, start: datetime) -> dict[str, object]:
        event = start + timedelta(days=self._rng.randint(5, 60))
        return {
            "name": self._faker.first_name(),
            "partner": self._faker.first_name(),
            "age": self._rng.choice((18, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70)),
            "date": event.strftime("%d.%m.%Y"),
            "year": event.year + (1 if event.month > 6 else 0),
            "company": self._faker.company(),
            "department": self._rng.choice(DEPARTMENTS),
            "city": self._faker.city_name(),
            "cause": self._rng.choice(CAUSES),
            "years": self._rng.randint(5, 40),
        }

    def payment(
        self, collect: Collect, payer_id: int, transaction_id: str, now: datetime
    ) -> Payment:
        assert collect.id is not None
        last = min(now, collect.end_date) if collect.end_date else now
        when = collect.start_date + (last - collect.start_date) * self._rng.random()
        comment = self._rng.choice(COMMENTS) if self._rng.random() < 0.2 else None
        return Payment(
            id=None,
            collect_id=collect.id,
            payer_id=payer_id,
            amount=self._amount(),
            status=self._rng.choices(STATUSES, STATUS_WEIGHTS)[0],
            transaction_id=transaction_id,
            payment_date=when,
            visibility=self._visibility(),
            comment=comment,
            metadata={
                "processor": transaction_id.partition("_")[0],
                "currency": "RUB",
                "channel": self._rng.choice(("app", "web", "sbp_qr")),
            },
        )

    def _visibility(self) -> DonationVisibility:
        """One donation in ten anonymous, one in twenty without its amount."""
        draw = self._rng.random()
        if draw < 0.1:
            return DonationVisibility.ANONYMOUS
        return DonationVisibility.HIDE_AMOUNT if draw < 0.15 else DonationVisibility.PUBLIC

    def _amount(self) -> Money:
        _, low, high = self._rng.choices(AMOUNT_BANDS, [band[0] for band in AMOUNT_BANDS])[0]
        kopecks = self._rng.randint(low * 100, high * 100)
        return Money(Decimal(kopecks).scaleb(-2))

    def transaction_id(self, serial: int) -> str:
        return f"{self._rng.choice(PROCESSORS)}_{serial:010d}{self._rng.getrandbits(32):08x}"
