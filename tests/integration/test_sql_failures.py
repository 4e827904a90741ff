"""Failure paths: connections killed mid-transaction, lost races, a database that is gone."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, make_url, select, text
from sqlalchemy.exc import IntegrityError

from fundraising.adapters.sql import migrate
from fundraising.adapters.sql import rows as rows_module
from fundraising.adapters.sql.engine import build_engine
from fundraising.adapters.sql.queries import SqlCollectQueries, SqlTotalsAudit
from fundraising.adapters.sql.tables import collects, users
from fundraising.adapters.sql.unit_of_work import SqlUnitOfWork
from fundraising.application.errors import TransientFailure, Unavailable
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import CollectFilter
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.use_cases.payments import Donate, Donation
from fundraising.domain.money import Money
from fundraising.domain.user import User
from tests.fakes import FakeCache, FakeTaskQueue, FixedClock
from tests.integration.conftest import NOW, Rows, UowFactory, completed_payment
from tests.services import fresh_mysql_database


@pytest.fixture(params=[pytest.param("mysql", marks=pytest.mark.mysql)])
def database_url() -> Iterator[str]:
    """The tests below that use `engine` kill MariaDB connections: a fresh MariaDB database only.

    SQLite's failure paths are tested further down with an engine of their own.
    """
    with fresh_mysql_database() as url:
        migrate.upgrade(url)
        yield url


class Killer:
    """Kills the server-side connections of one database from an admin connection of its own."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.database = url.database
        self._admin = create_engine(url.set(database=""), isolation_level="AUTOCOMMIT")

    def connection_ids(self) -> set[int]:
        query = text("SELECT id FROM information_schema.processlist WHERE db = :db")
        with self._admin.connect() as connection:
            return {int(row.id) for row in connection.execute(query, {"db": self.database})}

    def kill_all(self) -> set[int]:
        ids = self.connection_ids()
        with self._admin.connect() as connection:
            for connection_id in ids:
                connection.execute(text(f"KILL {connection_id}"))
        deadline = time.monotonic() + 5
        while self.connection_ids() & ids:  # the server closes them asynchronously
            assert time.monotonic() < deadline, "killed connections did not go away"
            time.sleep(0.01)
        return ids

    def close(self) -> None:
        self._admin.dispose()


@pytest.fixture
def killer(database_url: str) -> Iterator[Killer]:
    killer = Killer(database_url)
    yield killer
    killer.close()


# --- MariaDB: the server goes away -------------------------------------------------------------


def test_a_donation_whose_connection_is_killed_mid_transaction_is_unavailable_and_writes_nothing(
    rows: Rows,
    engine: Engine,
    donate: Donate,
    killer: Killer,
    cache: FakeCache,
):
    collect = rows.collect(rows.user())
    payer = rows.user()
    killed: set[int] = set()
    cache.changed.clear()  # (arranging wrote the collect too)

    def kill_before_the_payment_insert(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # By now the collect's counters were incremented in this transaction: the partial write.
        if statement.startswith("INSERT INTO payments") and not killed:
            killed.update(killer.kill_all())

    event.listen(engine, "before_cursor_execute", kill_before_the_payment_insert)
    try:
        with pytest.raises(Unavailable):
            donate(Donation(payer.id, collect.id, Money.of("10.00"), "lost-answer"))
    finally:
        event.remove(engine, "before_cursor_execute", kill_before_the_payment_insert)

    assert killed
    assert rows.counters(collect) == (Money.zero(), 0, 0)
    assert rows.payment_count() == 0
    assert cache.changed == []

    result = donate(Donation(payer.id, collect.id, Money.of("10.00"), "lost-answer"))

    assert result.replayed is False
    assert rows.counters(collect) == (Money.of("10.00"), 1, 1)
    assert cache.changed == [collect.id]
    assert rows.payment_count() == 1


def test_a_unit_of_work_killed_between_statements_is_unavailable_and_writes_nothing(
    rows: Rows, uow_factory: UowFactory, killer: Killer
):
    existing = rows.user()

    def write_across_the_kill() -> None:
        with uow_factory() as uow:
            uow.users.add(_user("first"))
            uow.users.add(_user("second"))
            killer.kill_all()
            uow.users.add(_user("third"))

    with pytest.raises(Unavailable):
        write_across_the_kill()

    with uow_factory() as uow:
        assert uow.users.by_login("first") is None
        assert uow.users.by_login("second") is None
        assert uow.users.get(existing.id) is not None


def test_a_commit_on_a_killed_connection_is_unavailable_and_runs_no_effect(
    rows: Rows,
    engine: Engine,
    uow_factory: UowFactory,
    killer: Killer,
    task_queue: FakeTaskQueue,
):
    collect = rows.collect(rows.user())
    payer = rows.user()
    effects: list[str] = []

    def kill_before_commit(_conn: Any) -> None:
        killer.kill_all()

    def donate_and_commit() -> None:
        with uow_factory() as uow:
            payment = completed_payment(collect.id, payer.id, "5.00", "never")
            uow.payments.add_donation(payment, now=NOW)
            uow.enqueue(SendEmail(EmailKind.DONATION_THANKS, 1), now=NOW)
            uow.after_commit(lambda: effects.append("ran"))
            uow.commit()

    event.listen(engine, "commit", kill_before_commit)
    try:
        with pytest.raises(Unavailable):
            donate_and_commit()
    finally:
        event.remove(engine, "commit", kill_before_commit)

    assert effects == []
    assert task_queue.published == []
    assert rows.counters(collect) == (Money.zero(), 0, 0)
    assert rows.payment_count() == 0


def test_the_pool_replaces_connections_killed_while_idle(
    rows: Rows, engine: Engine, killer: Killer, collect_queries: SqlCollectQueries
):
    author = rows.user()
    held = [engine.connect() for _ in range(3)]  # three connections wait in the pool
    for connection in held:
        connection.close()

    dead = killer.kill_all()

    # No statement failed, so nothing invalidated the pool: only the pre-ping can notice.
    collect = rows.collect(author, title="After the restart")
    page = collect_queries.list(CollectFilter(), PageRequest.of())
    assert len(dead) >= 3
    assert [item.id for item in page.items] == [collect.id]
    alive = killer.connection_ids()
    assert alive and not alive & dead


def test_a_lock_wait_timeout_is_a_transient_failure_that_the_use_case_retries(
    database_url: str, rows: Rows, clock: FixedClock
):
    collect = rows.collect(rows.user())
    payer = rows.user()
    impatient = build_engine(database_url)

    @event.listens_for(impatient, "connect")
    def wait_one_second_for_locks(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")

    failures: list[int] = []
    other_engine = create_engine(database_url)
    holder = other_engine.connect()
    holder.begin()
    holder.execute(select(collects.c.id).where(collects.c.id == collect.id).with_for_update())

    @event.listens_for(impatient, "handle_error")
    def release_the_lock_after_the_first_timeout(context: Any) -> None:
        failures.append(context.original_exception.args[0])
        holder.rollback()

    donate = Donate(lambda: SqlUnitOfWork(impatient, FakeTaskQueue(), FakeCache()), clock)
    try:
        result = donate(Donation(payer.id, collect.id, Money.of("3.00"), "waited"))
    finally:
        holder.close()
        other_engine.dispose()
        impatient.dispose()

    assert failures == [1205]  # ER_LOCK_WAIT_TIMEOUT, once; the second attempt went through
    assert result.replayed is False
    assert rows.counters(collect) == (Money.of("3.00"), 1, 1)
    assert rows.payment_count() == 1


def test_a_deadlock_is_a_transient_failure_and_the_survivor_commits(
    rows: Rows, uow_factory: UowFactory
):
    author = rows.user()
    first, second = rows.collect(author), rows.collect(author)
    anna, boris = rows.user(), rows.user()
    both_hold_one = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def donate_to_both(name: str, payer: User, order: list[Any]) -> None:
        try:
            with uow_factory() as uow:
                uow.payments.add_donation(
                    completed_payment(order[0].id, payer.id, "1.00", f"{name}-1"), now=NOW
                )
                both_hold_one.wait(timeout=5)
                uow.payments.add_donation(
                    completed_payment(order[1].id, payer.id, "2.00", f"{name}-2"), now=NOW
                )
                uow.commit()
            outcomes[name] = "committed"
        except TransientFailure:
            outcomes[name] = "transient"

    threads = [
        threading.Thread(target=donate_to_both, args=("anna", anna, [first, second])),
        threading.Thread(target=donate_to_both, args=("boris", boris, [second, first])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["committed", "transient"]
    survivor, (to_first, to_second) = (
        (anna, ("1.00", "2.00")) if outcomes["anna"] == "committed" else (boris, ("2.00", "1.00"))
    )
    assert rows.counters(first) == (Money.of(to_first), 1, 1)
    assert rows.counters(second) == (Money.of(to_second), 1, 1)
    assert rows.payment_count() == 2
    assert rows.payment_count(payer_id=survivor.id) == 2


# --- a database that does not answer at all ----------------------------------------------------


@pytest.fixture
def unreachable_url() -> str:
    """A MySQL URL on a local port where nothing listens (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"mysql+pymysql://root@127.0.0.1:{port}/fundraising"


def test_a_database_that_does_not_answer_is_unavailable(unreachable_url: str):
    dead = build_engine(unreachable_url)
    try:
        with pytest.raises(Unavailable):
            SqlUnitOfWork(dead, FakeTaskQueue(), FakeCache()).__enter__()
        with pytest.raises(Unavailable):
            SqlCollectQueries(dead).list(CollectFilter(), PageRequest.of())
        with pytest.raises(Unavailable):
            SqlCollectQueries(dead).detail(1)
        with pytest.raises(Unavailable):
            SqlTotalsAudit(dead).drifts()
    finally:
        dead.dispose()


# --- SQLite: one writer at a time, and the others wait -----------------------------------------


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    migrate.upgrade(url)
    engine = build_engine(url)
    yield engine
    engine.dispose()


def _user(username: str) -> User:
    return User(None, username, f"{username}@example.com", "hash", "", "", True, NOW)


def test_a_sqlite_writer_waits_for_the_other_writer_instead_of_failing(sqlite_engine: Engine):
    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sqlite_engine, FakeTaskQueue(), FakeCache())

    outcome: list[object] = []

    def second_writer() -> None:
        try:
            with uow() as second:
                second.users.add(_user("second"))
                second.commit()
            outcome.append("committed")
        except Exception as error:
            outcome.append(error)

    with uow() as first:
        first.users.add(_user("first"))  # holds the write lock until it commits
        waiting = threading.Thread(target=second_writer)
        waiting.start()
        waiting.join(timeout=0.3)
        assert waiting.is_alive() and outcome == []  # blocked on the lock, not failed
        first.commit()
    waiting.join(timeout=10)

    assert outcome == ["committed"]
    with uow() as check:
        assert check.users.by_login("first") is not None
        assert check.users.by_login("second") is not None


def test_a_sqlite_reader_is_not_blocked_by_a_writer_and_sees_only_commits(sqlite_engine: Engine):
    queries = SqlCollectQueries(sqlite_engine)
    seen: list[int] = []

    with SqlUnitOfWork(sqlite_engine, FakeTaskQueue(), FakeCache()) as writer:
        writer.users.add(_user("writer"))
        reader = threading.Thread(
            target=lambda: seen.append(queries.list(CollectFilter(), PageRequest.of()).count)
        )
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive()
        writer.commit()

    assert seen == [0]


def test_a_failed_statement_shows_none_of_its_parameters(uow_factory: UowFactory) -> None:
    """Errors are logged with their exception: SQLAlchemy's message would carry the bound
    values (password hashes, e-mails) unless the engine hides them."""
    user = User(None, "someone", "private@example.com", "argon2-secret-hash", "", "", True, NOW)
    broken = rows_module.user_values(user) | {"first_name": None}  # NOT NULL

    with uow_factory() as uow, pytest.raises(IntegrityError) as raised:
        uow.users._db.execute(users.insert(), broken)

    shown = str(raised.value)
    assert "argon2-secret-hash" not in shown
    assert "private@example.com" not in shown
    assert "hidden due to hide_parameters" in shown
