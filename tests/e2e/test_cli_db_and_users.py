"""`fundraising db` and `create-user`, run as the installed console script on SQLite and MariaDB."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fundraising.adapters.sql import migrate
from tests.e2e.cli_helpers import (
    Cli,
    Result,
    assert_ok,
    assert_one_line_failure,
    can_log_in,
    database,
    register,
)
from tests.e2e.conftest import check_each, work_dir
from tests.services import fresh_mysql_database

PASSWORD = "correct horse battery"
SCHEMA = {"users", "collects", "payments", "outbox"}


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table: a new SQLite file, or a fresh MariaDB database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        with fresh_mysql_database() as url:
            yield url


# --- db -----------------------------------------------------------------------------------------


def test_db_upgrade_builds_the_schema_and_downgrade_base_removes_it(
    empty_database_url: str, tmp_path: Path
) -> None:
    cli = Cli(work_dir(tmp_path), empty_database_url)
    head = migrate.head()
    assert head

    empty = assert_ok(cli.run("db", "current"))
    assert "(empty)" in empty.stdout
    assert head in empty.stdout, "an empty database is told which revision is the head"
    with database(empty_database_url) as db:
        assert not db.tables() & SCHEMA

    assert_ok(cli.run("db", "upgrade"))
    with database(empty_database_url) as db:
        assert db.tables() >= SCHEMA
    current = assert_ok(cli.run("db", "current"))
    assert current.stdout.strip() == f"{head} (head)"

    assert_ok(cli.run("db", "downgrade", "base"))
    with database(empty_database_url) as db:
        assert not db.tables() & SCHEMA, db.tables()


# --- create-user --------------------------------------------------------------------------------


def test_create_user_reads_the_password_from_stdin_and_the_user_logs_in(
    database_url: str, tmp_path: Path
) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    result = assert_ok(
        cli.run(
            "create-user",
            "ivan.petrov",
            "--email",
            "Ivan.Petrov@Example.com",
            "--first-name",
            "Иван",
            "--last-name",
            "Петров",
            "--password-stdin",
            input=f"{PASSWORD}\n",
        )
    )
    assert re.fullmatch(r"created user ivan\.petrov \(id \d+\)", result.stdout.strip())
    assert PASSWORD not in result.output
    with database(database_url) as db:
        rows = db.rows(
            "SELECT email, first_name, last_name, password_hash, is_active FROM users "
            "WHERE username = 'ivan.petrov'"
        )
    assert len(rows) == 1
    email, first, last, password_hash, active = rows[0]
    assert (email, first, last, bool(active)) == ("ivan.petrov@example.com", "Иван", "Петров", True)
    assert PASSWORD not in password_hash
    assert can_log_in(cli.settings(), "ivan.petrov", PASSWORD)
    assert not can_log_in(cli.settings(), "ivan.petrov", f"{PASSWORD}!")


def test_create_user_refuses_a_taken_username_or_email(database_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    stdin = f"{PASSWORD}\n"
    register(cli.settings(), "anna", "anna@example.com", PASSWORD)
    same_name = cli.run(
        "create-user", "anna", "--email", "other@example.com", "--password-stdin", input=stdin
    )
    same_email = cli.run(
        "create-user", "anna2", "--email", "ANNA@example.com", "--password-stdin", input=stdin
    )
    assert_one_line_failure(same_name, "username", "already exists")
    assert_one_line_failure(same_email, "mail", "already exists")
    with database(database_url) as db:
        assert db.count("users") == 1


def test_create_user_rejects_invalid_input_in_one_line(sqlite_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url)
    cases = {
        "a password too short": (("weakling", "--email", "weak@example.com"), "short1", "password"),
        "an invalid e-mail": (("mailless", "--email", "not-an-address"), PASSWORD, "email"),
        "an invalid username": (("bad name!", "--email", "b@example.com"), PASSWORD, "username"),
    }
    results = {
        case: cli.run("create-user", *args, "--password-stdin", input=f"{password}\n")
        for case, (args, password, _) in cases.items()
    }

    def check(case: str) -> None:
        line = assert_one_line_failure(results[case], cases[case][2])
        assert cases[case][1] not in line, "the rejected password is never echoed"

    check_each(cases, check)
    with database(sqlite_url) as db:
        assert db.count("users") == 0


def test_create_user_says_why_the_input_is_invalid(sqlite_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url)
    weak = cli.run(
        "create-user", "weak", "--email", "w@example.com", "--password-stdin", input="x\n"
    )
    assert_one_line_failure(weak, "password", "too short")


def test_create_user_prompts_for_the_password_twice(sqlite_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url)
    result = assert_ok(
        cli.run("create-user", "olga", "--email", "olga@example.com", input=f"{PASSWORD}\n" * 2)
    )
    assert "Password" in result.output
    assert "Repeat" in result.output, "the password is asked for a second time"
    assert "created user olga" in result.stdout
    assert can_log_in(cli.settings(), "olga", PASSWORD)


@pytest.fixture(scope="module")
def mismatched_prompt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, str]:
    """create-user given two different passwords at the prompt, then the end of input."""
    directory = tmp_path_factory.mktemp("mismatch")
    url = f"sqlite:///{directory / 'fundraising.sqlite3'}"
    migrate.upgrade(url)
    result = Cli(directory / "cwd", url).run(
        "create-user", "olga", "--email", "olga@example.com", input=f"{PASSWORD}\nsomething else\n"
    )
    return result, url


def test_create_user_stops_when_the_two_passwords_differ(
    mismatched_prompt: tuple[Result, str],
) -> None:
    result, url = mismatched_prompt
    assert result.code != 0, result.describe()
    assert "do not match" in result.output
    assert "Traceback" not in result.output
    with database(url) as db:
        assert db.count("users") == 0


@pytest.mark.parametrize("case", ["no arguments", "password prompt aborted"])
def test_no_failure_prints_an_empty_error_line(
    case: str, mismatched_prompt: tuple[Result, str], tmp_path: Path
) -> None:
    if case == "no arguments":
        result = Cli(work_dir(tmp_path), f"sqlite:///{tmp_path / 'unused.sqlite3'}").run()
    else:
        result = mismatched_prompt[0]
    bare = [line for line in result.error_lines if line.strip().endswith("error:")]
    assert not bare, result.describe()
