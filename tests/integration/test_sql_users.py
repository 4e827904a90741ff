"""The SQL user repository on SQLite and MariaDB: round trips, unique names and e-mails."""

from __future__ import annotations

import pytest

from fundraising.adapters.cache.limits import MemoryRateLimiter
from fundraising.adapters.security.identity import LibraryIdentityRules
from fundraising.application.errors import Conflict
from fundraising.application.ports.unit_of_work import DuplicateUser
from fundraising.application.throttles import Limit
from fundraising.application.use_cases.auth import RegisterUser, Registration
from tests.fakes import FakeHasher, FixedClock
from tests.integration.conftest import NOW, Rows, UowFactory
from tests.integration.sql_helpers import _is_utc_with_microseconds, _user_like


def test_a_user_round_trips_with_its_id(rows: Rows, uow_factory: UowFactory):
    added = rows.user("ivan", first_name="Иван", last_name="Петров", email="ivan@example.com")

    with uow_factory() as uow:
        by_id = uow.users.get(added.id)
        by_name = uow.users.by_login("ivan")

    assert added.id is not None and added.id > 0
    assert by_id is not None and by_name is not None
    assert by_id.id == by_name.id == added.id
    assert (by_id.username, by_id.email, by_id.first_name, by_id.last_name) == (
        "ivan",
        "ivan@example.com",
        "Иван",
        "Петров",
    )
    assert by_id.password_hash == "hashed:secret"
    assert by_id.is_active is True
    assert _is_utc_with_microseconds(by_id.date_joined, NOW)


def test_unknown_users_are_none(uow_factory: UowFactory):
    with uow_factory() as uow:
        assert uow.users.get(999_999) is None
        assert uow.users.by_login("nobody") is None


def test_a_taken_username_is_a_duplicate_username(rows: Rows, uow_factory: UowFactory):
    first = rows.user("taken", email="first@example.com")

    with uow_factory() as uow, pytest.raises(DuplicateUser) as raised:
        uow.users.add(_user_like(first, email="second@example.com"))

    assert raised.value.field == "username"


def test_a_taken_email_is_a_duplicate_email(rows: Rows, uow_factory: UowFactory):
    first = rows.user("first", email="same@example.com")

    with uow_factory() as uow, pytest.raises(DuplicateUser) as raised:
        uow.users.add(_user_like(first, username="second"))

    assert raised.value.field == "email"


def test_usernames_the_same_after_folding_are_one_account(rows: Rows, uow_factory: UowFactory):
    bob = rows.user("bob")

    with uow_factory() as uow:
        for other in ("Bob", "ＢＯＢ"):
            with pytest.raises(DuplicateUser) as raised:
                uow.users.add(_user_like(bob, username=other, email=f"{other}@example.org"))
            assert raised.value.field == "username"
        found = [uow.users.by_login(name) for name in ("bob", "BOB", "Bob")]
        taken = uow.users.taken("BOB", "new@example.org"), uow.users.taken("x", bob.email)
        free = uow.users.taken("bobby", "new@example.org")

    assert [user.id if user else None for user in found] == [bob.id] * 3
    assert taken == ("username", "email")
    assert free is None


def test_usernames_compare_byte_for_byte_without_padding(rows: Rows, uow_factory: UowFactory):
    """`utf8mb4_bin` is PAD SPACE: `victim   ` was `victim` on MariaDB."""
    victim = rows.user("victim")

    with uow_factory() as uow:
        padded = uow.users.by_login("victim   ")
        exact = uow.users.by_login("victim")
        uow.users.add(_user_like(victim, username="victim ", email="padded@example.org"))

    assert padded is None
    assert exact is not None and exact.id == victim.id


def test_emails_are_stored_lower_cased_and_unique_whatever_their_case(
    uow_factory: UowFactory, clock: FixedClock
):
    register = RegisterUser(
        uow_factory,
        FakeHasher(),
        LibraryIdentityRules(),
        MemoryRateLimiter(),
        Limit(20, 3600),
        clock,
    )

    registered = register(Registration("alice", "Alice@Example.COM", "correct horse battery"))
    with pytest.raises(Conflict, match="email"):
        register(Registration("alice2", "ALICE@example.com", "correct horse battery"))

    with uow_factory() as uow:
        stored = uow.users.get(registered.id)
    assert stored is not None and stored.email == "alice@example.com"


def test_existing_names_which_ids_are_users_in_one_query(rows: Rows, uow_factory: UowFactory):
    anna, boris = rows.user("anna"), rows.user("boris")

    with uow_factory() as uow:
        found = uow.users.existing([anna.id, boris.id, 999_999, anna.id])
        none = uow.users.existing([])

    assert found == frozenset({anna.id, boris.id})
    assert none == frozenset()
