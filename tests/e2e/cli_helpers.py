"""The real `fundraising` console script in a subprocess, configured as an operator would do it.

Every run gets a clean environment (no FUNDRAISING_* variable of the caller leaks in), the test
profile, its own database, media and mail folders, and a working directory without a `.env`.
A run that does not finish in time is killed with its whole process group.
"""

from __future__ import annotations

import io
import logging
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from sqlalchemy import Engine, create_engine, inspect, text

from fundraising.adapters.seed.faker_source import FakerSource
from fundraising.application.errors import AuthenticationFailed
from fundraising.application.use_cases.auth import Credentials, Registration
from fundraising.application.use_cases.seeding import SeedRequest, SeedSummary
from fundraising.container import Container
from fundraising.entrypoints.cli.main import main as cli_main
from fundraising.settings import Settings

CONSOLE_SCRIPT = Path(sys.executable).with_name("fundraising")
TIMEOUT = 90.0


def command_line(*args: str) -> list[str]:
    """The installed console script (what `pip install` puts on PATH), else `python -m`."""
    if CONSOLE_SCRIPT.exists():
        return [str(CONSOLE_SCRIPT), *args]
    return [sys.executable, "-m", "fundraising", *args]


def clean_environment() -> dict[str, str]:
    """The caller's environment without any FUNDRAISING_* variable, with wide plain output."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FUNDRAISING_")}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1")
    return env


@frozen
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def describe(self) -> str:
        return (
            f"fundraising {' '.join(self.args)} → exit {self.code}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


class Running:
    """A started command; `wait()` collects its result (killing it after the timeout)."""

    def __init__(
        self, args: tuple[str, ...], process: subprocess.Popen[str], input: str | None
    ) -> None:
        self.args = args
        self._process = process
        self._input = input

    def wait(self, timeout: float = TIMEOUT) -> Result:
        try:
            stdout, stderr = self._process.communicate(self._input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)  # the group this test started
            stdout, stderr = self._process.communicate()
            pytest.fail(
                f"fundraising {' '.join(self.args)} still ran after {timeout} s and was killed\n"
                f"--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
            )
        return Result(self.args, self._process.returncode, stdout, stderr)

    def stop(self) -> Result:
        """SIGTERM to its process group (a long-running command), then its result."""
        os.killpg(self._process.pid, signal.SIGTERM)
        return self.wait()


class Cli:
    """The console script against one database, with the test profile."""

    def __init__(self, directory: Path, database_url: str, **env: str | None) -> None:
        self.directory = directory
        self.database_url = database_url
        directory.mkdir(parents=True, exist_ok=True)
        self.env = clean_environment()
        self.env.update(
            FUNDRAISING_ENV="test",
            FUNDRAISING_DATABASE_URL=database_url,
            FUNDRAISING_MEDIA_DIR=str(directory / "media"),
            FUNDRAISING_MAIL_DIR=str(directory / "mail"),
            FUNDRAISING_CACHE_CHANGES_FILE=str(directory / "cache-changes"),
        )
        self._apply(env)

    def _apply(self, changes: Mapping[str, str | None]) -> None:
        for name, value in changes.items():
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = value

    def with_env(self, **changes: str | None) -> Cli:
        """A copy with these variables set (or removed, for None)."""
        copy = Cli.__new__(Cli)
        copy.directory = self.directory
        copy.database_url = changes.get("FUNDRAISING_DATABASE_URL") or self.database_url
        copy.env = dict(self.env)
        copy._apply(changes)
        return copy

    def start(self, *args: str, input: str | None = None) -> Running:
        process = subprocess.Popen(
            command_line(*args),
            cwd=self.directory,
            env=self.env,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        return Running(args, process, input)

    def run(self, *args: str, input: str | None = None, timeout: float = TIMEOUT) -> Result:
        """Run a command to its end. Without input it runs in this process (the same `main()`
        with the same environment and working directory, without a second of start-up);
        what reads a terminal, and every long-running command, gets a real process."""
        piped = input is None or "--password-stdin" in args  # no terminal to prompt on
        if piped and args[:1] not in (("serve",), ("worker",)):
            return _in_process(args, env=self.env, cwd=self.directory, input=input or "")
        return self.start(*args, input=input).wait(timeout)

    def settings(self) -> Settings:
        """The same settings the subprocess sees, for checking its work in-process."""
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            env="test",
            database_url=self.database_url,
            media_dir=self.directory / "media",
            mail_dir=self.directory / "mail",
            cache_changes_file=self.directory / "cache-changes",
        )


def _in_process(args: tuple[str, ...], *, env: Mapping[str, str], cwd: Path, input: str) -> Result:
    """The console script's `main()` run here, as a process would run it: its environment,
    working directory and arguments, its output captured, its exit status returned. Whatever
    it changes of the process (the environment, the logging set-up) is put back."""
    root = logging.getLogger()
    saved = (dict(os.environ), os.getcwd(), sys.argv, sys.stdin, root.handlers[:], root.level)
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = ["fundraising", *args]
    sys.stdin = io.StringIO(input)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                cli_main()
                code = 0
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
    finally:
        environment, directory, sys.argv, sys.stdin, root.handlers[:], level = saved
        os.environ.clear()
        os.environ.update(environment)
        os.chdir(directory)
        root.setLevel(level)
    return Result(args, code, out.getvalue(), err.getvalue())


def together(*running: Running) -> list[Result]:
    """Wait for commands started side by side (start-up dominates; this halves the wall time)."""
    return [each.wait() for each in running]


def assert_ok(result: Result) -> Result:
    assert result.code == 0, result.describe()
    assert "Traceback" not in result.output, result.describe()
    return result


def assert_one_line_failure(result: Result, *words: str) -> str:
    """Exit status ≠ 0, exactly one line on stderr, no traceback; the line holds every word."""
    assert result.code != 0, result.describe()
    assert "Traceback" not in result.output, result.describe()
    assert len(result.error_lines) == 1, result.describe()
    line = result.error_lines[0]
    for word in words:
        assert word.lower() in line.lower(), f"{word!r} not in {line!r}\n{result.describe()}"
    return line


def can_log_in(settings: Settings, username: str, password: str) -> bool:
    """Log in through the LogIn use case of a container built from `settings`."""
    container = Container(settings=settings)
    try:
        tokens = container.log_in()(Credentials(username, password, "127.0.0.1"))
    except AuthenticationFailed:
        return False
    finally:
        container.shutdown_resources()
    return bool(tokens.access and tokens.refresh)


def who_cannot_log_in(settings: Settings, usernames: list[str], password: str) -> list[str]:
    """The users (of `usernames`) that the LogIn use case refuses with `password`."""
    container = Container(settings=settings)
    refused = []
    try:
        log_in = container.log_in()
        for username in usernames:
            try:
                log_in(Credentials(username, password, "127.0.0.1"))
            except AuthenticationFailed:
                refused.append(username)
    finally:
        container.shutdown_resources()
    return refused


def register(settings: Settings, username: str, email: str, password: str) -> None:
    """A user made through the RegisterUser use case, as the HTTP API would make it."""
    container = Container(settings=settings)
    try:
        container.register_user()(Registration(username, email, password))
    finally:
        container.shutdown_resources()


class _Silent:
    """Progress that shows nothing."""

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


def generate(
    settings: Settings, *, users: int = 3, collects: int = 4, payments: int = 0, seed: int = 5
) -> SeedSummary:
    """What `generate-test-data` does, in-process: the use case with the Faker source."""
    container = Container(settings=settings)
    try:
        return container.generate_test_data()(
            SeedRequest(users, collects, payments),
            FakerSource(seed=seed),
            random.Random(seed),
            _Silent(),
        )
    finally:
        container.shutdown_resources()


class Database:
    """Plain SQL against the database a command worked on."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def tables(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def execute(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(sql), params)

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT COUNT(*) FROM {table}"))

    def stored_totals(self) -> dict[int, tuple[int, int, int]]:
        """Each collect's counters as stored: (kopecks, donations, donors)."""
        found = self.rows(
            "SELECT id, collected_kopecks, donations_count, donors_count FROM collects"
        )
        return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in found}

    def actual_totals(self) -> dict[int, tuple[int, int, int]]:
        """Each collect's counters counted from its completed payments, by the test itself."""
        totals = dict.fromkeys((row[0] for row in self.rows("SELECT id FROM collects")), (0, 0, 0))
        found = self.rows(
            "SELECT collect_id, SUM(amount_kopecks), COUNT(*), COUNT(DISTINCT payer_id) "
            "FROM payments WHERE status = 'completed' GROUP BY collect_id"
        )
        for collect_id, kopecks, donations, donors in found:
            totals[collect_id] = (int(kopecks), int(donations), int(donors))
        return totals


@contextmanager
def database(url: str) -> Iterator[Database]:
    db = Database(url)
    try:
        yield db
    finally:
        db.close()


def free_port() -> int:
    """A local TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
