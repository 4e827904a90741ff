"""The real app over the real container: SQLite, and MariaDB when it answers.

The database is created once per backend and session (users have unique names per test);
each test gets a fresh app, container, media and mail folder.
"""

from __future__ import annotations

import email
import email.policy
import io
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from dependency_injector import providers
from litestar.testing import TestClient
from litestar.types import ASGIApp
from PIL import Image

from fundraising.adapters.sql import migrate
from fundraising.application.use_cases.accounts import uid_of
from fundraising.container import Container
from fundraising.domain.user import AccountToken
from fundraising.entrypoints.http.app import asgi_app
from fundraising.settings import Settings
from tests.fakes import FixedClock
from tests.services import migrated_database

PASSWORD = "correct horse battery"
_names = itertools.count(1)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def e2e_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with migrated_database(request.param, tmp_path_factory.mktemp("e2e")) as url:
        yield url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "settings(**values): override Settings fields for this test's app"
    )


@pytest.fixture
def settings(request: pytest.FixtureRequest, e2e_database: str, tmp_path: Path) -> Settings:
    """The test profile; `@pytest.mark.settings(cache_enabled=False)` changes single fields."""
    marker = request.node.get_closest_marker("settings")
    overrides = marker.kwargs if marker else {}
    return e2e_settings(e2e_database, tmp_path, **overrides)


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock: now, and only moving when a test advances it."""
    return FixedClock(datetime.now(UTC))


@pytest.fixture
def container(settings: Settings, clock: FixedClock) -> Container:
    container = Container(settings=settings)
    container.clock.override(providers.Object(clock))
    return container


PEER_HEADER = b"x-test-peer-address"


def _with_peer_address(app: ASGIApp) -> ASGIApp:
    """Let a test choose the client address the app sees (TestClient always says "testclient").

    Only the ASGI scope's `client` changes, as if the request came from another host.
    """

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        for name, value in scope.get("headers", ()):
            if name == PEER_HEADER:
                scope["client"] = (value.decode(), 50000)
        await app(scope, receive, send)

    return asgi


class _Shutdowns:
    """Apps stopping in the background: stopping the task-queue worker threads takes ~0.5 s,
    which would otherwise be most of each test's time. Joined (and their errors raised)
    before the backend's database goes away."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def start(self, client: TestClient[Any]) -> None:
        def stop() -> None:
            try:
                client.__exit__(None, None, None)
            except BaseException as error:
                self.errors.append(error)

        thread = threading.Thread(target=stop, name="e2e-app-shutdown")
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=60)
        if self.errors:
            raise self.errors[0]


@pytest.fixture(scope="session")
def _shutdowns(e2e_database: str) -> Iterator[_Shutdowns]:
    shutdowns = _Shutdowns()
    yield shutdowns
    shutdowns.join()


@pytest.fixture
def client(container: Container, _shutdowns: _Shutdowns) -> Iterator[TestClient[Any]]:
    app = _with_peer_address(asgi_app(container))
    client = TestClient(app, base_url="http://testserver.local")
    client.__enter__()
    try:
        yield client
    finally:
        _shutdowns.start(client)


@frozen
class Account:
    id: int
    username: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def activate(client: TestClient[Any], container: Container, user_id: int) -> None:
    """Verify a user's address over the API, with the token its activation e-mail carries
    (made here rather than waited for: the e-mail itself is tested in test_accounts_*)."""
    with container.uow() as uow:
        user = uow.users.get(user_id)
    assert user is not None
    token = container.account_tokens().make(
        user, AccountToken.ACTIVATION, now=container.clock().now()
    )
    response = client.post("/auth/users/activation/", json={"uid": uid_of(user_id), "token": token})
    assert response.status_code == 204, response.text


@pytest.fixture
def make_account(client: TestClient[Any], container: Container) -> Callable[..., Account]:
    """Register a user with a unique name, verify the address (unless told not to) and log in."""

    def make(first_name: str = "", last_name: str = "", *, verified: bool = True) -> Account:
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
        if verified:
            activate(client, container, created.json()["id"])
        tokens = client.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        return Account(created.json()["id"], username, body["access"], body["refresh"])

    return make


# --- helpers shared by the e2e modules ---

PROBLEM_JSON = "application/problem+json"


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """A problem+json answer with `status`; `fields`, when given, are exactly the fields named
    in `errors` (every field-validation 400 must name them; a body that is not JSON at all
    has no field to name)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if "errors" in body or fields:
        assert isinstance(body["errors"], list) and body["errors"], body
        for error in body["errors"]:
            assert isinstance(error["field"], str) and isinstance(error["message"], str)
    if fields:
        assert error_fields(body) == set(fields), body
    return dict(body)


def error_fields(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body.get("errors") or []}


def create_collect(client: TestClient[Any], account: Account, **fields: Any) -> int:
    """Open a collect (title defaults to a unique one) and return its id."""
    fields.setdefault("title", f"Collect {next(_names)}")
    response = client.post("/api/v1/collects/", json=fields, headers=account.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


_transactions = itertools.count(1)


def transaction_id() -> str:
    return f"tx-{uuid.uuid4().hex}-{next(_transactions)}"


def donate(
    client: TestClient[Any],
    account: Account,
    collect_id: int,
    amount: Any = "100.00",
    **fields: Any,
) -> Any:
    """POST a donation (a fresh transaction id unless given); returns the response."""
    body = {"collect": collect_id, "amount": amount, "transaction_id": transaction_id(), **fields}
    return client.post("/api/v1/payments/", json=body, headers=account.headers)


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (16, 12)) -> bytes:
    """A real, small image made by Pillow."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt)
    return out.getvalue()


def utc(value: str) -> datetime:
    """Parse an output timestamp, insisting that it is UTC (Z or +00:00)."""
    assert value.endswith(("Z", "+00:00")), value
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0)
    return parsed


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def wait_for(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `condition` until it is truthy (background tasks run in worker threads)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def mails(mail_dir: Path, kind: str, to: str) -> list[EmailMessage]:
    """The e-mails of one kind (collect_created, donation_thanks, donation_received) written
    to `to` so far. Filtered by recipient: the database is shared by the tests of a session, so
    a worker may deliver what an earlier test left in the outbox."""
    if not mail_dir.exists():
        return []
    found = []
    for path in sorted(mail_dir.glob(f"*-{kind}-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == to:
            found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def check_each(cases: Iterable[Any], check: Callable[[Any], object]) -> None:
    """Run `check` on every case (one app for a whole table) and report every failing case."""
    failures = []
    for case in cases:
        try:
            check(case)
        except AssertionError as error:
            message = " | ".join(str(error).splitlines()[:3])[:400]
            failures.append(f"{case!r}: {message or 'failed'}")
    assert not failures, f"{len(failures)} case(s) failed:\n" + "\n".join(failures)


# --- for fixtures wider than one test (a module's shared app) ---


def e2e_settings(database_url: str, root: Path, **overrides: Any) -> Settings:
    """The same test profile as the `settings` fixture, with its files under `root`."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=database_url,
        media_dir=root / "media",
        mail_dir=root / "mail",
        cache_changes_file=root / "cache-changes",
        secret_key_file=root / "secret_key",
        public_url="http://testserver.local",
        auto_migrate=False,  # migrated once per session
        **overrides,
    )


def start_client(container: Container) -> TestClient[Any]:
    """A started test client over a new app (with the peer-address header), as `client` makes;
    stop it with `_shutdowns.start(client)` or `client.__exit__(None, None, None)`."""
    client = TestClient(_with_peer_address(asgi_app(container)), base_url="http://testserver.local")
    client.__enter__()
    return client


# --- the admin command (tests/e2e/test_cli_*.py) ---


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file, where the backend makes no difference to what is tested."""
    url = f"sqlite:///{tmp_path / 'fundraising.sqlite3'}"
    migrate.upgrade(url)
    return url


def work_dir(tmp_path: Path) -> Path:
    """The command's working directory: empty, so no `.env` is read."""
    return tmp_path / "cwd"
