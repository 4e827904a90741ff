"""Where the real services of the integration tests are, and what to do when one is missing."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, make_url, text

from fundraising.adapters.sql import migrate

MYSQL_URL = os.environ.get("FUNDRAISING_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("FUNDRAISING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRED = os.environ.get("FUNDRAISING_REQUIRE_SERVICES") == "1"


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("+pymysql", ""))
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require(name: str, url: str, default_port: int) -> None:
    """Skip (or, with FUNDRAISING_REQUIRE_SERVICES=1, fail) when the service does not answer."""
    if _answers(url, default_port):
        return
    message = f"{name} does not answer at {url}"
    if REQUIRED:
        pytest.fail(f"{message} (FUNDRAISING_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@contextmanager
def fresh_mysql_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; yields its URL."""
    require("MariaDB/MySQL", MYSQL_URL, 3306)
    name = f"fundraising_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    try:
        yield make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@contextmanager
def migrated_database(kind: str, directory: Path) -> Iterator[str]:
    """A database at the newest migration: a SQLite file in `directory`, or fresh on MariaDB."""
    if kind == "sqlite":
        url = f"sqlite:///{directory / 'fundraising.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    with fresh_mysql_database() as url:
        migrate.upgrade(url)
        yield url


def redis_url(db: int) -> str:
    """The test Redis with its own database number, so tests never share keys."""
    require("Redis", REDIS_URL, 6379)
    parts = urlsplit(REDIS_URL)
    return f"{parts.scheme}://{parts.netloc}/{db}"
