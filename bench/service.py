"""The service under test as the bench runs it: the production profile on MariaDB and Redis,
`fundraising serve` on a free port, the command line, and JSON calls."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from tests.services import REDIS_URL, fresh_mysql_database

from bench.processes import start, stop

FUNDRAISING = [sys.executable, "-m", "fundraising"]
PASSWORD = "testpassword"
SEED = ("generate-test-data", "--force", "--password", PASSWORD)  # the bench runs as production
CACHE_DB, BROKER_DB = 5, 6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def call(url: str, body: dict[str, object] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def environment(database_url: str, workdir: Path) -> dict[str, str]:
    redis_base = REDIS_URL.rsplit("/", 1)[0]
    return {
        **os.environ,
        "FUNDRAISING_ENV": "production",
        "FUNDRAISING_SECRET_KEY": secrets.token_urlsafe(48),
        "FUNDRAISING_PUBLIC_URL": "http://fundraising.bench",  # required in production
        "FUNDRAISING_DATABASE_URL": database_url,
        "FUNDRAISING_REDIS_URL": f"{redis_base}/{CACHE_DB}",
        "FUNDRAISING_BROKER_URL": f"{redis_base}/{BROKER_DB}",
        "FUNDRAISING_MEDIA_DIR": str(workdir / "media"),
        "FUNDRAISING_MAIL_DIR": str(workdir / "mail"),
        "FUNDRAISING_LOG_LEVEL": "INFO",  # production's: an access line per request
        "FUNDRAISING_WEBHOOKS_ALLOW_PRIVATE": "true",  # the slow receiver listens on 127.0.0.1
    }


@contextmanager
def serving(
    env: dict[str, str], *, cache: bool = True, access_log: bool = True, workers: int = 2
) -> Iterator[tuple[str, int]]:
    """`fundraising serve --workers N` (2), its JSON log lines written to a file of the run."""
    port = free_port()
    served = {
        **env,
        "FUNDRAISING_CACHE_ENABLED": str(cache).lower(),
        "FUNDRAISING_ACCESS_LOG": str(access_log).lower(),
    }
    command = [
        *FUNDRAISING,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log = Path(env["FUNDRAISING_MAIL_DIR"]).parent / f"serve-{port}.log"
    process = start(command, served, ready=f"http://127.0.0.1:{port}/health/ready", log=log)
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        stop(process)


def fundraising(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FUNDRAISING, *args], env=env, capture_output=True, text=True, check=False
    )


def mariadb(database_url: str, query: str) -> list[list[str]]:
    """The rows of a query run with the `mariadb` client, as tab-separated text fields."""
    database = database_url.rsplit("/", 1)[1]
    found = subprocess.run(
        ["mariadb", "-N", "-h", "127.0.0.1", "-u", "root", database, "-e", query],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split("\t") for line in found.stdout.splitlines()]


@contextmanager
def seeded() -> Iterator[tuple[str, dict[str, str], Path]]:
    """A fresh MariaDB database, migrated and seeded, and the bench's Redis databases emptied:
    the database's URL, the environment of the commands and a working directory, all removed
    when the block ends."""
    workdir = Path(tempfile.mkdtemp(prefix="fundraising-bench-"))
    for db in (CACHE_DB, BROKER_DB):
        redis.Redis.from_url(f"{REDIS_URL.rsplit('/', 1)[0]}/{db}").flushdb()
    try:
        with fresh_mysql_database() as database_url:
            env = environment(database_url, workdir)
            fundraising(env, "db", "upgrade").check_returncode()
            done = fundraising(env, *SEED, "--seed", "1")
            done.check_returncode()
            print(done.stdout, file=sys.stderr)
            yield database_url, env, workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def mailed(database_url: str, after_id: int, patience: float = 300.0) -> str:
    """The whole donation job: how fast `fundraising worker` (4 threads) delivered the e-mails
    the donations asked for, once the last of them is sent (or `patience` runs out)."""
    waiting = f"SELECT COUNT(*) FROM outbox WHERE id > {after_id} AND finished_at IS NULL"
    deadline = time.monotonic() + patience
    while int(mariadb(database_url, waiting)[0][0]) and time.monotonic() < deadline:
        time.sleep(0.5)
    count, seconds = mariadb(
        database_url,
        "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, MIN(created_at), MAX(finished_at)) / 1e6 "
        f"FROM outbox WHERE id > {after_id} AND finished_at IS NOT NULL",
    )[0]
    if not int(count):
        return "the worker sent no e-mail"
    left = int(mariadb(database_url, waiting)[0][0])
    rate = int(count) / float(seconds) if float(seconds) > 0 else 0.0
    return (
        f"the worker sent {int(count)} e-mails in {float(seconds):.0f} s from the first "
        f"donation ({rate:,.0f}/s)" + (f", {left} still waiting" if left else "")
    )
