"""`fundraising generate-test-data` through the console script: sizes, totals, reproducibility,
uniqueness across runs and how realistic the data is."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fundraising.adapters.sql import migrate
from fundraising.adapters.sql.tables import collects, payments, users
from tests.e2e.cli_helpers import (
    Cli,
    Result,
    assert_ok,
    assert_one_line_failure,
    database,
    who_cannot_log_in,
)
from tests.services import fresh_mysql_database

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
PROCESSORS = ("sber", "tinkoff", "yookassa", "sbp", "alfa", "vtb")
SMALL = ("--users", "10", "--collects", "20", "--payments", "300")


@contextmanager
def _migrated_sqlite(path: Path) -> Iterator[str]:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    yield url


@contextmanager
def _migrated_mysql() -> Iterator[str]:
    with fresh_mysql_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def fresh_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], AbstractContextManager[str]]:
    """Makes new migrated databases of one backend: `with fresh_database() as url: ...`."""
    numbers = iter(range(1, 100))

    def make() -> AbstractContextManager[str]:
        if request.param == "sqlite":
            return _migrated_sqlite(tmp_path / f"db{next(numbers)}.sqlite3")
        return _migrated_mysql()

    return make


def cli_for(tmp_path: Path, url: str, name: str = "cwd") -> Cli:
    return Cli(tmp_path / name, url)


def test_default_sizes_with_consistent_totals(database_url: str, tmp_path: Path) -> None:
    cli = cli_for(tmp_path, database_url)
    result = assert_ok(cli.run("generate-test-data", "--seed", "20240601"))
    assert "seed 20240601" in result.stdout, "the seed is shown so that a run can be repeated"
    with database(database_url) as db:
        assert (db.count("users"), db.count("collects"), db.count("payments")) == (50, 100, 5000)
        assert db.stored_totals() == db.actual_totals()
    reconciled = assert_ok(cli.run("reconcile"))
    assert "no drift" in reconciled.stdout


def _contents(url: str) -> dict[str, list[Any]]:
    """What a seed determines, as sorted lists (dates in titles blanked: they follow the clock)."""
    with database(url) as db:
        titles = [
            re.sub(r"\d\d\.\d\d\.\d{4}", "DATE", row[0])
            for row in db.rows("SELECT title FROM collects")
        ]
        return {
            "usernames": sorted(row[0] for row in db.rows("SELECT username FROM users")),
            "emails": sorted(row[0] for row in db.rows("SELECT email FROM users")),
            "titles": sorted(titles),
            "amounts": sorted(
                int(row[0]) for row in db.rows("SELECT amount_kopecks FROM payments")
            ),
            "transaction ids": sorted(
                row[0] for row in db.rows("SELECT transaction_id FROM payments")
            ),
        }


def test_the_same_seed_gives_the_same_data(
    fresh_database: Callable[[], AbstractContextManager[str]], tmp_path: Path
) -> None:
    with fresh_database() as first, fresh_database() as second, fresh_database() as other:
        runs = [
            cli_for(tmp_path, first, "a").run("generate-test-data", *SMALL, "--seed", "42"),
            cli_for(tmp_path, second, "b").run("generate-test-data", *SMALL, "--seed", "42"),
            cli_for(tmp_path, other, "c").run("generate-test-data", *SMALL, "--seed", "43"),
        ]
        for run in runs:
            assert_ok(run)
        one, two, three = _contents(first), _contents(second), _contents(other)
    assert len(one["amounts"]) == 300
    for key in one:
        assert one[key] == two[key], f"the {key} differ between two runs with the same seed"
    assert one["usernames"] != three["usernames"], "another seed gives other people"
    assert one["amounts"] != three["amounts"], "another seed gives other amounts"


def test_running_twice_on_one_database_adds_rows_without_clashes(
    database_url: str, tmp_path: Path
) -> None:
    cli = cli_for(tmp_path, database_url)
    sizes = ("--users", "40", "--collects", "10", "--payments", "400", "--seed", "7")
    assert_ok(cli.run("generate-test-data", *sizes))
    assert_ok(cli.run("generate-test-data", *sizes))  # the same seed: the same people come first
    with database(database_url) as db:
        assert (db.count("users"), db.count("collects"), db.count("payments")) == (80, 20, 800)
        names = [row[0] for row in db.rows("SELECT username FROM users")]
        emails = [row[0] for row in db.rows("SELECT email FROM users")]
        txids = [row[0] for row in db.rows("SELECT transaction_id FROM payments")]
        assert db.stored_totals() == db.actual_totals()
    assert len(set(names)) == 80
    assert len({email.lower() for email in emails}) == 80
    assert len(set(txids)) == 800


def test_bad_counts_fail_cleanly(tmp_path: Path) -> None:
    with _migrated_sqlite(tmp_path / "db.sqlite3") as url:
        cli = cli_for(tmp_path, url)
        results = [
            cli.run("generate-test-data", "--users", "0"),
            cli.run("generate-test-data", "--users", "-3"),
            cli.run("generate-test-data", "--collects", "-1"),
            cli.run("generate-test-data", "--payments", "-5"),
        ]
        for result in results:
            assert_one_line_failure(result)
        with database(url) as db:
            assert db.count("users") == db.count("collects") == db.count("payments") == 0


def test_on_a_database_without_schema_the_error_says_to_migrate(tmp_path: Path) -> None:
    cli = cli_for(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = cli.run("generate-test-data", "--users", "2", "--collects", "1", "--payments", "1")
    assert_one_line_failure(result, "db upgrade")


def test_production_refuses_unless_forced_with_a_password_of_its_own(tmp_path: Path) -> None:
    """Seeded users share one password: a known one must never reach a production database."""
    with _migrated_sqlite(tmp_path / "db.sqlite3") as url:
        cli = cli_for(tmp_path, url).with_env(
            FUNDRAISING_ENV="production",
            FUNDRAISING_SECRET_KEY="a-production-secret-of-at-least-32-bytes",
            FUNDRAISING_PUBLIC_URL="https://fundraising.example",
        )
        refused = [
            cli.run("generate-test-data", *SMALL),
            cli.run("generate-test-data", "--force", *SMALL),
            cli.run("generate-test-data", "--password", "chosen-for-this-run", *SMALL),
        ]
        for result in refused:
            assert_one_line_failure(result, "production", "--force", "--password")
        with database(url) as db:
            assert db.count("users") == 0

        assert_ok(
            cli.run("generate-test-data", "--force", "--password", "chosen-for-this-run", *SMALL)
        )
        with database(url) as db:
            names = [row.username for row in db.rows("SELECT username FROM users")]
    assert len(names) == 10
    settings = cli.settings()
    assert who_cannot_log_in(settings, names, "chosen-for-this-run") == []
    assert who_cannot_log_in(settings, names[:3], "testpassword") == names[:3]


# --- realism ------------------------------------------------------------------------------------


class Seeded:
    """One large run (fixed seed) and what it wrote."""

    def __init__(self, cli: Cli, result: Result, started: datetime, finished: datetime) -> None:
        self.cli = cli
        self.result = result
        self.started = started
        self.finished = finished
        with database(cli.database_url) as db, db.engine.connect() as connection:
            self.users = connection.execute(select(users)).mappings().all()
            self.collects = connection.execute(select(collects)).mappings().all()
            self.payments = connection.execute(select(payments)).mappings().all()
            self.stored, self.actual = db.stored_totals(), db.actual_totals()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    directory = tmp_path_factory.mktemp("realism")
    url = f"sqlite:///{directory / 'fundraising.sqlite3'}"
    migrate.upgrade(url)
    cli = Cli(directory / "cwd", url)
    started = datetime.now(UTC)
    result = assert_ok(
        cli.run(
            "generate-test-data",
            "--users",
            "50",
            "--collects",
            "200",
            "--payments",
            "20000",
            "--seed",
            "2024",
        )
    )
    return Seeded(cli, result, started, datetime.now(UTC))


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def test_counts_and_totals_of_a_large_run(seeded: Seeded) -> None:
    assert (len(seeded.users), len(seeded.collects), len(seeded.payments)) == (50, 200, 20000)
    assert seeded.stored == seeded.actual


def test_collects_are_realistic(seeded: Seeded) -> None:
    rows = seeded.collects
    total = len(rows)
    assert {row["occasion"] for row in rows} == {"birthday", "wedding", "new_year", "other"}
    assert 0.10 <= _share(sum(row["goal_kopecks"] is None for row in rows), total) <= 0.30
    assert all(row["goal_kopecks"].amount > 0 for row in rows if row["goal_kopecks"] is not None)

    ended = [row for row in rows if row["end_date"] is not None]
    assert _share(len(ended), total) >= 0.7, "end dates are mostly set"
    past = [row for row in ended if row["end_date"] < seeded.started]
    assert past, "some collects have already ended"
    assert len(past) <= 0.25 * len(ended), "most are still running"
    assert not any(row["is_active"] for row in past), "an ended collect was closed, not left open"
    assert all(row["is_active"] for row in rows if row not in past)
    assert all(row["end_date"] > row["start_date"] for row in ended)

    oldest = seeded.started - timedelta(days=180, seconds=1)
    assert all(oldest <= row["start_date"] <= seeded.finished for row in rows)
    assert len({row["start_date"].date() for row in rows}) > 50, "start dates are spread out"
    author_ids = {row["id"] for row in seeded.users}
    assert all(row["author_id"] in author_ids for row in rows)
    assert len({row["author_id"] for row in rows}) > 20, "many different authors"


def test_texts_are_russian_and_complete(seeded: Seeded) -> None:
    for row in seeded.collects:
        for text in (row["title"], row["description"]):
            assert CYRILLIC.search(text), text
            assert "{" not in text and "}" not in text, f"a placeholder is left: {text}"
        assert 0 < len(row["title"]) <= 255
    assert len({row["title"] for row in seeded.collects}) > 100, "titles vary"
    for row in seeded.users:
        assert CYRILLIC.search(row["first_name"]) and CYRILLIC.search(row["last_name"]), row
        assert re.fullmatch(r"[\w.@+-]{1,150}", row["username"]), row["username"]
        assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", row["email"]), row["email"]
        assert row["email"] == row["email"].lower()


def test_amounts_follow_the_bands(seeded: Seeded) -> None:
    amounts = [row["amount_kopecks"].amount for row in seeded.payments]
    assert all(Decimal(10) <= amount <= Decimal(10_000) for amount in amounts)
    bands = Counter(
        0 if amount <= 100 else 1 if amount <= 500 else 2 if amount <= 2_000 else 3
        for amount in amounts
    )
    shares = [_share(bands[band], len(amounts)) for band in range(4)]
    expected = [(0.40, 0.60), (0.22, 0.38), (0.10, 0.20), (0.02, 0.09)]
    for share, (low, high) in zip(shares, expected, strict=True):
        assert low <= share <= high, f"band shares {shares}"
    assert any(amount != amount.to_integral_value() for amount in amounts), "kopecks are used"


def test_payments_are_realistic(seeded: Seeded) -> None:
    rows = seeded.payments
    total = len(rows)
    statuses = Counter(row["status"] for row in rows)
    assert set(statuses) == {"completed", "pending", "failed"}
    assert _share(statuses["completed"], total) >= 0.8
    assert 0.05 <= _share(sum(row["comment"] is not None for row in rows), total) <= 0.4
    shown = Counter(row["visibility"] for row in rows)
    assert 0.02 <= _share(shown["anonymous"], total) <= 0.3
    assert 0.01 <= _share(shown["hide_amount"], total) <= 0.2

    txid = re.compile(rf"({'|'.join(PROCESSORS)})_[0-9a-f]+")
    used = Counter()
    for row in rows:
        match = txid.fullmatch(row["transaction_id"])
        assert match, row["transaction_id"]
        used[match.group(1)] += 1
        metadata = row["metadata"]
        assert isinstance(metadata, dict), metadata
        assert metadata.get("processor") == match.group(1), metadata
        assert metadata.get("currency") == "RUB", metadata
    assert len(used) >= 4, f"several processors: {used}"
    assert len({row["transaction_id"] for row in rows}) == total


def test_each_payment_is_dated_while_its_collect_ran(seeded: Seeded) -> None:
    by_id = {row["id"]: row for row in seeded.collects}
    slack = timedelta(milliseconds=1)
    outside = []
    for row in seeded.payments:
        collect = by_id[row["collect_id"]]
        last = min(seeded.finished, collect["end_date"] or seeded.finished)
        if not collect["start_date"] - slack <= row["payment_date"] <= last + slack:
            outside.append((row["id"], row["payment_date"], collect["start_date"], last))
    assert not outside, f"{len(outside)} payments outside their collect's run: {outside[:3]}"
    assert len({row["collect_id"] for row in seeded.payments}) > 180, "payments spread out"


def test_every_seeded_user_logs_in_with_the_default_password(seeded: Seeded) -> None:
    usernames = [row["username"] for row in seeded.users]
    assert who_cannot_log_in(seeded.cli.settings(), usernames, "testpassword") == []
    assert who_cannot_log_in(seeded.cli.settings(), usernames[:1], "wrongpassword") == usernames[:1]


def test_users_joined_before_they_acted(seeded: Seeded) -> None:
    first_act: dict[int, datetime] = {}
    for row in seeded.collects:
        first_act[row["author_id"]] = min(
            first_act.get(row["author_id"], row["created_at"]), row["created_at"]
        )
    for row in seeded.payments:
        first_act[row["payer_id"]] = min(
            first_act.get(row["payer_id"], row["payment_date"]), row["payment_date"]
        )
    late = [
        row["username"]
        for row in seeded.users
        if row["id"] in first_act and row["date_joined"] > first_act[row["id"]]
    ]
    assert not late, f"{len(late)} users acted before they joined"
