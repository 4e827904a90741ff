"""Fixtures shared by the integration and end-to-end suites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import migrated_database


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, migrated to head: a SQLite file, then a fresh MariaDB database."""
    with migrated_database(request.param, tmp_path) as url:
        yield url
