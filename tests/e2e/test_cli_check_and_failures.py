"""`fundraising check`, and how the command fails: one line, the cause named, no secret shown."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tests.e2e.cli_helpers import (
    Cli,
    Result,
    assert_ok,
    assert_one_line_failure,
    free_port,
    together,
)
from tests.e2e.conftest import check_each, work_dir
from tests.services import redis_url

LONG_SECRET = "a-production-secret-that-is-long-enough-0123456789"


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
    plain = cli.run("deactivate-collect", "999999")
    debug = cli.run("--debug", "deactivate-collect", "999999")
    unknown = cli.run("no-such-command")
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
    results = {case: each.run(*options, "check") for case, (each, options, _) in cases.items()}

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
    allowed = cli.with_env(FUNDRAISING_SECRET_KEY=LONG_SECRET).run("check")
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
