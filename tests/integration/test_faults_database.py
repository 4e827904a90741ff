"""Faults in MariaDB: connections killed during requests, and a COMMIT whose answer is lost."""

from __future__ import annotations

import itertools
import random
import time
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from tests.integration.fault_helpers import (
    COLLECTS,
    PAYMENTS,
    _donation,
    _shown,
    _unexpected_errors,
)
from tests.integration.fixtures_services import (
    SmtpSink,
    smtp_sink_fixture,  # noqa: F401  (fixture)
    wait_until,
)
from tests.integration.processes import (
    Account,
    Api,
    Load,
    LossyMysqlLink,
    Seen,
    deployment,
    observe,
)
from tests.services import MYSQL_URL

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.redis]


def _succeeded(seen: Seen) -> bool:
    return seen.status is not None and 200 <= seen.status < 300


def _kopecks(amount: str) -> int:
    return int(Decimal(amount) * 100)


def _rub(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def _is_problem(seen: Seen, status: int) -> bool:
    """A readable problem+json answer with this status that leaks nothing of the internals."""
    body = seen.body if isinstance(seen.body, dict) else {}
    text_of_body = str(seen.body)
    return (
        seen.status == status
        and seen.headers.get("content-type", "").startswith("application/problem+json")
        and body.get("status") == status
        and isinstance(body.get("detail"), str)
        and not any(word in text_of_body for word in ("Traceback", "pymysql", "SELECT", "INSERT"))
    )


CHAOS_SECONDS = 5.0
DONATING_THREADS = 4
READING_THREADS = 2


def _kill_connections(admin: Connection, database_name: str) -> int:
    """KILL every server-side connection to the database; returns how many were killed."""
    found = admin.execute(
        text("SELECT id FROM information_schema.processlist WHERE db = :db"),
        {"db": database_name},
    )
    killed = 0
    for (connection_id,) in found.all():
        try:
            admin.execute(text(f"KILL {int(connection_id)}"))
        except DBAPIError:  # it ended meanwhile
            continue
        killed += 1
    return killed


def _retried(api: Api, who: Account, body: dict[str, Any]) -> Seen:
    """The same donation sent again: new (201), or the replay of one committed already (200)."""
    answer = observe(api.http, "POST", PAYMENTS, json=body, headers=who.headers)
    replayed = answer.status == 200 and answer.headers.get("idempotent-replayed") == "true"
    assert answer.status == 201 or replayed, answer.describe()
    return answer


def test_killed_mariadb_connections_give_clean_503s_and_never_a_partial_donation(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        server = deployed.serve(workers=2)
        api = deployed.api()
        authors = [api.account("author") for _ in range(2)]
        donors = [api.account("donor") for _ in range(6)]
        collect_ids = [api.collect(authors[n % 2], f"Сбор №{n + 1}")["id"] for n in range(3)]
        sent: list[tuple[Account, dict[str, Any], Seen]] = []
        numbers = [itertools.count(1) for _ in range(DONATING_THREADS + READING_THREADS)]
        chances = [random.Random(n) for n in range(DONATING_THREADS + READING_THREADS)]

        def step(number: int, http: httpx.Client, seen: list[Seen]) -> None:
            chance = chances[number]
            who = chance.choice(donors)
            if number < DONATING_THREADS:
                amount = f"{chance.randint(1, 999)}.{chance.randint(0, 99):02d}"
                transaction_id = f"kill-{number}-{next(numbers[number])}"
                body = _donation(chance.choice(collect_ids), amount, transaction_id)
                answer = observe(http, "POST", PAYMENTS, json=body, headers=who.headers)
                sent.append((who, body, answer))
            else:
                collect_id = chance.choice(collect_ids)
                detail = f"{COLLECTS}{collect_id}/"
                path = chance.choice([detail, f"{detail}payments/", COLLECTS, PAYMENTS])
                answer = observe(http, "GET", path, headers=who.headers)
            seen.append(answer)

        database_name = make_url(deployed.database_url).database
        assert database_name
        admin_engine = create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
        kills = 0
        try:
            with admin_engine.connect() as admin, Load(deployed.url, len(chances), step) as load:
                stop_at = time.monotonic() + CHAOS_SECONDS
                while time.monotonic() < stop_at:
                    kills += _kill_connections(admin, database_name)
                    time.sleep(0.1)
                seen = load.stop()
        finally:
            admin_engine.dispose()

        bad = [s.describe() for s in seen if not (_succeeded(s) or _is_problem(s, 503))]
        assert not bad, f"{len(bad)} of {len(seen)} answers: neither 2xx nor a clean 503\n" + (
            "\n".join(bad[:20])
        )
        assert kills > 20, "connections were killed"
        assert any(s.status == 503 for s in seen), "the kills hit requests in flight"

        # The pools recover: the very next requests succeed.
        after = [observe(api.http, "GET", "/health/ready")]
        for collect_id in collect_ids:
            body = _donation(collect_id, "10.00", f"after-{collect_id}")
            answer = observe(api.http, "POST", PAYMENTS, json=body, headers=donors[0].headers)
            sent.append((donors[0], body, answer))
            after += [
                answer,
                observe(api.http, "GET", f"{COLLECTS}{collect_id}/", headers=donors[0].headers),
            ]
        after.append(observe(api.http, "GET", COLLECTS, headers=donors[0].headers))
        failing = [s.describe() for s in after if s.status not in {200, 201}]
        assert not failing, "after the kills:\n" + "\n".join(failing)

        # A client retries what was answered 503: a new donation, or the replay of one that was
        # committed although its answer was lost. Either way each transaction counts once.
        accepted: dict[str, tuple[int, int, str]] = {}
        for who, body, first in sent:
            answer = _retried(api, who, body) if first.status == 503 else first
            assert answer.status in {200, 201}, answer.describe()
            assert answer.body["transaction_id"] == body["transaction_id"], answer.describe()
            accepted[body["transaction_id"]] = (
                body["collect"],
                _kopecks(body["amount"]),
                who.username,
            )

        with deployed.database() as db:
            rows = db.rows(
                "SELECT p.transaction_id, p.collect_id, p.amount_kopecks, u.username, p.status "
                "FROM payments p JOIN users u ON u.id = p.payer_id"
            )
            stored = db.stored_totals()
            assert stored == db.actual_totals(), "counters equal the payment rows"
        assert {row[0]: tuple(row[1:4]) for row in rows} == accepted, "one row per donation"
        assert {row[4] for row in rows} == {"completed"}
        for collect_id in collect_ids:
            mine = [value for value in accepted.values() if value[0] == collect_id]
            expected = (
                sum(kopecks for _, kopecks, _ in mine),
                len(mine),
                len({payer for *_, payer in mine}),
            )
            assert stored[collect_id] == expected, f"collect {collect_id}"
            shown = api.detail(collect_id, donors[0]).json()
            assert (shown["collected_amount"], shown["donations_count"], shown["donors_count"]) == (
                _rub(expected[0]),
                expected[1],
                expected[2],
            )
        reconciled = deployed.run("reconcile")
        assert reconciled.code == 0, reconciled.describe()
        assert "no drift" in reconciled.stdout, reconciled.describe()
        # (SQLAlchemy's pool logs the failed reset of each killed connection; that is expected.)
        assert not _unexpected_errors(server), server.tail()


def test_a_donation_whose_commit_answer_was_lost_is_shown_once_its_retry_is_answered(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with (
        deployment(tmp_path, smtp=smtp_sink) as deployed,
        closing(LossyMysqlLink(deployed.database_url)) as link,
    ):
        deployed.serve(workers=2, FUNDRAISING_DATABASE_URL=link.url)
        api = deployed.api()
        author, donor = api.account("author"), api.account("donor")
        collect_id = api.collect(author, "Новогодний корпоратив")["id"]
        assert api.donate(donor, collect_id, "100.00", "lost-1").status_code == 201
        wait_until(
            lambda: api.detail(collect_id, donor).headers["x-cache"] == "HIT",
            what="the detail cached",
        )

        link.lose_next_payment_commit()
        body = _donation(collect_id, "250.00", "lost-2")
        lost = observe(api.http, "POST", PAYMENTS, json=body, headers=donor.headers)
        assert _is_problem(lost, 503), lost.describe()
        assert link.lost == 1
        with deployed.database() as db:
            committed = db.scalar("SELECT COUNT(*) FROM payments WHERE transaction_id = 'lost-2'")
        assert committed == 1, "the donation was committed, only its answer was lost"

        retried = observe(api.http, "POST", PAYMENTS, json=body, headers=donor.headers)
        assert retried.status == 200, retried.describe()
        assert retried.headers.get("idempotent-replayed") == "true", retried.describe()
        for path in (f"{COLLECTS}{collect_id}/", COLLECTS):
            shown = observe(api.http, "GET", path, headers=donor.headers)
            assert _shown(shown, collect_id) == (2, "350.00"), f"X-Cache: {shown.cache}"
