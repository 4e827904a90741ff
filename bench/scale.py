"""The scale curve: `python -m bench.scale [--duration N]`.

The production configuration of `make bench` (seeded MariaDB, Redis), with `fundraising worker`
sending the e-mails: the cached detail and donations with 1, 2 and 4 server workers; then, with
2, donations spread over 10, 100 and 10,000 collects of which one is hot (it takes half of
them, the rest share the other half). Each rate is printed beside the raw donation ceiling of
the same run. Figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.processes import rss_of_workers, start, stop
from bench.raw_db import donation_ceiling
from bench.report import Row, table
from bench.service import FUNDRAISING, PASSWORD, call, mailed, mariadb, seeded, serving
from bench.wrk import run_wrk

DONATE = Path(__file__).parent / "wrk" / "donate.lua"
CONNECTIONS = 32


def opened(base: str, token: str, count: int) -> list[int]:
    """`count` new collects of the caller's, opened through the API."""

    def one(number: int) -> int:
        return int(call(f"{base}/api/v1/collects/", {"title": f"scale {number}"}, token)["id"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def donations(
    label: str, base: str, token: str, targets: list[int], *, duration: int, database_url: str
) -> Row:
    """Donations under wrk, then the wait for the worker to send their e-mails: the next
    scenario does not share the machine with that backlog."""
    since = int(mariadb(database_url, "SELECT COALESCE(MAX(id), 0) FROM outbox")[0][0])
    row = run_wrk(
        label,
        f"{base}/",
        duration,
        CONNECTIONS,
        script=DONATE,
        script_args=[token, ",".join(map(str, targets))],
    )
    row.note = mailed(database_url, since)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")
    rows: list[Row] = []
    with seeded() as (database_url, env, _):
        username = mariadb(database_url, "SELECT username FROM users ORDER BY id LIMIT 1")[0][0]
        worker = start([*FUNDRAISING, "worker", "--threads", "4"], env, ready=None)
        try:
            targets: list[int] = []
            for workers in (1, 2, 4):
                with serving(env, workers=workers) as (base, port):
                    login = {"username": username, "password": PASSWORD}
                    token = call(f"{base}/auth/jwt/create/", login)["access"]
                    auth = {"Authorization": f"Bearer {token}"}
                    targets = targets or opened(base, token, 20)
                    read = run_wrk(
                        f"GET collect detail (cache hit), {workers} server workers",
                        f"{base}/api/v1/collects/1/",
                        args.duration,
                        CONNECTIONS,
                        headers=auth,
                        warm=True,
                    )
                    label = f"POST payment, 20 collects, {workers} server workers"
                    written = donations(
                        label,
                        base,
                        token,
                        targets,
                        duration=args.duration,
                        database_url=database_url,
                    )
                    read.rss = written.rss = rss_of_workers(port)
                    rows += [read, written]
            with serving(env) as (base, port):
                token = call(f"{base}/auth/jwt/create/", login)["access"]
                for count in (10, 100, 10_000):
                    collects = opened(base, token, count)
                    hot = [collects[0]] * (count - 1) + collects[1:]  # half of them to one
                    label = f"POST payment, {count:,} collects, one hot, 2 server workers"
                    rows.append(
                        donations(
                            label,
                            base,
                            token,
                            hot,
                            duration=args.duration,
                            database_url=database_url,
                        )
                    )
        finally:
            stop(worker)
        rows.append(donation_ceiling(database_url, args.duration, CONNECTIONS))
    print(table(rows))


if __name__ == "__main__":
    main()
