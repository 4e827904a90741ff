"""Engines for MySQL/MariaDB and SQLite, configured so that both behave alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL

READ_ONLY = "fundraising_read_only"
_MYSQL_SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO"
)


def build_engine(url: str | URL, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine for `url`: pooled MySQL with pre-ping and recycle, or SQLite in WAL mode."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size=pool_size, echo=echo)
    if url.get_backend_name() == "mysql":
        return _mysql_engine(url, pool_size=pool_size, echo=echo)
    raise ValueError(f"unsupported database {url.get_backend_name()!r}: use mysql or sqlite")


def _mysql_engine(url: URL, *, pool_size: int, echo: bool) -> Engine:
    # READ COMMITTED: no gap locks, so concurrent donations to different collects never deadlock;
    # each statement reads the latest commit, which the donor check relies on.
    # TLS only when the URL asks for it (?ssl_ca=…): PyMySQL's "preferred" mode builds an SSL
    # context on every connect, ~27 ms of CPU, even against a server without TLS.
    if not any(key.startswith("ssl") for key in url.query):
        url = url.update_query_dict({"ssl_disabled": "true"})
    return create_engine(
        url.update_query_dict({"charset": "utf8mb4"}),
        echo=echo,
        hide_parameters=True,  # errors are logged: never with password hashes or e-mails
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        # Every unit of work ends its transaction itself (commit, or rollback on close): the
        # pool's own ROLLBACK on return would only cost a round trip per request.
        pool_reset_on_return=None,
        pool_timeout=10,
        isolation_level="READ COMMITTED",
        connect_args={
            "init_command": f"SET sql_mode='{_MYSQL_SQL_MODE}', time_zone='+00:00'",
            "connect_timeout": 5,
        },
    )


def _sqlite_engine(url: URL, *, pool_size: int, echo: bool) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": 30},
    )
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see _begin_sqlite
    dbapi_connection.create_function("unicode_lower", 1, _lower, deterministic=True)
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "synchronous=NORMAL",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _begin_sqlite(connection: Any) -> None:
    # A write transaction takes the write lock at BEGIN: a deferred one that upgrades later fails
    # with SQLITE_BUSY when another writer committed in between, whatever the busy timeout.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
