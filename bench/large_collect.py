"""One collect with a million payments, on MariaDB: how long `generate-test-data` takes to
make it, how its CSV export streams (time, size, the serving workers' peak memory) and how
long `fundraising worker` takes to refund it all after a cancel (and its peak memory)."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

from tests.services import fresh_mysql_database

from bench.processes import rss_mib, rss_of_workers, start, stop
from bench.report import Row
from bench.service import (
    FUNDRAISING,
    PASSWORD,
    SEED,
    call,
    environment,
    fundraising,
    mariadb,
    serving,
)

PAYMENTS = 1_000_000
CHUNK = 1 << 16


def _seed(env: dict[str, str]) -> Row:
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *FUNDRAISING, *SEED, "--collects", "1",
         "--payments", str(PAYMENTS), "--seed", "2"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    peak_mib = int(done.stderr.strip().splitlines()[-1]) / 1024
    return Row(
        f"generate-test-data --payments {PAYMENTS} (MariaDB)",
        note=f"{elapsed:.0f} s, peak RSS {peak_mib:.0f} MiB",
    )


def _export(base: str, port: int, token: str) -> Row:
    request = urllib.request.Request(
        f"{base}/api/v1/collects/1/export/", headers={"Authorization": f"Bearer {token}"}
    )
    before = max(rss_of_workers(port, peak=True))
    started = time.perf_counter()
    size = lines = 0
    with urllib.request.urlopen(request, timeout=600) as answer:
        while chunk := answer.read(CHUNK):
            size += len(chunk)
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    after = max(rss_of_workers(port, peak=True))
    return Row(
        f"GET export/ of {PAYMENTS:,} payments (CSV, streamed)",
        note=f"{elapsed:.1f} s, {size / 2**20:.0f} MiB, {lines - 1:,} rows; serving worker "
        f"peak RSS {before:.0f} → {after:.0f} MiB",
    )


def _cancel(base: str, env: dict[str, str], token: str, database_url: str) -> Row:
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    cancel = urllib.request.Request(f"{base}/api/v1/collects/1/cancel/", b"", auth)
    with urllib.request.urlopen(cancel, timeout=30) as answer:
        assert answer.status == 202
    started = time.perf_counter()
    worker = start([*FUNDRAISING, "worker", "--threads", "2"], env, ready=None)
    counters = "SELECT donations_count, collected_kopecks FROM collects WHERE id = 1"
    try:
        while True:  # read in the database: the refunds outlast an access token
            donations, kopecks = mariadb(database_url, counters)[0]
            if donations == "0" or time.perf_counter() - started > 1800:
                break
            time.sleep(1)
        elapsed = time.perf_counter() - started
        peak = rss_mib(worker.pid, peak=True)
    finally:
        stop(worker)
    return Row(
        f"cancel: {PAYMENTS:,} payments refunded by the worker",
        note=f"{elapsed:.0f} s to {donations} donations and {int(kopecks) / 100:.2f} left, "
        f"worker peak RSS {peak:.0f} MiB",
    )


def large_collect_rows(workdir: Path) -> list[Row]:
    """The three measurements, in a fresh database of their own."""
    with fresh_mysql_database() as database_url:
        env = environment(database_url, workdir)
        fundraising(env, "db", "upgrade").check_returncode()
        rows = [_seed(env)]
        author = mariadb(
            database_url,
            "SELECT u.username FROM collects c JOIN users u ON u.id = c.author_id LIMIT 1",
        )[0][0]
        with serving(env) as (base, port):
            token = call(f"{base}/auth/jwt/create/", {"username": author, "password": PASSWORD})
            rows.append(_export(base, port, token["access"]))
            rows.append(_cancel(base, env, token["access"], database_url))
    return rows
