"""The operator's commands, run as the console script on SQLite: `--version`, `outbox status`,
`dead-letters list|retry|drop`, and `openapi` (the document the app serves)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import insert, select

from fundraising.adapters.sql.tables import outbox
from fundraising.adapters.task_codec import encode_task
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.container import Container
from fundraising.entrypoints.http.app import create_app
from tests.e2e.cli_helpers import Cli, Database, Result, assert_ok, database
from tests.e2e.conftest import work_dir

CREATED = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
DIED = CREATED + timedelta(hours=2)


@pytest.fixture
def cli(sqlite_url: str, tmp_path: Path) -> Cli:
    return Cli(work_dir(tmp_path), sqlite_url)


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    with database(sqlite_url) as db:
        yield db


def _write(db: Database, task: SendEmail, *, created_at: datetime, dead_at: datetime | None) -> int:
    """An outbox row written straight into the table, as a worker would have left it."""
    values = {"task": encode_task(task), "created_at": created_at, "dead_at": dead_at}
    with db.engine.begin() as connection:
        key = connection.execute(insert(outbox).values(values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _rows(db: Database) -> dict[int, Any]:
    with db.engine.connect() as connection:
        return {row.id: row for row in connection.execute(select(outbox))}


def _status(result: Result) -> dict[str, str]:
    assert_ok(result)
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def _listed(result: Result) -> dict[int, tuple[str, str, str]]:
    """The lines of `dead-letters list`: each id with its created and dead times and its task."""
    assert_ok(result)
    rows: dict[int, tuple[str, str, str]] = {}
    for line in result.stdout.splitlines():
        message_id, created, dead, task = line.split("\t")
        rows[int(message_id)] = (created, dead, task)
    return rows


def _usage_error(result: Result) -> str:
    assert result.code == 2, result.describe()
    assert "Traceback" not in result.output, result.describe()
    assert result.stdout == "", result.describe()
    return result.stderr


# --- --version ----------------------------------------------------------------------------------


def test_version_prints_the_installed_packages_version(tmp_path: Path) -> None:
    missing = tmp_path / "never-created.sqlite3"
    result = assert_ok(Cli(work_dir(tmp_path), f"sqlite:///{missing}").run("--version"))
    assert result.stdout == f"fundraising {version('fundraising')}\n"
    assert not missing.exists(), "--version touches no database"


# --- outbox status ------------------------------------------------------------------------------


def test_outbox_status_of_an_empty_outbox_is_all_zeros(cli: Cli) -> None:
    assert _status(cli.run("outbox", "status")) == {
        "waiting": "0",
        "oldest waiting since": "-",
        "running": "0",
        "dead letters": "0",
    }


def test_outbox_status_counts_what_waits_and_the_dead_letters(cli: Cli, db: Database) -> None:
    for n in range(2):
        _write(db, SendEmail(EmailKind.DONATION_THANKS, n), created_at=CREATED, dead_at=DIED)
    waiting_since = CREATED + timedelta(minutes=1)
    _write(db, SendEmail(EmailKind.COLLECT_CREATED, 7), created_at=waiting_since, dead_at=None)
    later = waiting_since + timedelta(minutes=1)
    _write(db, SendEmail(EmailKind.COLLECT_CREATED, 8), created_at=later, dead_at=None)

    assert _status(cli.run("outbox", "status")) == {
        "waiting": "2",
        "oldest waiting since": waiting_since.isoformat(),
        "running": "0",
        "dead letters": "2",
    }


# --- dead-letters -------------------------------------------------------------------------------


@pytest.fixture
def letters(db: Database) -> list[int]:
    """Three dead e-mails and one that still waits (the last id)."""
    ids = [
        _write(db, SendEmail(EmailKind.DONATION_RECEIVED, 41), created_at=CREATED, dead_at=DIED),
        _write(db, SendEmail(EmailKind.INVITATION, 42, 9), created_at=CREATED, dead_at=DIED),
        _write(db, SendEmail(EmailKind.REMINDER, 43, 10), created_at=CREATED, dead_at=DIED),
    ]
    live = SendEmail(EmailKind.COLLECT_CREATED, 44)
    return [*ids, _write(db, live, created_at=CREATED, dead_at=None)]


def test_dead_letters_list_shows_each_ones_id_and_task(cli: Cli, letters: list[int]) -> None:
    received, invitation, reminder, live = letters
    result = cli.run("dead-letters", "list")

    listed = _listed(result)
    assert list(listed) == [received, invitation, reminder], result.describe()
    for message_id, task in [
        (received, SendEmail(EmailKind.DONATION_RECEIVED, 41)),
        (invitation, SendEmail(EmailKind.INVITATION, 42, 9)),
        (reminder, SendEmail(EmailKind.REMINDER, 43, 10)),
    ]:
        assert listed[message_id][2] == repr(task), result.describe()
    assert live not in listed
    assert result.stderr.splitlines()[-1] == "3 dead letters"
    assert {listed[received][:2]} == {("2026-03-01T09:30:15+00:00", "2026-03-01T11:30:15+00:00")}


def test_a_retried_dead_letter_is_due_again_and_drop_all_deletes_the_rest(
    cli: Cli, db: Database, letters: list[int]
) -> None:
    received, invitation, reminder, live = letters
    before = _rows(db)

    retried = assert_ok(cli.run("dead-letters", "retry", str(invitation)))

    assert retried.stdout == "1 dead letters due again\n"
    rows = _rows(db)
    assert rows[invitation].dead_at is None
    assert (rows[invitation].claimed_until, rows[invitation].relayed_at) == (None, None)
    assert rows[invitation].task == before[invitation].task
    assert all(rows[other].dead_at is not None for other in (received, reminder))
    assert list(_listed(cli.run("dead-letters", "list"))) == [received, reminder]

    dropped = assert_ok(cli.run("dead-letters", "drop", "--all"))

    assert dropped.stdout == "2 dead letters dropped\n"
    assert set(_rows(db)) == {invitation, live}
    assert _status(cli.run("outbox", "status"))["dead letters"] == "0"
    assert _status(cli.run("outbox", "status"))["waiting"] == "2"


@pytest.mark.parametrize("command", ["retry", "drop"])
def test_dead_letters_need_either_ids_or_all(
    cli: Cli, db: Database, letters: list[int], command: str
) -> None:
    before = _rows(db)
    neither = cli.run("dead-letters", command)
    both = cli.run("dead-letters", command, str(letters[0]), "--all")

    for result in (neither, both):
        assert "name message ids, or --all" in _usage_error(result)
    assert _rows(db) == before


# --- openapi ------------------------------------------------------------------------------------


def test_openapi_prints_the_document_the_app_serves(cli: Cli) -> None:
    result = assert_ok(cli.run("openapi"))
    printed = json.loads(result.stdout)
    with TestClient(create_app(Container(settings=cli.settings()))) as client:
        response = client.get("/docs/openapi.json")
        assert response.status_code == 200, response.text
        served = response.json()

    assert printed["info"]["version"] == served["info"]["version"] == version("fundraising")
    assert set(printed["paths"]) == set(served["paths"])
    assert {path: set(ops) for path, ops in printed["paths"].items()} == {
        path: set(ops) for path, ops in served["paths"].items()
    }
    assert set(printed["components"]["schemas"]) == set(served["components"]["schemas"])
    assert len(printed["paths"]) > 30
