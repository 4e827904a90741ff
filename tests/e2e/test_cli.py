"""The `fundraising` admin command, run as the installed console script on SQLite and MariaDB."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from fundraising.adapters.sql import migrate
from fundraising.entrypoints.cli import main
from tests.e2e.cli_helpers import (
    Cli,
    Result,
    assert_ok,
    assert_one_line_failure,
    can_log_in,
    database,
    free_port,
    generate,
    register,
    together,
)
from tests.e2e.conftest import check_each
from tests.services import fresh_mysql_database, redis_url

PASSWORD = "correct horse battery"
SCHEMA = {"users", "collects", "payments", "outbox"}
LONG_SECRET = "a-production-secret-that-is-long-enough-0123456789"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table: a new SQLite file, or a fresh MariaDB database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        with fresh_mysql_database() as url:
            yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file, where the backend makes no difference to what is tested."""
    url = f"sqlite:///{tmp_path / 'fundraising.sqlite3'}"
    migrate.upgrade(url)
    return url


def work_dir(tmp_path: Path) -> Path:
    """The command's working directory: empty, so no `.env` is read."""
    return tmp_path / "cwd"


# --- help ---------------------------------------------------------------------------------------


def _command_tree() -> list[tuple[tuple[str, ...], Any]]:
    """Every command of the app with its path (`()` is the app itself, `("db", "upgrade")`…)."""
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(path: tuple[str, ...], command: Any) -> None:
        found.append((path, command))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk((*path, name), sub)

    walk((), typer.main.get_command(main.app))
    return found


COMMANDS = _command_tree()


def _flat(text: str) -> str:
    """Help text without the boxes' borders and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─┃━]", " ", text).split())


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Result]:
    """`--help` of the app and of every command, all started side by side."""
    directory = tmp_path_factory.mktemp("help")
    cli = Cli(directory / "cwd", f"sqlite:///{directory / 'unused.sqlite3'}")
    started = {path: cli.start(*path, "--help") for path, _ in COMMANDS}
    return {path: running.wait() for path, running in started.items()}


def test_the_app_has_the_commands_of_the_readme() -> None:
    paths = {path for path, _ in COMMANDS}
    expected = {
        ("serve",),
        ("worker",),
        ("create-user",),
        ("deactivate-collect",),
        ("reconcile",),
        ("check",),
        ("generate-test-data",),
        ("db",),
        ("db", "upgrade"),
        ("db", "downgrade"),
        ("db", "current"),
        ("db", "revision"),
    }
    assert expected <= paths


def test_app_help_lists_every_command_with_what_it_does(
    helps: dict[tuple[str, ...], Result],
) -> None:
    result = assert_ok(helps[()])
    text = _flat(result.stdout)
    assert "FUNDRAISING_" in text
    assert "--debug" in text
    for path, command in COMMANDS:
        if len(path) == 1:
            assert path[0] in text
            summary = (command.short_help or command.help or "").split(".")[0]
            assert summary, f"{path[0]} has no help text"
            assert _flat(summary)[:40] in text, f"{path[0]}: {summary!r} not shown"


@pytest.mark.parametrize(
    "path", [path for path, _ in COMMANDS], ids=lambda path: " ".join(path) or "fundraising"
)
def test_help_explains_every_option(
    path: tuple[str, ...], helps: dict[tuple[str, ...], Result]
) -> None:
    command = dict(COMMANDS)[path]
    result = assert_ok(helps[path])
    text = _flat(result.stdout)
    assert f"Usage: fundraising {' '.join(path)}".replace("  ", " ").strip() in text
    assert _flat((command.help or "").split("\n")[0]) in text
    for param in command.params:
        shown = [option for option in param.opts if option in text]
        if param.param_type_name == "argument":
            shown = [param.name] if param.name.lower() in text.lower() else []
        assert shown, f"{param.name} of `{' '.join(path)}` is not in its --help"
        assert param.help, f"{param.name} of `{' '.join(path)}` has no help text"
        assert _flat(param.help) in text, f"the help of {param.name} is not shown"


README_OPTIONS: list[tuple[tuple[str, ...], list[str]]] = [
    ((), ["--debug", "--help"]),
    (("serve",), ["--host", "--port", "--workers", "--reload"]),
    (("worker",), ["--processes", "--threads"]),
    (("create-user",), ["--email", "--first-name", "--last-name", "--password-stdin"]),
    (("deactivate-collect",), ["collect_id"]),
    (("reconcile",), ["--fix"]),
    (
        ("generate-test-data",),
        ["--users", "--collects", "--payments", "--seed", "--locale", "--password"],
    ),
    (("db", "downgrade"), ["revision", '"base" removes everything']),
    (("db", "revision"), ["--message", "--autogenerate"]),
]


@pytest.mark.parametrize(
    ("path", "options"),
    README_OPTIONS,
    ids=[" ".join(path) or "fundraising" for path, _ in README_OPTIONS],
)
def test_help_names_the_options_of_the_readme(
    path: tuple[str, ...], options: list[str], helps: dict[tuple[str, ...], Result]
) -> None:
    text = _flat(helps[path].stdout)
    missing = [option for option in options if option not in text]
    assert not missing, helps[path].describe()


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
    same_name, same_email = together(
        cli.start(
            "create-user", "anna", "--email", "other@example.com", "--password-stdin", input=stdin
        ),
        cli.start(
            "create-user", "anna2", "--email", "ANNA@example.com", "--password-stdin", input=stdin
        ),
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
    started = {
        case: cli.start("create-user", *args, "--password-stdin", input=f"{password}\n")
        for case, (args, password, _) in cases.items()
    }
    results = {case: running.wait() for case, running in started.items()}

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


# --- deactivate-collect, reconcile --------------------------------------------------------------


def test_deactivate_collect(database_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    generate(cli.settings(), collects=4)
    with database(database_url) as db:
        before = {row[0]: bool(row[1]) for row in db.rows("SELECT id, is_active FROM collects")}
    target = min(before)
    done, unknown = together(
        cli.start("deactivate-collect", str(target)), cli.start("deactivate-collect", "999999")
    )
    assert f"collect {target} deactivated" in assert_ok(done).stdout
    assert_one_line_failure(unknown, "no collect")
    with database(database_url) as db:
        after = {row[0]: bool(row[1]) for row in db.rows("SELECT id, is_active FROM collects")}
    assert after == {**before, target: False}


def test_block_and_unblock_collect(database_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    generate(cli.settings(), collects=2)
    with database(database_url) as db:
        target = min(row[0] for row in db.rows("SELECT id FROM collects"))
    blocked, unknown = together(
        cli.start("block-collect", str(target), "--reason", "Сбор на чужую карту"),
        cli.start("unblock-collect", "999999"),
    )
    assert f"collect {target} blocked" in assert_ok(blocked).stdout
    assert_one_line_failure(unknown, "no collect")
    with database(database_url) as db:
        [(blocked_at, reason)] = db.rows(
            "SELECT blocked_at, block_reason FROM collects WHERE id = :id", id=target
        )
        assert blocked_at is not None and reason == "Сбор на чужую карту"
        assert db.scalar("SELECT COUNT(*) FROM collects WHERE blocked_at IS NOT NULL") == 1

    assert (
        f"collect {target} unblocked" in assert_ok(cli.run("unblock-collect", str(target))).stdout
    )
    with database(database_url) as db:
        assert db.scalar("SELECT COUNT(*) FROM collects WHERE blocked_at IS NOT NULL") == 0


def _corrupt_one_collect(url: str) -> tuple[int, tuple[int, int, int], tuple[int, int, int]]:
    """Add 123.45 and 3 donations to the busiest collect's counters: (id, stored, actual)."""
    with database(url) as db:
        actual = db.actual_totals()
        target = max(actual, key=lambda collect_id: actual[collect_id][1])
        db.execute(
            "UPDATE collects SET collected_kopecks = collected_kopecks + 12345, "
            "donations_count = donations_count + 3 WHERE id = :id",
            id=target,
        )
        stored = db.stored_totals()[target]
    return target, stored, actual[target]


def _roubles(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def test_reconcile_prints_the_drift_and_fix_repairs_it(database_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    generate(cli.settings(), collects=5, payments=200)
    target, stored, actual = _corrupt_one_collect(database_url)

    drifted = cli.run("reconcile")
    assert "Traceback" not in drifted.output, drifted.describe()
    assert "no drift" not in drifted.stdout
    assert re.search(rf"\b{target}\b", drifted.stdout), drifted.describe()
    assert _roubles(stored[0]) in drifted.stdout, drifted.describe()
    assert _roubles(actual[0]) in drifted.stdout, drifted.describe()
    assert str(stored[1]) in drifted.stdout and str(actual[1]) in drifted.stdout
    assert "--fix" in drifted.stdout, "the report says how to repair the drift"
    with database(database_url) as db:
        assert db.stored_totals()[target] == stored, "reconcile without --fix changes nothing"

    fixed = assert_ok(cli.run("reconcile", "--fix"))
    assert "fixed 1" in fixed.stdout
    with database(database_url) as db:
        assert db.stored_totals() == db.actual_totals()

    again = assert_ok(cli.run("reconcile"))
    assert "no drift" in again.stdout


def test_reconcile_exits_1_while_drift_is_left_unfixed(sqlite_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url)
    generate(cli.settings(), collects=2, payments=30)
    _corrupt_one_collect(sqlite_url)
    result = cli.run("reconcile")
    assert result.code == 1, result.describe()


# --- check --------------------------------------------------------------------------------------


def test_check_passes_when_everything_answers(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    expected = {"database: ok"}
    if "mysql" in request.node.callspec.id:  # the production shape: Redis cache and broker
        cli = cli.with_env(
            FUNDRAISING_REDIS_URL=redis_url(14), FUNDRAISING_BROKER_URL=redis_url(15)
        )
        expected |= {"cache: ok", "broker: ok"}
    result = assert_ok(cli.run("check"))
    assert set(result.stdout.splitlines()) == expected


@pytest.fixture(scope="module")
def unreachable_check(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """`check` with the database and Redis on a closed port, passwords in both URLs."""
    cli = Cli(
        tmp_path_factory.mktemp("unreachable") / "cwd",
        "mysql+pymysql://root:pw-never-printed-4711@127.0.0.1:1/fundraising",
        FUNDRAISING_REDIS_URL="redis://:redis-pw-never-printed@127.0.0.1:1/0",
    )
    return cli.run("check")


def test_check_names_what_does_not_answer_and_no_secret(unreachable_check: Result) -> None:
    result = unreachable_check
    assert "Traceback" not in result.output
    assert re.search(r"^database: unavailable", result.stdout, re.MULTILINE), result.describe()
    assert re.search(r"^cache: unavailable", result.stdout, re.MULTILINE), result.describe()
    assert "never-printed" not in result.output


def test_check_exits_1_when_the_database_does_not_answer(unreachable_check: Result) -> None:
    assert unreachable_check.code == 1, unreachable_check.describe()


# --- failures: one line, --debug ----------------------------------------------------------------


def test_a_failure_is_one_line_and_debug_shows_the_traceback(
    sqlite_url: str, tmp_path: Path
) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url)
    plain, debug, unknown = together(
        cli.start("deactivate-collect", "999999"),
        cli.start("--debug", "deactivate-collect", "999999"),
        cli.start("no-such-command"),
    )
    line = assert_one_line_failure(plain, "no collect with this id")
    assert line.startswith("fundraising:")
    assert debug.code != 0
    assert "Traceback (most recent call last)" in debug.stderr, debug.describe()
    assert "NotFound" in debug.stderr
    assert debug.error_lines[-1] == line, "the same one-line message ends the traceback"
    assert_one_line_failure(unknown, "no-such-command")


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("generate-test-data", "--users", "0"), "--users"),
        (("deactivate-collect", "abc"), "collect_id"),
    ],
    ids=["--users 0", "collect id abc"],
)
def test_a_usage_error_names_the_parameter(
    args: tuple[str, ...], name: str, sqlite_url: str, tmp_path: Path
) -> None:
    result = Cli(work_dir(tmp_path), sqlite_url).run(*args)
    assert_one_line_failure(result, name)


# --- settings -----------------------------------------------------------------------------------


def test_production_refuses_unsafe_settings_without_showing_the_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    cli = Cli(work_dir(tmp_path), url).with_env(
        FUNDRAISING_ENV="production", FUNDRAISING_PUBLIC_URL="https://fundraising.example"
    )
    short = "short-secret-123"
    cases = {
        "no secret key": (cli, (), ["FUNDRAISING_SECRET_KEY"]),
        "no public url": (
            cli.with_env(FUNDRAISING_SECRET_KEY=LONG_SECRET, FUNDRAISING_PUBLIC_URL=None),
            (),
            ["FUNDRAISING_PUBLIC_URL"],
        ),
        "a short secret key, even with --debug": (
            cli.with_env(FUNDRAISING_SECRET_KEY=short),
            ("--debug",),
            ["FUNDRAISING_SECRET_KEY", "32"],
        ),
        "no database url": (
            cli.with_env(FUNDRAISING_SECRET_KEY=LONG_SECRET, FUNDRAISING_DATABASE_URL=None),
            (),
            ["FUNDRAISING_DATABASE_URL"],
        ),
        "debug on": (
            cli.with_env(FUNDRAISING_SECRET_KEY=LONG_SECRET, FUNDRAISING_DEBUG="true"),
            (),
            ["FUNDRAISING_DEBUG"],
        ),
    }
    safe = cli.with_env(FUNDRAISING_SECRET_KEY=LONG_SECRET).start("check")
    started = {case: each.start(*options, "check") for case, (each, options, _) in cases.items()}
    results = {case: running.wait() for case, running in started.items()}

    def check(case: str) -> None:
        result = results[case]
        assert result.code != 0, result.describe()
        assert "Traceback" not in result.output, result.describe()
        assert result.error_lines, result.describe()
        text = "\n".join(result.error_lines)
        for word in cases[case][2]:
            assert word in text, f"{word} not named: {text}"
        assert short not in result.output, "the secret value is never printed"
        assert LONG_SECRET not in result.output

    check_each(cases, check)
    allowed = safe.wait()
    assert allowed.code == 0, allowed.describe()
    assert "database: ok" in allowed.stdout
    assert LONG_SECRET not in allowed.output


def test_a_setting_of_the_wrong_type_is_named(sqlite_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url, FUNDRAISING_DATABASE_POOL_SIZE="many")
    line = assert_one_line_failure(cli.run("check"), "FUNDRAISING_DATABASE_POOL_SIZE", "integer")
    assert "Value error" not in line


def test_a_short_secret_key_is_refused_in_every_profile(sqlite_url: str, tmp_path: Path) -> None:
    """PyJWT's minimum for HS256 is 32 bytes; a shorter key is not a development convenience."""
    cli = Cli(work_dir(tmp_path), sqlite_url, FUNDRAISING_SECRET_KEY="x" * 31)
    for profile in ("development", "test"):
        result = cli.with_env(FUNDRAISING_ENV=profile).run("check")
        assert_one_line_failure(result, "FUNDRAISING_SECRET_KEY", "32")


# --- long-running processes ---------------------------------------------------------------------


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_worker_and_several_server_workers_need_a_broker(sqlite_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url)
    port = free_port()
    worker, server = together(
        cli.start("worker"), cli.start("serve", "--workers", "2", "--port", str(port))
    )
    assert_one_line_failure(worker, "FUNDRAISING_BROKER_URL")
    assert_one_line_failure(server, "FUNDRAISING_BROKER_URL", "workers")
    assert not _listening(port), "no server was left running"


def test_several_server_workers_need_redis_even_with_a_broker(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Each process would keep a cache of its own: one served stale answers after another's
    write (2 of 12 reads after a PATCH)."""
    cli = Cli(work_dir(tmp_path), sqlite_url, FUNDRAISING_BROKER_URL=redis_url(15))
    port = free_port()
    (server,) = together(cli.start("serve", "--workers", "2", "--port", str(port)))
    assert_one_line_failure(server, "FUNDRAISING_REDIS_URL", "workers")
    assert not _listening(port), "no server was left running"


def test_untrusted_proxy_settings_are_refused_naming_the_variable(
    sqlite_url: str, tmp_path: Path
) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url, FUNDRAISING_TRUSTED_PROXIES="10.0.0.0/8, prox")
    port = free_port()
    (server,) = together(cli.start("serve", "--port", str(port)))
    assert_one_line_failure(server, "FUNDRAISING_TRUSTED_PROXIES")
    assert not _listening(port)


def test_worker_supervisor_fails_when_its_workers_fail(sqlite_url: str, tmp_path: Path) -> None:
    result = Cli(work_dir(tmp_path), sqlite_url).run("worker", "--processes", "2")
    assert "FUNDRAISING_BROKER_URL" in result.stderr, result.describe()
    assert result.code != 0, result.describe()
