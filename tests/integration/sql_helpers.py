"""What the SQL repository tests share: a time zone, datetime checks, user copies, outbox rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from attrs import evolve
from sqlalchemy import Engine, Row, select

from fundraising.adapters.sql.tables import outbox
from fundraising.domain.user import User

MOSCOW = timezone(timedelta(hours=3))


def _is_utc_with_microseconds(value: datetime, expected: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0) and value == expected


def _user_like(user: User, **changes: str) -> User:
    """Another user with the same fields but `changes`, not yet stored."""
    return evolve(user, id=None, **changes)


def _outbox_rows(engine: Engine) -> list[Row[Any]]:
    with engine.connect() as connection:
        return list(connection.execute(select(outbox).order_by(outbox.c.id)))
