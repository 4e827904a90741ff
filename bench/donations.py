"""Donations per second through the Donate use case and the SQL unit of work, on MariaDB.

Run with `.venv/bin/python -m bench.donations [--donations N]`. Each scenario gets a fresh
database; afterwards the totals of every collect are checked against its payment rows (OK/DRIFT).
The figures are printed, never judged: only a drift makes the exit status non-zero.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from attrs import frozen
from sqlalchemy import Engine, create_engine, func, make_url, select, text

from fundraising.adapters.sql import migrate
from fundraising.adapters.sql.engine import build_engine
from fundraising.adapters.sql.queries import SqlTotalsAudit
from fundraising.adapters.sql.tables import collects, payments
from fundraising.adapters.sql.types import to_kopecks
from fundraising.adapters.sql.unit_of_work import SqlUnitOfWork
from fundraising.application.ports.tasks import OutboxMessage
from fundraising.application.use_cases.collects import new_share_key
from fundraising.application.use_cases.payments import Donate, Donation
from fundraising.domain.collect import Collect, Occasion
from fundraising.domain.money import Money
from fundraising.domain.user import User

MYSQL_URL = os.environ.get("FUNDRAISING_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
PAYERS = 50


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class DiscardingQueue:
    """Accepts every task: the broker is not what is measured here."""

    def publish(self, message: OutboxMessage) -> None:
        pass


class NoCache:
    def collect_changed(self, collect_id: int) -> None:
        pass


@frozen
class Scenario:
    threads: int
    collects: int


@frozen
class Outcome:
    scenario: Scenario
    donations: int
    errors: int
    seconds: float
    latencies: Sequence[float]
    exact: bool


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new database on the test server, dropped afterwards."""
    parts = urlsplit(MYSQL_URL.replace("+pymysql", ""))
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 3306), 1).close()
    except OSError:
        sys.exit(f"MariaDB/MySQL does not answer at {MYSQL_URL}; nothing measured.")
    name = f"fundraising_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    try:
        yield make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def _setup(engine: Engine, clock: SystemClock, collect_count: int) -> tuple[list[int], list[int]]:
    now = clock.now()
    with SqlUnitOfWork(engine, DiscardingQueue(), NoCache()) as uow:
        payers = [
            uow.users.add(User(None, f"payer{n}", f"payer{n}@example.com", "x", "", "", True, now))
            for n in range(PAYERS)
        ]
        opened = [
            uow.collects.add(
                Collect.open(
                    author_id=payers[0].id,
                    title=f"Bench {n}",
                    occasion=Occasion.OTHER,
                    description="",
                    goal=None,
                    end_date=None,
                    now=now,
                    share_key=new_share_key(),
                )
            )
            for n in range(collect_count)
        ]
        uow.commit()
    return [p.id for p in payers], [c.id for c in opened]


def _exact(engine: Engine, expected: dict[int, int], count: int) -> bool:
    """Stored counters agree with the payment rows, and the rows with what was sent."""
    p = payments.c
    sums = select(p.collect_id, func.sum(p.amount_kopecks), func.count()).group_by(p.collect_id)
    with engine.connect() as connection:
        stored = {
            row.id: row.collected_kopecks
            for row in connection.execute(select(collects.c.id, collects.c.collected_kopecks))
        }
        actual = {row[0]: (to_kopecks(row[1]), row[2]) for row in connection.execute(sums)}
    sent = {collect_id: kopecks for collect_id, kopecks in expected.items() if kopecks}
    return (
        SqlTotalsAudit(engine).drifts() == []
        and sum(rows for _, rows in actual.values()) == count
        and {cid: kopecks for cid, (kopecks, _) in actual.items()} == sent
        and all(to_kopecks(stored[cid]) == kopecks for cid, kopecks in sent.items())
    )


def run(scenario: Scenario, donations: int) -> Outcome:
    with fresh_database() as url:
        migrate.upgrade(url)
        engine = build_engine(url, pool_size=max(scenario.threads, 2))
        clock = SystemClock()
        try:
            payer_ids, collect_ids = _setup(engine, clock, scenario.collects)
            warm = [engine.connect() for _ in range(scenario.threads)]  # connect outside the clock
            for connection in warm:
                connection.close()
            donate = Donate(lambda: SqlUnitOfWork(engine, DiscardingQueue(), NoCache()), clock)
            per_thread = donations // scenario.threads
            sent = dict.fromkeys(collect_ids, 0)
            latencies: list[float] = []
            failed: list[int] = []
            lock = threading.Lock()
            start = threading.Barrier(scenario.threads + 1)

            def work(thread: int) -> None:
                generator = random.Random(thread)
                mine: list[float] = []
                amounts: dict[int, int] = {}
                start.wait()
                for number in range(per_thread):
                    collect_id = collect_ids[(thread + number) % len(collect_ids)]
                    amount = Money(Decimal(generator.randint(100, 1_000_000)).scaleb(-2))
                    payer_id = generator.choice(payer_ids)
                    began = time.perf_counter()
                    try:
                        donate(Donation(payer_id, collect_id, amount, f"b{thread}-{number}"))
                    except Exception:
                        failed.append(number)
                        continue
                    mine.append(time.perf_counter() - began)
                    amounts[collect_id] = amounts.get(collect_id, 0) + to_kopecks(amount)
                with lock:
                    latencies.extend(mine)
                    for collect_id, kopecks in amounts.items():
                        sent[collect_id] += kopecks

            workers = [threading.Thread(target=work, args=(n,)) for n in range(scenario.threads)]
            for worker in workers:
                worker.start()
            start.wait()
            began = time.perf_counter()
            for worker in workers:
                worker.join()
            seconds = time.perf_counter() - began
            return Outcome(
                scenario,
                len(latencies),
                len(failed),
                seconds,
                latencies,
                _exact(engine, sent, len(latencies)),
            )
        finally:
            engine.dispose()


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--donations", type=int, default=2000, help="per scenario")
    args = parser.parse_args(argv)
    scenarios = [Scenario(1, 1), Scenario(1, 8), Scenario(8, 1), Scenario(8, 8)]
    header = (
        f"{'threads':>7} {'collects':>8} {'donations':>9} {'seconds':>8} "
        f"{'donations/s':>11} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  totals"
    )
    print(f"Donate + SqlUnitOfWork on {make_url(MYSQL_URL).render_as_string()}")
    print(header)
    print("-" * len(header))
    all_exact = True
    for scenario in scenarios:
        outcome = run(scenario, args.donations)
        all_exact &= outcome.exact
        print(
            f"{scenario.threads:>7} {scenario.collects:>8} {outcome.donations:>9} "
            f"{outcome.seconds:>8.2f} {outcome.donations / outcome.seconds:>11.0f} "
            f"{_percentile(outcome.latencies, 0.5) * 1000:>7.2f} "
            f"{_percentile(outcome.latencies, 0.99) * 1000:>7.2f} {outcome.errors:>6}  "
            f"{'OK' if outcome.exact else 'DRIFT'}",
            flush=True,
        )
    return 0 if all_exact else 1


if __name__ == "__main__":
    sys.exit(main())
