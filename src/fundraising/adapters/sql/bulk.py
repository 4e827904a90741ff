"""Bulk loading for generated data: multi-row inserts, one transaction per batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, bindparam, exists, func, insert, literal, select, update

from fundraising.adapters.sql import rows
from fundraising.adapters.sql.errors import translated_errors
from fundraising.adapters.sql.repositories import collect_row, new_id
from fundraising.adapters.sql.tables import collect_members, collects, payments, users
from fundraising.application.ports.cache import Cache
from fundraising.application.ports.queries import Totals
from fundraising.application.ports.seeding import Person
from fundraising.domain.collect import Collect
from fundraising.domain.membership import Member, Role
from fundraising.domain.payment import Payment, PaymentStatus
from fundraising.domain.user import username_key

_MEMBER_BATCH = 1000
_MEMBER_COLUMNS = ["collect_id", "user_id", "role", "joined_at"]


def _donors(collect_ids: Sequence[int]) -> Select[Any]:
    """Who completed a donation to these collects without being a member yet, and when first."""
    p, m = payments.c, collect_members.c
    member = select(m.user_id).where(m.collect_id == p.collect_id, m.user_id == p.payer_id)
    return (
        select(p.collect_id, p.payer_id, literal(Role.PARTICIPANT.value), func.min(p.payment_date))
        .where(
            p.collect_id.in_(collect_ids),
            p.status == PaymentStatus.COMPLETED.value,
            p.payer_id.is_not(None),
            ~exists(member),
        )
        .group_by(p.collect_id, p.payer_id)
    )


class SqlBulkLoader:
    def __init__(self, engine: Engine, cache: Cache) -> None:
        self._engine = engine
        self._cache = cache

    def _changed(self, collect_ids: Iterable[int]) -> None:
        for collect_id in set(collect_ids):
            self._cache.collect_changed(collect_id)

    def taken(self, usernames: Sequence[str], emails: Sequence[str]) -> tuple[set[str], set[str]]:
        keys = {username_key(name): name for name in usernames}
        with translated_errors(), self._engine.connect() as db:
            names = db.scalars(select(users.c.username_key).where(users.c.username_key.in_(keys)))
            mails = db.scalars(select(users.c.email).where(users.c.email.in_(emails)))
            return {keys[key] for key in names}, set(mails)

    def add_users(self, people: Sequence[tuple[Person, str]], joined: datetime) -> list[int]:
        values = [
            {
                "username": person.username,
                "username_key": username_key(person.username),
                "email": person.email,
                "password_hash": password_hash,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "is_active": True,
                "date_joined": joined,
                "email_verified": True,
            }
            for person, password_hash in people
        ]
        names = [person.username for person, _ in people]
        with translated_errors(), self._engine.begin() as db:
            db.execute(insert(users), values)
            found = db.execute(
                select(users.c.username, users.c.id).where(users.c.username.in_(names))
            )
            ids = {row.username: row.id for row in found}
        return [ids[name] for name in names]

    def add_collects(self, made: Sequence[Collect]) -> list[int]:
        with translated_errors(), self._engine.begin() as db:
            ids = [new_id(db.execute(insert(collects).values(collect_row(c)))) for c in made]
            authors = [
                rows.member_values(Member(i, c.author_id, Role.AUTHOR, joined_at=c.created_at))
                for i, c in zip(ids, made, strict=True)
            ]
            if authors:
                db.execute(insert(collect_members), authors)
        self._changed(ids)
        return ids

    def add_donors_as_members(self, collect_ids: Sequence[int]) -> None:
        for first in range(0, len(collect_ids), _MEMBER_BATCH):
            chosen = collect_ids[first : first + _MEMBER_BATCH]
            with translated_errors(), self._engine.begin() as db:
                db.execute(insert(collect_members).from_select(_MEMBER_COLUMNS, _donors(chosen)))
            self._changed(chosen)

    def add_payments(self, made: Iterable[Payment]) -> int:
        values = [rows.payment_values(payment) for payment in made]
        if values:
            with translated_errors(), self._engine.begin() as db:
                db.execute(insert(payments), values)
            self._changed(value["collect_id"] for value in values)
        return len(values)

    def set_totals(self, totals: Mapping[int, Totals]) -> None:
        c = collects.c
        statement = (
            update(collects)
            .where(c.id == bindparam("collect_id"))
            .values(
                collected_kopecks=bindparam("collected"),
                donations_count=bindparam("donations"),
                donors_count=bindparam("donors"),
            )
        )
        values = [
            {
                "collect_id": collect_id,
                "collected": tally.collected,
                "donations": tally.donations,
                "donors": tally.donors,
            }
            for collect_id, tally in totals.items()
        ]
        if values:
            with translated_errors(), self._engine.begin() as db:
                db.execute(statement, values)
            self._changed(totals)

    def payment_serial(self) -> int:
        with translated_errors(), self._engine.connect() as db:
            return int(db.scalar(select(func.coalesce(func.max(payments.c.id), 0))) or 0) + 1
