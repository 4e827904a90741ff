"""Fixtures shared by the integration and end-to-end suites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fundraising.adapters.sql import migrate
from tests.services import fresh_mysql_database


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, migrated to head: a SQLite file, then a fresh MariaDB database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fundraising.sqlite3'}"
        migrate.upgrade(url)
        yield url
    else:
        with fresh_mysql_database() as url:
            migrate.upgrade(url)
            yield url
