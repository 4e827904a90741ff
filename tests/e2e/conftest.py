"""The real app over the real container: SQLite, and MariaDB when it answers.

The database is created once per backend and session (users have unique names per test);
each test gets a fresh app, container, media and mail folder.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from dependency_injector import providers
from litestar.testing import TestClient

from fundraising.adapters.sql import migrate
from fundraising.container import Container
from fundraising.entrypoints.http.app import create_app
from fundraising.settings import Settings
from tests.fakes import FixedClock
from tests.services import fresh_mysql_database

PASSWORD = "correct horse battery"
_names = itertools.count(1)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def e2e_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'fundraising.sqlite3'}"
        migrate.upgrade(url)
        yield url
    else:
        with fresh_mysql_database() as url:
            migrate.upgrade(url)
            yield url


@pytest.fixture
def settings(e2e_database: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=e2e_database,
        media_dir=tmp_path / "media",
        mail_dir=tmp_path / "mail",
        public_url="http://testserver.local",
    )


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock: now, and only moving when a test advances it."""
    return FixedClock(datetime.now(UTC))


@pytest.fixture
def container(settings: Settings, clock: FixedClock) -> Container:
    container = Container(settings=settings)
    container.clock.override(providers.Object(clock))
    return container


@pytest.fixture
def client(container: Container) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(container), base_url="http://testserver.local") as client:
        yield client


@frozen
class Account:
    id: int
    username: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@pytest.fixture
def make_account(client: TestClient[Any]) -> Callable[..., Account]:
    """Register a user with a unique name and log in."""

    def make(first_name: str = "", last_name: str = "") -> Account:
        username = f"user{next(_names)}_{id(client) % 10_000}"
        created = client.post(
            "/auth/users/",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
                "first_name": first_name,
                "last_name": last_name,
            },
        )
        assert created.status_code == 201, created.text
        tokens = client.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        return Account(created.json()["id"], username, body["access"], body["refresh"])

    return make
