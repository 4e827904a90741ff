"""Column types that keep the domain's values exact: money in kopecks, time in UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

from fundraising.domain.money import Money

_KOPECKS_PER_ROUBLE = 100


class Kopecks(TypeDecorator[Money]):
    """Money stored as an integer number of kopecks: exact on every database, SUM included."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Money | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return to_kopecks(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Money | None:
        return None if value is None else from_kopecks(value)


def to_kopecks(money: Money) -> int:
    return int(money.amount * _KOPECKS_PER_ROUBLE)


def from_kopecks(kopecks: int | Decimal) -> Money:
    return Money(Decimal(int(kopecks)).scaleb(-2))


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; stored without a zone, always in UTC, with microseconds."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are never stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class JsonText(TypeDecorator[Any]):
    """JSON kept as compact text: the same on every database, and no server-side limit (such
    as MariaDB's 32 levels for its JSON check) stricter than the service's own rules."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class BinaryString(TypeDecorator[str]):
    """Text compared byte for byte, with no padding, on every database. MySQL's default
    collations ignore case, and even `utf8mb4_bin` is PAD SPACE: `victim` and `victim   ` are
    one value there. MariaDB and MySQL name their NO PAD binary collations differently."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            collation = no_pad_binary_collation(dialect)
            return dialect.type_descriptor(mysql.VARCHAR(self.length, collation=collation))
        return dialect.type_descriptor(String(self.length))


def no_pad_binary_collation(dialect: Dialect) -> str:
    return "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
