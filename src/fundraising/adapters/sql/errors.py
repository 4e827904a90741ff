"""Database errors translated into the application's terms, in one place."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from fundraising.application.errors import TransientFailure, Unavailable

MYSQL_DUPLICATE_KEY = 1062
MYSQL_NO_SUCH_TABLE = 1146
MYSQL_LOCK_WAIT_TIMEOUT = 1205
MYSQL_DEADLOCK = 1213


def mysql_code(error: DBAPIError) -> int | None:
    args = getattr(error.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_duplicate_key(error: IntegrityError) -> bool:
    if isinstance(error.orig, sqlite3.IntegrityError):
        return error.orig.sqlite_errorname in {
            "SQLITE_CONSTRAINT_UNIQUE",
            "SQLITE_CONSTRAINT_PRIMARYKEY",
        }
    return mysql_code(error) == MYSQL_DUPLICATE_KEY


def violated_constraint(error: IntegrityError) -> str:
    """The unique key a duplicate hit: a MySQL key name or SQLite's `table.column`."""
    message = str(error.orig)
    found = re.search(r"for key '(?:\w+\.)?(\w+)'|constraint failed: ([\w.]+)", message)
    return next((group for group in found.groups() if group), "") if found else ""


def translate(error: DBAPIError) -> Exception | None:
    if mysql_code(error) == MYSQL_NO_SUCH_TABLE or "no such table" in str(error.orig):
        return Unavailable("The database has no schema yet: run `fundraising db upgrade`.")
    if mysql_code(error) in {MYSQL_DEADLOCK, MYSQL_LOCK_WAIT_TIMEOUT}:
        return TransientFailure("The transaction lost a race with another one.")
    if isinstance(error.orig, sqlite3.OperationalError) and "locked" in str(error.orig):
        return TransientFailure("The database was busy.")
    if error.connection_invalidated or isinstance(error, OperationalError):
        return Unavailable("The database is unavailable; try again shortly.")
    return None


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise lost races as `TransientFailure` and an unreachable database as `Unavailable`."""
    try:
        yield
    except DBAPIError as error:
        translated = translate(error)
        if translated is None:
            raise
        raise translated from error
    except PoolTimeout as error:
        raise Unavailable("The database is overloaded; try again shortly.") from error
