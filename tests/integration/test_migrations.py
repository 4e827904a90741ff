"""Alembic: the migrations build, remove and describe exactly the schema of `tables.py`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from fundraising.adapters.sql import migrate
from fundraising.adapters.sql.engine import build_engine
from fundraising.adapters.sql.tables import metadata
from fundraising.adapters.sql.types import UTCDateTime
from fundraising.adapters.sql.unit_of_work import SqlUnitOfWork
from fundraising.domain.user import User
from tests.fakes import FakeCache, FakeTaskQueue
from tests.integration.conftest import NOW
from tests.services import fresh_mysql_database

TABLES = {
    "users",
    "collects",
    "payments",
    "outbox",
    "refresh_tokens",
    "collect_members",
    "collect_updates",
    "webhooks",
    "webhook_deliveries",
    "leases",
}
VERSION_TABLE = "alembic_version"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no table at all: a new SQLite file, or a new MariaDB database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        with fresh_mysql_database() as url:
            yield url


def _tables(url: str) -> set[str]:
    engine = build_engine(url, pool_size=1)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _current(url: str) -> str | None:
    engine = build_engine(url, pool_size=1)
    try:
        return migrate.current(engine)
    finally:
        engine.dispose()


def _works(url: str) -> bool:
    """The schema takes a row: a user goes in and comes back."""
    engine = build_engine(url, pool_size=1)
    user = User(None, "probe", "probe@example.com", "hash", "", "", True, NOW)
    try:
        with SqlUnitOfWork(engine, FakeTaskQueue(), FakeCache()) as uow:
            uow.users.add(user)
            uow.commit()
        with SqlUnitOfWork(engine, FakeTaskQueue(), FakeCache()) as uow:
            return uow.users.by_login("probe") is not None
    finally:
        engine.dispose()


def test_upgrade_builds_the_schema_on_an_empty_database(empty_url: str):
    assert _tables(empty_url) == set()
    assert _current(empty_url) is None
    assert migrate.is_current(empty_url) is False

    migrate.upgrade(empty_url)

    assert _tables(empty_url) == TABLES | {VERSION_TABLE}
    assert _current(empty_url) == migrate.head()
    assert migrate.is_current(empty_url) is True
    assert _works(empty_url)


def test_upgrading_a_current_database_changes_nothing(empty_url: str):
    migrate.upgrade(empty_url)
    assert _works(empty_url)

    migrate.upgrade(empty_url)

    assert _current(empty_url) == migrate.head()
    assert _tables(empty_url) == TABLES | {VERSION_TABLE}
    engine = build_engine(empty_url, pool_size=1)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 1
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table_and_upgrade_rebuilds_them(empty_url: str):
    migrate.upgrade(empty_url)

    migrate.downgrade(empty_url, "base")

    assert _tables(empty_url) - {VERSION_TABLE} == set()
    assert _current(empty_url) is None
    assert migrate.is_current(empty_url) is False

    migrate.upgrade(empty_url)

    assert _tables(empty_url) == TABLES | {VERSION_TABLE}
    assert _works(empty_url)


@pytest.fixture
def migrated(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url, pool_size=1)
    yield engine
    engine.dispose()


def _diff(engine: Engine, **opts: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection, opts=opts), metadata))


def test_the_migrated_schema_matches_the_metadata(migrated: Engine):
    assert _diff(migrated) == []


def test_the_migrated_schema_matches_the_metadata_type_for_type(migrated: Engine):
    """Also with the stricter type comparison that `alembic revision --autogenerate` uses."""
    assert _diff(migrated, compare_type=migrate.compare_type) == []


def test_the_migrated_schema_is_at_head(migrated: Engine):
    assert migrate.current(migrated) == migrate.head()


@pytest.fixture
def mysql_engine() -> Iterator[Engine]:
    """A fresh MariaDB database at head, for checks of MySQL column definitions."""
    with fresh_mysql_database() as url:
        migrate.upgrade(url)
        engine = build_engine(url, pool_size=1)
        yield engine
        engine.dispose()


@pytest.mark.mysql
def test_the_type_check_notices_lost_microseconds_and_collations(mysql_engine: Engine):
    with mysql_engine.begin() as connection:
        for change in (
            "ALTER TABLE outbox MODIFY created_at DATETIME NOT NULL",
            "ALTER TABLE payments MODIFY transaction_id VARCHAR(255) "
            "COLLATE utf8mb4_unicode_ci NOT NULL",
            "ALTER TABLE users MODIFY username VARCHAR(150) COLLATE utf8mb4_general_ci NOT NULL",
        ):
            connection.execute(text(change))

    found = _diff(mysql_engine, compare_type=migrate.compare_type)

    changed = {(op[2], op[3]) for (op,) in found if op[0] == "modify_type"}
    assert changed == {
        ("outbox", "created_at"),
        ("payments", "transaction_id"),
        ("users", "username"),
    }


@pytest.mark.mysql
def test_mysql_columns_keep_microseconds_and_compare_ids_byte_for_byte(mysql_engine: Engine):
    schema = mysql_engine.url.database
    with mysql_engine.connect() as connection:
        precisions = connection.execute(
            text(
                "SELECT table_name, column_name, datetime_precision "
                "FROM information_schema.columns "
                "WHERE table_schema = :schema AND data_type = 'datetime'"
            ),
            {"schema": schema},
        ).all()
        collations = dict(
            connection.execute(
                text(
                    "SELECT concat(table_name, '.', column_name), collation_name "
                    "FROM information_schema.columns WHERE table_schema = :schema "
                    "AND column_name IN "
                    "('username', 'username_key', 'email', 'transaction_id', 'title')"
                ),
                {"schema": schema},
            ).all()
        )
        engines = connection.execute(
            text("SELECT DISTINCT engine FROM information_schema.tables WHERE table_schema = :s"),
            {"s": schema},
        ).all()

    assert {(table, column) for table, column, _ in precisions} == {
        (table.name, column.name)
        for table in metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, UTCDateTime)
    }
    assert {precision for _, _, precision in precisions} == {6}
    assert collations == {
        "users.username": "utf8mb4_nopad_bin",
        "users.username_key": "utf8mb4_nopad_bin",
        "users.email": "utf8mb4_unicode_ci",
        "payments.transaction_id": "utf8mb4_nopad_bin",
        "collects.title": "utf8mb4_unicode_ci",
    }
    assert engines == [("InnoDB",)]


def test_the_schema_has_the_keys_the_donation_path_and_the_feeds_rely_on(migrated: Engine):
    inspector = inspect(migrated)
    payment_indexes = [tuple(index["column_names"]) for index in inspector.get_indexes("payments")]
    unique_payments = [
        tuple(unique["column_names"]) for unique in inspector.get_unique_constraints("payments")
    ]
    unique_users = {
        tuple(unique["column_names"]) for unique in inspector.get_unique_constraints("users")
    }
    payer_key = next(
        key
        for key in inspector.get_foreign_keys("payments")
        if key["constrained_columns"] == ["payer_id"]
    )

    assert any(columns[:2] == ("collect_id", "status") for columns in payment_indexes)
    assert any(columns[0] == "payer_id" for columns in payment_indexes)
    assert ("transaction_id",) in unique_payments
    assert {("username",), ("username_key",), ("email",)} <= unique_users
    assert payer_key["options"].get("ondelete", "").upper() == "SET NULL"


# --- data: what each revision does to the rows already there ------------------------------------


def _insert_users(url: str, names: list[str]) -> None:
    engine = build_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            for number, name in enumerate(names):
                connection.execute(
                    text(
                        "INSERT INTO users (username, email, password_hash, first_name, "
                        "last_name, is_active, date_joined) "
                        "VALUES (:name, :email, 'hash', '', '', 1, '2026-01-01 00:00:00')"
                    ),
                    {"name": name, "email": f"user{number}@example.com"},
                )
    finally:
        engine.dispose()


def _select(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = build_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


def test_0002_keys_existing_usernames_and_keeps_every_account(empty_url: str):
    """Accounts registered before folding may collide: the oldest keeps the key, the others
    get one no new username can take, and every one of them stays."""
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["alice", "Alice", "ａｌｉｃｅ", "Bob"])

    migrate.upgrade(empty_url, "0002")

    keyed = _select(empty_url, "SELECT id, username, username_key FROM users ORDER BY id")
    assert keyed == [
        (1, "alice", "alice"),
        (2, "Alice", "alice#2"),
        (3, "ａｌｉｃｅ", "alice#3"),
        (4, "Bob", "bob"),
    ]

    migrate.downgrade(empty_url, "0001")

    kept = _select(empty_url, "SELECT id, username FROM users ORDER BY id")
    assert kept == [(1, "alice"), (2, "Alice"), (3, "ａｌｉｃｅ"), (4, "Bob")]


def test_0004_makes_existing_accounts_verified_and_new_ones_say_so_themselves(empty_url: str):
    """Addresses in use before verification existed received mail already: they count as
    verified. The default was for them only: a new row must state its own."""
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["anna", "boris"])
    migrate.upgrade(empty_url, "0003")

    migrate.upgrade(empty_url, "0004")

    migrated = "SELECT username, email_verified, tokens_valid_after, deleted_at FROM users"
    assert sorted(_select(empty_url, migrated)) == [
        ("anna", 1, None, None),
        ("boris", 1, None, None),
    ]
    engine = build_engine(empty_url, pool_size=1)
    try:
        email_verified = {c["name"]: c for c in inspect(engine).get_columns("users")}[
            "email_verified"
        ]
        assert email_verified["default"] is None
    finally:
        engine.dispose()

    migrate.downgrade(empty_url, "0003")
    assert sorted(_select(empty_url, "SELECT username FROM users")) == [("anna",), ("boris",)]
    assert "refresh_tokens" not in _tables(empty_url)


def _insert_donations(url: str, anonymous: list[bool]) -> None:
    """A collect of user 1 and one donation of user 2 per flag, at the 0004 schema."""
    engine = build_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO collects (author_id, title, occasion, description, "
                    "collected_kopecks, donations_count, donors_count, start_date, is_active, "
                    "cover_status, created_at, updated_at) VALUES (1, 'Подарок', 'birthday', "
                    "'', 0, 0, 0, '2026-01-01', 1, 'none', '2026-01-01', '2026-01-01')"
                )
            )
            for n, flag in enumerate(anonymous):
                connection.execute(
                    text(
                        "INSERT INTO payments (collect_id, payer_id, amount_kopecks, status, "
                        "transaction_id, payment_date, is_anonymous) VALUES "
                        "(1, 2, 100, 'completed', :tx, '2026-01-02', :flag)"
                    ),
                    {"tx": f"tx-{n}", "flag": flag},
                )
    finally:
        engine.dispose()


def test_0005_turns_is_anonymous_into_a_visibility_and_back(empty_url: str):
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["author", "donor"])
    migrate.upgrade(empty_url, "0004")
    _insert_donations(empty_url, [True, False, True])

    migrate.upgrade(empty_url, "0005")

    shown = "SELECT transaction_id, visibility FROM payments ORDER BY transaction_id"
    assert _select(empty_url, shown) == [
        ("tx-0", "anonymous"),
        ("tx-1", "public"),
        ("tx-2", "anonymous"),
    ]
    engine = build_engine(empty_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE payments SET visibility = 'hide_amount' WHERE id = 2"))
            with (
                pytest.raises(DBAPIError, match=r"(?i)constraint|check"),
                connection.begin_nested(),
            ):
                connection.execute(text("UPDATE payments SET visibility = 'secret'"))
    finally:
        engine.dispose()

    migrate.downgrade(empty_url, "0004")

    flags = "SELECT transaction_id, is_anonymous FROM payments ORDER BY transaction_id"
    assert _select(empty_url, flags) == [("tx-0", 1), ("tx-1", 0), ("tx-2", 1)]


def test_0006_makes_authors_and_donors_members_and_gives_each_collect_a_key(empty_url: str):
    """Existing collects stay public; their authors and everyone who completed a donation to
    them become members (a donor's first donation is when they joined)."""
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["author", "donor"])
    migrate.upgrade(empty_url, "0005")
    engine = build_engine(empty_url, pool_size=1)
    try:
        with engine.begin() as connection:
            for title in ("Первый", "Второй"):
                connection.execute(
                    text(
                        "INSERT INTO collects (author_id, title, occasion, description, "
                        "collected_kopecks, donations_count, donors_count, start_date, "
                        "is_active, cover_status, created_at, updated_at) VALUES (1, :title, "
                        "'other', '', 0, 0, 0, '2026-01-01', 1, 'none', '2026-01-01', "
                        "'2026-01-01')"
                    ),
                    {"title": title},
                )
            for n, (collect, payer, status, day) in enumerate(
                [
                    (1, 2, "completed", 3),
                    (1, 2, "completed", 2),
                    (2, 2, "failed", 2),
                    (1, 1, "completed", 4),
                ]
            ):
                connection.execute(
                    text(
                        "INSERT INTO payments (collect_id, payer_id, amount_kopecks, status, "
                        "transaction_id, payment_date, visibility) VALUES (:collect, :payer, "
                        "100, :status, :tx, :day, 'public')"
                    ),
                    {
                        "collect": collect,
                        "payer": payer,
                        "status": status,
                        "tx": f"tx-{n}",
                        "day": f"2026-01-0{day}",
                    },
                )
    finally:
        engine.dispose()

    migrate.upgrade(empty_url, "0006")

    members = _select(
        empty_url,
        "SELECT collect_id, user_id, role, joined_at FROM collect_members "
        "ORDER BY collect_id, user_id",
    )
    assert [(c, u, role) for c, u, role, _ in members] == [
        (1, 1, "author"),
        (1, 2, "participant"),
        (2, 1, "author"),
    ]
    assert str(members[1][3]).startswith("2026-01-02")  # the first completed donation
    keys = _select(empty_url, "SELECT visibility, hidden_from, share_key FROM collects")
    assert [(v, h) for v, h, _ in keys] == [("public", "[]"), ("public", "[]")]
    assert len({k for _, _, k in keys}) == 2 and all(len(k) >= 32 for _, _, k in keys)

    migrate.downgrade(empty_url, "0005")

    assert "collect_members" not in _tables(empty_url)
    assert _select(empty_url, "SELECT COUNT(*) FROM collects") == [(2,)]


def test_0007_lets_a_payment_be_refunded_and_keeps_it_uncounted_on_the_way_down(empty_url: str):
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["author", "donor"])
    migrate.upgrade(empty_url, "0004")
    _insert_donations(empty_url, [False, False])
    migrate.upgrade(empty_url, "0007")

    statuses = "SELECT transaction_id, status, refunded_at FROM payments ORDER BY transaction_id"
    assert _select(empty_url, statuses) == [
        ("tx-0", "completed", None),
        ("tx-1", "completed", None),
    ]
    engine = build_engine(empty_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE payments SET status = 'refunded', refunded_at = '2026-12-03', "
                    "refund_reason = 'ошибка' WHERE transaction_id = 'tx-1'"
                )
            )
            with (
                pytest.raises(DBAPIError, match=r"(?i)constraint|check"),
                connection.begin_nested(),
            ):
                connection.execute(text("UPDATE payments SET status = 'reversed'"))
    finally:
        engine.dispose()

    migrate.downgrade(empty_url, "0006")

    kept = "SELECT transaction_id, status FROM payments ORDER BY transaction_id"
    assert _select(empty_url, kept) == [("tx-0", "completed"), ("tx-1", "failed")]


def test_0010_marks_what_already_happened_as_told(empty_url: str):
    """After the upgrade the first sweep mails nobody about the past: reached goals, ended or
    closed collects and those ending within a day are marked as announced; the others not."""
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["author"])
    engine = build_engine(empty_url, pool_size=1)
    future, past = "2999-01-01", "2000-01-01"
    try:
        with engine.begin() as connection:
            for title, goal, collected, active, end in [
                ("open", 10_000, 0, 1, future),
                ("reached", 10_000, 10_000, 1, future),
                ("ended", None, 0, 1, past),
                ("closed", None, 0, 0, None),
            ]:
                connection.execute(
                    text(
                        "INSERT INTO collects (author_id, title, occasion, description, "
                        "goal_kopecks, collected_kopecks, donations_count, donors_count, "
                        "start_date, end_date, is_active, cover_status, created_at, updated_at) "
                        "VALUES (1, :title, 'other', '', :goal, :collected, 0, 0, '2000-01-01', "
                        ":end, :active, 'none', '2000-01-01', '2000-01-01')"
                    ),
                    {"title": title, "goal": goal, "collected": collected, "active": active,
                     "end": end},
                )  # fmt: skip
    finally:
        engine.dispose()

    migrate.upgrade(empty_url, "0010")

    marked = (
        "SELECT title, goal_reached_mailed_at IS NOT NULL, ending_soon_mailed_at IS NOT NULL, "
        "ended_mailed_at IS NOT NULL FROM collects ORDER BY id"
    )
    assert _select(empty_url, marked) == [
        ("open", 0, 0, 0),
        ("reached", 1, 0, 0),
        ("ended", 0, 1, 1),
        ("closed", 0, 0, 1),
    ]
    migrate.downgrade(empty_url, "0009")
    assert _select(empty_url, "SELECT COUNT(*) FROM collects") == [(4,)]


WEBHOOK_TABLES = {"webhooks", "webhook_deliveries"}


def _insert_webhook_and_delivery(url: str) -> None:
    """A webhook of user 1 on collect 1 and one delivery of it, at the 0011 schema."""
    engine = build_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO webhooks (user_id, collect_id, url, events, secret, created_at) "
                    "VALUES (1, 1, 'https://hooks.example.com/', "
                    "'collect.closed,payment.created', 'whsec_c2VjcmV0', "
                    "'2026-12-03 20:30:00.123456')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, body, "
                    "status, attempts, created_at) VALUES (1, 'evt_1', 'payment.created', "
                    ":body, 'pending', 0, '2026-12-03 20:30:01.654321')"
                ),
                {"body": '{"data":{"title":"Подарок"}}'},
            )
            with (
                pytest.raises(DBAPIError, match=r"(?i)constraint|check"),
                connection.begin_nested(),
            ):
                connection.execute(text("UPDATE webhook_deliveries SET status = 'lost'"))
    finally:
        engine.dispose()


def test_0011_adds_the_webhook_tables_and_removes_them_keeping_every_other_row(empty_url: str):
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["author", "donor"])
    migrate.upgrade(empty_url, "0004")
    _insert_donations(empty_url, [False, True])
    migrate.upgrade(empty_url, "0010")
    counts = "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM collects), " + (
        "(SELECT COUNT(*) FROM payments), (SELECT COUNT(*) FROM collect_members)"
    )
    before = _select(empty_url, counts)
    assert _tables(empty_url) & WEBHOOK_TABLES == set()

    migrate.upgrade(empty_url, "0011")
    _insert_webhook_and_delivery(empty_url)

    assert _tables(empty_url) >= WEBHOOK_TABLES
    stored = _select(empty_url, "SELECT user_id, collect_id, events, secret FROM webhooks")
    assert stored == [(1, 1, "collect.closed,payment.created", "whsec_c2VjcmV0")]
    delivery = "SELECT webhook_id, event_id, body, status, attempts FROM webhook_deliveries"
    assert _select(empty_url, delivery) == [
        (1, "evt_1", '{"data":{"title":"Подарок"}}', "pending", 0)
    ]
    assert _select(empty_url, counts) == before

    migrate.downgrade(empty_url, "0010")

    assert _tables(empty_url) & WEBHOOK_TABLES == set()
    assert _current(empty_url) == "0010"
    assert _select(empty_url, counts) == before
    assert before == [(2, 1, 2, 2)]

    migrate.upgrade(empty_url, "0011")

    assert _tables(empty_url) >= WEBHOOK_TABLES
    assert _select(empty_url, "SELECT COUNT(*) FROM webhooks") == [(0,)]
    _insert_webhook_and_delivery(empty_url)
    assert _select(empty_url, "SELECT COUNT(*) FROM webhook_deliveries") == [(1,)]


def test_0012_adds_the_leases_and_removes_them(empty_url: str):
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["operator"])
    migrate.upgrade(empty_url, "0012")
    assert "leases" in _tables(empty_url)
    engine = build_engine(empty_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO leases (name, holder, expires_at) "
                    "VALUES ('outbox-relay', 'a', '2026-12-03 21:00:00.123456')"
                )
            )
    finally:
        engine.dispose()
    assert _select(empty_url, "SELECT name, holder FROM leases") == [("outbox-relay", "a")]

    migrate.downgrade(empty_url, "0011")

    assert "leases" not in _tables(empty_url)
    assert _select(empty_url, "SELECT COUNT(*) FROM users") == [(1,)]
    migrate.upgrade(empty_url, "0012")
    assert _select(empty_url, "SELECT COUNT(*) FROM leases") == [(0,)]


def test_every_revision_keeps_the_rows_on_the_way_up_and_down(empty_url: str):
    """A database filled at the first revision, upgraded to head and back: nothing is lost."""
    migrate.upgrade(empty_url, "0001")
    _insert_users(empty_url, ["author", "donor"])
    engine = build_engine(empty_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO collects (author_id, title, occasion, description, "
                    "collected_kopecks, donations_count, donors_count, start_date, is_active, "
                    "cover_status, created_at, updated_at) VALUES (1, 'Подарок', 'birthday', "
                    "'', 15000, 1, 1, '2026-01-01', 1, 'none', '2026-01-01', '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO payments (collect_id, payer_id, amount_kopecks, status, "
                    "transaction_id, payment_date, is_anonymous) "
                    "VALUES (1, 2, 15000, 'completed', 'sber_1', '2026-01-02', 0)"
                )
            )
    finally:
        engine.dispose()
    counts = "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM collects), " + (
        "(SELECT COUNT(*) FROM payments), (SELECT SUM(amount_kopecks) FROM payments)"
    )

    migrate.upgrade(empty_url)
    at_head = _select(empty_url, counts)
    migrate.downgrade(empty_url, "0001")
    back = _select(empty_url, counts)

    assert at_head == back == [(2, 1, 1, 15000)]
    assert _select(empty_url, "SELECT title, collected_kopecks FROM collects") == [
        ("Подарок", 15000)
    ]
