"""Accounts in SQL on SQLite and MariaDB: saved changes, erasure, refresh tokens, revocations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundraising.adapters.sql.queries import SqlCollectQueries
from fundraising.application.errors import Unavailable
from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import CollectFilter
from fundraising.application.ports.security import RefreshToken
from fundraising.application.ports.unit_of_work import DuplicateUser
from fundraising.domain.money import Money
from fundraising.domain.user import ANONYMOUS, DELETED_USER
from tests.fakes import FakeCache
from tests.integration.conftest import NOW, Rows, UowFactory


def _token(jti: str, user_id: int, family: str = "f1", hours: int = 1) -> RefreshToken:
    return RefreshToken(
        jti=jti,
        user_id=user_id,
        family=family,
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=hours),
    )


# --- users: changes, e-mails, erasure ----------------------------------------------------------


def test_a_saved_user_reads_back_with_every_account_field(rows: Rows, uow_factory: UowFactory):
    ivan = rows.user("ivan", email="ivan@example.com")

    with uow_factory() as uow:
        user = uow.users.get(ivan.id, for_update=True)
        assert user is not None and user.email_verified is False
        user.change_email("new@example.com")
        user.verify_email()
        user.change_password("hashed:other", NOW)
        uow.users.save(user)
        uow.commit()

    with uow_factory() as uow:
        by_email = uow.users.by_email("new@example.com")
        old = uow.users.by_email("ivan@example.com")

    assert old is None
    assert by_email is not None and by_email.id == ivan.id
    assert (by_email.email_verified, by_email.password_hash) == (True, "hashed:other")
    assert by_email.tokens_valid_after == NOW and by_email.tokens_valid_after.tzinfo is not None
    assert by_email.revoked_now is False  # an event, never stored


def test_saving_a_taken_email_is_a_duplicate_email(rows: Rows, uow_factory: UowFactory):
    rows.user("first", email="taken@example.com")
    second = rows.user("second", email="second@example.com")

    with uow_factory() as uow:
        user = uow.users.get(second.id)
        assert user is not None
        user.change_email("taken@example.com")
        with pytest.raises(DuplicateUser) as raised:
            uow.users.save(user)

    assert raised.value.field == "email"
    with uow_factory() as uow:
        unchanged = uow.users.get(second.id)
    assert unchanged is not None and unchanged.email == "second@example.com"


def test_an_erased_user_frees_its_name_and_address(rows: Rows, uow_factory: UowFactory):
    leaving = rows.user("leaving", first_name="Анна", email="anna@example.com")

    with uow_factory() as uow:
        user = uow.users.get(leaving.id)
        assert user is not None
        user.erase(NOW)
        uow.users.save(user)
        uow.commit()
    again = rows.user("leaving", email="anna@example.com")

    with uow_factory() as uow:
        erased = uow.users.get(leaving.id)
        by_name = uow.users.by_login("leaving")
    assert erased is not None and erased.deleted_at == NOW
    assert (erased.first_name, erased.is_active, erased.display_name) == ("", False, DELETED_USER)
    assert by_name is not None and by_name.id == again.id != leaving.id


def test_a_revocation_reaches_the_cache_when_committed(
    rows: Rows, uow_factory: UowFactory, cache: FakeCache
):
    user_row = rows.user("revoked")

    with uow_factory() as uow:
        user = uow.users.get(user_row.id)
        assert user is not None
        user.deactivate(NOW)
        uow.users.save(user)
        assert cache.revoked == {}  # a transaction that never commits revokes nothing
        uow.commit()

    assert cache.revoked == {user_row.id: NOW}


def test_a_revocation_the_cache_cannot_record_is_not_committed(
    rows: Rows, uow_factory: UowFactory, cache: FakeCache
):
    user_row = rows.user("kept")
    cache.available = False
    with uow_factory() as uow:
        user = uow.users.get(user_row.id)
        assert user is not None
        user.change_password("hashed:new", NOW)
        uow.users.save(user)
        with pytest.raises(Unavailable):
            uow.commit()

    with uow_factory() as uow:
        unchanged = uow.users.get(user_row.id)
    assert unchanged is not None
    assert (unchanged.password_hash, unchanged.tokens_valid_after) == ("hashed:secret", None)


def test_a_plain_save_revokes_nothing(rows: Rows, uow_factory: UowFactory, cache: FakeCache):
    user_row = rows.user("renamed")

    with uow_factory() as uow:
        user = uow.users.get(user_row.id)
        assert user is not None
        user.first_name = "Новое"
        uow.users.save(user)
        uow.commit()

    assert cache.revoked == {}


# --- what readers see of a user who left -------------------------------------------------------


def test_records_of_a_deleted_user_stay_under_neutral_names(
    rows: Rows, uow_factory: UowFactory, collect_queries: SqlCollectQueries
):
    author = rows.user("author", first_name="Олег")
    payer = rows.user("payer", first_name="Пётр")
    collect = rows.collect(author)
    rows.donation(collect, payer, "150.00")
    for leaving in (author, payer):
        with uow_factory() as uow:
            user = uow.users.get(leaving.id)
            assert user is not None
            user.erase(NOW)
            uow.users.save(user)
            uow.commit()

    detail = collect_queries.detail(collect.id)
    feed = collect_queries.feed(collect.id, PageRequest.of())

    assert detail is not None and detail.collect.author_name == DELETED_USER
    assert feed is not None and [entry.donor_name for entry in feed.items] == [ANONYMOUS]
    assert [entry.amount for entry in feed.items] == [Money.of("150.00")]


def test_closing_the_open_collects_of_an_author_leaves_others_alone(
    rows: Rows, uow_factory: UowFactory, collect_queries: SqlCollectQueries
):
    author, other = rows.user("author"), rows.user("other")
    open_one, open_two = rows.collect(author), rows.collect(author)
    rows.collect(author, is_active=False)
    theirs = rows.collect(other)
    later = NOW + timedelta(minutes=5)

    with uow_factory() as uow:
        uow.collects.close_open_of(author.id, now=later)
        uow.commit()

    still_open = collect_queries.list(CollectFilter(is_active=True), PageRequest.of())
    assert [view.id for view in still_open.items] == [theirs.id]
    with uow_factory() as uow:
        closed = [uow.collects.get(c.id) for c in (open_one, open_two)]
    assert all(c is not None and c.updated_at == later for c in closed)


def test_closing_the_collects_marks_each_one_changed(
    rows: Rows, uow_factory: UowFactory, cache: FakeCache
):
    author = rows.user("author")
    ids = {rows.collect(author).id, rows.collect(author).id}
    cache.changed.clear()

    with uow_factory() as uow:
        uow.collects.close_open_of(author.id, now=NOW)
        uow.commit()

    assert set(cache.changed) == ids


# --- refresh tokens ----------------------------------------------------------------------------


def test_a_refresh_token_is_used_once(rows: Rows, uow_factory: UowFactory):
    user = rows.user()
    with uow_factory() as uow:
        uow.refresh_tokens.add(_token("a", user.id))
        uow.commit()

    with uow_factory() as uow:
        live_before = uow.refresh_tokens.is_live("a", now=NOW)
        first, second = (uow.refresh_tokens.use("a", now=NOW) for _ in range(2))
        live_after = uow.refresh_tokens.is_live("a", now=NOW)
        uow.commit()

    assert (live_before, first, second, live_after) == (True, True, False, False)


def test_unknown_and_expired_refresh_tokens_are_not_usable(rows: Rows, uow_factory: UowFactory):
    user = rows.user()
    with uow_factory() as uow:
        uow.refresh_tokens.add(_token("short", user.id, hours=1))
        uow.commit()
    expired = NOW + timedelta(hours=1)

    with uow_factory() as uow:
        answers = (
            uow.refresh_tokens.use("nope", now=NOW),
            uow.refresh_tokens.is_live("short", now=expired),
            uow.refresh_tokens.use("short", now=expired),
        )

    assert answers == (False, False, False)


def test_revoking_a_family_kills_only_its_tokens(rows: Rows, uow_factory: UowFactory):
    user = rows.user()
    with uow_factory() as uow:
        for jti, family in (("a1", "a"), ("a2", "a"), ("b1", "b")):
            uow.refresh_tokens.add(_token(jti, user.id, family))
        uow.commit()

    with uow_factory() as uow:
        uow.refresh_tokens.revoke_family("a", now=NOW)
        uow.commit()

    with uow_factory() as uow:
        live = {jti: uow.refresh_tokens.is_live(jti, now=NOW) for jti in ("a1", "a2", "b1")}
        reused = uow.refresh_tokens.use("a2", now=NOW)
    assert live == {"a1": False, "a2": False, "b1": True}
    assert reused is False


def test_purging_deletes_only_tokens_expired_before_the_cut(rows: Rows, uow_factory: UowFactory):
    user = rows.user()
    with uow_factory() as uow:
        uow.refresh_tokens.add(_token("hour", user.id, hours=1))
        uow.refresh_tokens.add(_token("day", user.id, hours=24))
        uow.commit()

    with uow_factory() as uow:
        purged = uow.refresh_tokens.purge(expired_before=NOW + timedelta(hours=2))
        uow.commit()

    with uow_factory() as uow:
        assert uow.refresh_tokens.is_live("day", now=NOW)
        assert not uow.refresh_tokens.use("hour", now=NOW)
    assert purged == 1
