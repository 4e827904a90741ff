"""`make bench`: the production configuration on this machine, driven by wrk; one table.

MariaDB, Redis (cache and broker), `fundraising serve --workers 2` and `fundraising worker`;
seeded with `generate-test-data` (default sizes); each scenario runs wrk at 32 connections for
a fixed time. Two ceilings are measured in the same run, so that noisy machines compare by
ratio: a bare Litestar JSON handler served the same way (reads) and the donation transaction
issued straight through PyMySQL from 32 threads (writes). Figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.services import MYSQL_URL

from bench.large_collect import large_collect_rows
from bench.processes import rss_of_workers, start, stop
from bench.raw_db import donation_ceiling
from bench.receiver import slow_receiver
from bench.report import Row, table
from bench.service import (
    FUNDRAISING,
    PASSWORD,
    call,
    free_port,
    fundraising,
    mailed,
    mariadb,
    seeded,
    serving,
)
from bench.wrk import run_wrk

BENCH = Path(__file__).parent


def seeded_users(database_url: str) -> list[tuple[int, str]]:
    """The seeded users' ids and usernames."""
    found = mariadb(database_url, "SELECT id, username FROM users ORDER BY id")
    return [(int(user_id), username) for user_id, username in found]


def private_collect(base: str, token: str, users: list[tuple[int, str]]) -> int:
    """A private collect hidden from the last user, with 20 invited members: its cached detail
    is checked against its audience on every hit."""
    collect_id = int(
        call(
            f"{base}/api/v1/collects/",
            {"title": "bench private", "visibility": "private", "hidden_from": [users[-1][0]]},
            token,
        )["id"]
    )
    for user_id, _ in users[1:21]:
        call(f"{base}/api/v1/collects/{collect_id}/participants/", {"user": user_id}, token)
    return collect_id


def read_ceiling(env: dict[str, str], duration: int, connections: int) -> Row:
    port = free_port()
    bare = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare:app",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--no-server-header",
        ],
        env,
        ready=f"http://127.0.0.1:{port}/bare",
    )
    try:
        row = run_wrk(
            "bare Litestar JSON handler (read ceiling)",
            f"http://127.0.0.1:{port}/bare",
            duration,
            connections,
        )
        row.rss = rss_of_workers(port)
        return row
    finally:
        stop(bare)


def service_rows(
    env: dict[str, str], users: list[tuple[int, str]], duration: int, connections: int
) -> list[Row]:
    usernames = [username for _, username in users]
    rows: list[Row] = []

    def detail(label: str, base: str, port: int, *, warm: bool) -> Row:
        """A seeded collect's detail under wrk, with the memory of the server's workers."""
        url = f"{base}/api/v1/collects/1/"
        row = run_wrk(label, url, duration, connections, headers=auth, warm=warm)
        row.rss = rss_of_workers(port)
        return row

    worker = start([*FUNDRAISING, "worker", "--threads", "4"], env, ready=None)
    try:
        # First, while the worker is idle: the detail without the access lines, to compare.
        with serving(env, access_log=False) as (base, port):
            token = call(
                f"{base}/auth/jwt/create/", {"username": usernames[0], "password": PASSWORD}
            )["access"]
            auth = {"Authorization": f"Bearer {token}"}
            label = "GET collect detail (cache hit), access log off"
            rows.append(detail(label, base, port, warm=True))
        with serving(env) as (base, port):
            served = [
                run_wrk(
                    "GET collect list, page_size 20 (cache hit)",
                    f"{base}/api/v1/collects/?page_size=20",
                    duration,
                    connections,
                    headers=auth,
                    warm=True,
                ),
                run_wrk(
                    "GET collect detail (cache hit)",
                    f"{base}/api/v1/collects/1/",
                    duration,
                    connections,
                    headers=auth,
                    warm=True,
                ),
                run_wrk(
                    "GET private collect detail, 21 members (cache hit)",
                    f"{base}/api/v1/collects/{private_collect(base, token, users)}/",
                    duration,
                    connections,
                    headers=auth,
                    warm=True,
                ),
            ]
            targets = [
                call(f"{base}/api/v1/collects/", {"title": f"bench {n}"}, token)["id"]
                for n in range(20)
            ]
            since = mariadb(
                env["FUNDRAISING_DATABASE_URL"], "SELECT COALESCE(MAX(id), 0) FROM outbox"
            )
            donations = run_wrk(
                "POST payment (unique transaction ids)",
                f"{base}/",
                duration,
                connections,
                script=BENCH / "wrk" / "donate.lua",
                script_args=[token, ",".join(map(str, targets))],
            )
            donations.note = exact_totals(base, token, targets)
            donations.note += "; " + mailed(env["FUNDRAISING_DATABASE_URL"], int(since[0][0]))
            served += [
                donations,
                slow_webhook_donations(base, token, targets, duration, connections),
            ]
            served += [
                run_wrk(
                    "POST jwt/create",
                    f"{base}/",
                    duration,
                    connections,
                    script=BENCH / "wrk" / "login.lua",
                    script_args=[",".join(usernames), PASSWORD],
                ),
            ]
            rss = rss_of_workers(port)
            for row in served:
                row.rss = rss
            rows += served
        with serving(env, cache=False) as (base, port):
            label = "GET collect detail (miss: cache disabled)"
            rows.append(detail(label, base, port, warm=False))
    finally:
        stop(worker)
    return rows


def slow_webhook_donations(
    base: str, token: str, targets: list[int], duration: int, connections: int
) -> Row:
    """The donation run again, with the author's webhook on every collect pointed at a
    receiver that takes 5 s to answer: the request path only records the deliveries."""
    with slow_receiver(5.0) as (url, received):
        call(f"{base}/api/v1/webhooks/", {"url": url, "events": ["payment.created"]}, token)
        row = run_wrk(
            "POST payment, webhook to a receiver answering in 5 s",
            f"{base}/",
            duration,
            connections,
            script=BENCH / "wrk" / "donate.lua",
            script_args=[token, ",".join(map(str, targets))],
        )
        row.note = f"{exact_totals(base, token, targets)}; {received[0]} deliveries received so far"
    return row


def exact_totals(base: str, token: str, collect_ids: list[int]) -> str:
    """Each 201 gave 10.00 to one of these collects: their totals must add up exactly."""
    details = [call(f"{base}/api/v1/collects/{cid}/", token=token) for cid in collect_ids]
    donations = sum(detail["donations_count"] for detail in details)
    collected = sum(round(float(detail["collected_amount"]) * 100) for detail in details)
    exact = collected == donations * 1000
    return f"{donations} donations, totals {'exact' if exact else 'NOT EXACT'}"


def run(duration: int, connections: int, million: bool) -> list[Row]:
    with seeded() as (database_url, env, workdir):
        rows = [read_ceiling(env, duration, connections)]
        rows += service_rows(env, seeded_users(database_url), duration, connections)
        rows.append(donation_ceiling(database_url, duration, connections))
        drift = fundraising(env, "reconcile")
        rows.append(
            Row(
                "reconcile after the load",
                note=f"{drift.stdout.strip().splitlines()[-1]} (exit {drift.returncode})",
            )
        )
        if million:
            rows += large_collect_rows(workdir)
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "10")))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--no-million",
        action="store_true",
        help="skip the collect of 1M payments (its seed, export and cancel)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")
    rows = run(args.duration, args.connections, million=not args.no_million)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"\n{stamp} · {platform.node()} · {os.cpu_count()} CPUs · Python "
        f"{platform.python_version()} · MariaDB at {MYSQL_URL.split('@')[-1]} · wrk "
        f"{args.connections} connections, {args.duration} s per scenario\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
