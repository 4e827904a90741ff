"""`make bench`: the production configuration on this machine, driven by wrk; one table.

MariaDB, Redis (cache and broker), `fundraising serve --workers 2` and `fundraising worker`;
seeded with `generate-test-data` (default sizes); each scenario runs wrk at 32 connections for
a fixed time. Two ceilings are measured in the same run, so that noisy machines compare by
ratio: a bare Litestar JSON handler served the same way (reads) and the donation transaction
issued straight through PyMySQL from 32 threads (writes). Figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
from datetime import UTC, datetime
from pathlib import Path

import redis
from tests.services import MYSQL_URL, REDIS_URL, fresh_mysql_database

from bench.processes import rss_of_workers, start, stop
from bench.raw_db import donation_ceiling
from bench.report import Row, table
from bench.wrk import run_wrk

BENCH = Path(__file__).parent
FUNDRAISING = [sys.executable, "-m", "fundraising"]
PASSWORD = "testpassword"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(url: str, body: dict[str, object] | None = None, token: str | None = None) -> object:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def environment(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    redis = REDIS_URL.rsplit("/", 1)[0]
    return {
        **os.environ,
        "FUNDRAISING_ENV": "production",
        "FUNDRAISING_SECRET_KEY": secrets.token_urlsafe(48),
        "FUNDRAISING_DATABASE_URL": database_url,
        "FUNDRAISING_REDIS_URL": f"{redis}/5",
        "FUNDRAISING_BROKER_URL": f"{redis}/6",
        "FUNDRAISING_MEDIA_DIR": str(workdir / "media"),
        "FUNDRAISING_MAIL_DIR": str(workdir / "mail"),
        "FUNDRAISING_LOG_LEVEL": "WARNING",
        **extra,
    }


@contextmanager
def serving(env: dict[str, str], port: int, *, cache: bool = True) -> Iterator[str]:
    served = {**env, "FUNDRAISING_CACHE_ENABLED": "true" if cache else "false"}
    command = [*FUNDRAISING, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    process = start(command, served, ready=f"http://127.0.0.1:{port}/health/ready")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def flush_redis() -> None:
    for db in (5, 6):
        redis.Redis.from_url(f"{REDIS_URL.rsplit('/', 1)[0]}/{db}").flushdb()


def run(duration: int, connections: int, million: bool) -> list[Row]:
    rows: list[Row] = []
    workdir = Path(tempfile.mkdtemp(prefix="fundraising-bench-"))
    flush_redis()
    with fresh_mysql_database() as database_url:
        env = environment(database_url, workdir)
        subprocess.run([*FUNDRAISING, "db", "upgrade"], env=env, check=True, capture_output=True)
        seeding = subprocess.run(
            [*FUNDRAISING, "generate-test-data", "--seed", "1"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        print(seeding.stdout, file=sys.stderr)
        username = subprocess.run(
            [
                "mariadb",
                "-N",
                "-h",
                "127.0.0.1",
                "-u",
                "root",
                database_url.rsplit("/", 1)[1],
                "-e",
                "SELECT username FROM users ORDER BY id LIMIT 1",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

        bare_port = free_port()
        bare = start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.bare:app",
                "--port",
                str(bare_port),
                "--workers",
                "2",
                "--log-level",
                "warning",
                "--no-server-header",
            ],
            env,
            ready=f"http://127.0.0.1:{bare_port}/bare",
        )
        try:
            rows.append(
                run_wrk(
                    "bare Litestar JSON handler (read ceiling)",
                    f"http://127.0.0.1:{bare_port}/bare",
                    duration,
                    connections,
                )
            )
        finally:
            stop(bare)

        worker = start([*FUNDRAISING, "worker", "--threads", "4"], env, ready=None)
        port = free_port()
        with serving(env, port) as base:
            token = str(
                request(f"{base}/auth/jwt/create/", {"username": username, "password": PASSWORD})[
                    "access"
                ]
            )  # type: ignore[index]
            auth = {"Authorization": f"Bearer {token}"}
            rows.append(
                run_wrk(
                    "GET collect list, page_size 20 (cache hit)",
                    f"{base}/api/v1/collects/?page_size=20",
                    duration,
                    connections,
                    headers=auth,
                    warm=True,
                )
            )
            rows.append(
                run_wrk(
                    "GET collect detail (cache hit)",
                    f"{base}/api/v1/collects/1/",
                    duration,
                    connections,
                    headers=auth,
                    warm=True,
                )
            )
            targets = [
                str(request(f"{base}/api/v1/collects/", {"title": f"bench {n}"}, token)["id"])  # type: ignore[index]
                for n in range(20)
            ]
            rows.append(
                run_wrk(
                    "POST payment (unique transaction ids)",
                    f"{base}/",
                    duration,
                    connections,
                    script=BENCH / "wrk" / "donate.lua",
                    script_args=[token, ",".join(targets)],
                )
            )
            rows.append(
                run_wrk(
                    "POST jwt/create",
                    f"{base}/",
                    duration,
                    connections,
                    script=BENCH / "wrk" / "login.lua",
                    script_args=[username, PASSWORD],
                )
            )
            rows[-3].rss = rows[-4].rss = rows[-1].rss = rss_of_workers(port)
        port = free_port()
        with serving(env, port, cache=False) as base:
            rows.append(
                run_wrk(
                    "GET collect detail (miss: cache disabled)",
                    f"{base}/api/v1/collects/1/",
                    duration,
                    connections,
                    headers=auth,
                )
            )
            rows[-1].rss = rss_of_workers(port)
        stop(worker)

        rows.append(donation_ceiling(database_url, duration, connections))
        drift = subprocess.run(
            [*FUNDRAISING, "reconcile"], env=env, capture_output=True, text=True, check=False
        )
        rows.append(
            Row(
                "reconcile after the load",
                note=drift.stdout.strip().splitlines()[-1] + f" (exit {drift.returncode})",
            )
        )
    if million:
        rows.append(seed_million(workdir))
    shutil.rmtree(workdir, ignore_errors=True)
    return rows


def seed_million(workdir: Path) -> Row:
    with fresh_mysql_database() as database_url:
        env = environment(database_url, workdir)
        subprocess.run([*FUNDRAISING, "db", "upgrade"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        done = subprocess.run(
            [
                "/usr/bin/time",
                "-f",
                "%M",
                *FUNDRAISING,
                "generate-test-data",
                "--payments",
                "1000000",
                "--seed",
                "2",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        peak_mib = int(done.stderr.strip().splitlines()[-1]) / 1024
    return Row(
        "generate-test-data --payments 1000000 (MariaDB)",
        note=f"{elapsed:.0f} s, peak RSS {peak_mib:.0f} MiB",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "10")))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-million", action="store_true", help="skip the 1M-payment seed")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")
    rows = run(args.duration, args.connections, million=not args.no_million)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"\n{stamp} · {platform.node()} · {os.cpu_count()} CPUs · {platform.python_version()} "
        f"· MariaDB at {MYSQL_URL.split('@')[-1]} · wrk {args.connections} connections, "
        f"{args.duration} s per scenario\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
