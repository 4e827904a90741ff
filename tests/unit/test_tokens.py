"""Tokens after login: refresh rotation (a reused refresh token revokes its chain), logout,
verification, and revocation of every earlier token by the account's "valid after" stamp."""

from __future__ import annotations

import pytest

from fundraising.application.errors import AuthenticationFailed, Unavailable
from fundraising.application.use_cases.auth import Credentials
from tests.unit.conftest import Core

PASSWORD = "correct horse battery"


def log_in(core: Core, username: str = "ivan"):
    return core.log_in(Credentials(username, PASSWORD, "203.0.113.7"))


def test_a_refresh_gives_a_new_pair_and_uses_up_the_old_refresh_token(core: Core):
    ivan = core.user()
    first = log_in(core)
    second = core.refresh(first.refresh)
    assert core.tokens.verify(second.access).user_id == ivan.id
    assert core.tokens.verify(second.refresh).family == core.tokens.verify(first.refresh).family
    third = core.refresh(second.refresh)
    assert third.refresh not in (first.refresh, second.refresh)


def test_a_reused_refresh_token_revokes_its_whole_chain(core: Core):
    core.user()
    first = log_in(core)
    second = core.refresh(first.refresh)
    with pytest.raises(AuthenticationFailed):
        core.refresh(first.refresh)  # replayed: a thief or a stale client
    with pytest.raises(AuthenticationFailed):
        core.refresh(second.refresh)  # the rightful holder's newer one dies with it


def test_another_login_keeps_its_own_chain(core: Core):
    core.user()
    phone, laptop = log_in(core), log_in(core)
    core.refresh(phone.refresh)
    with pytest.raises(AuthenticationFailed):
        core.refresh(phone.refresh)
    assert core.refresh(laptop.refresh)


def test_logout_ends_the_chain_and_is_idempotent(core: Core):
    core.user()
    pair = log_in(core)
    core.log_out(pair.refresh)
    core.log_out(pair.refresh)
    with pytest.raises(AuthenticationFailed):
        core.refresh(pair.refresh)
    with pytest.raises(AuthenticationFailed):
        core.verify(pair.refresh)
    assert core.verify(pair.access) is None, "logout leaves access tokens to expire"


def test_logout_needs_a_refresh_token(core: Core):
    core.user()
    pair = log_in(core)
    with pytest.raises(AuthenticationFailed):
        core.log_out(pair.access)
    with pytest.raises(AuthenticationFailed):
        core.log_out("garbage")


def test_verify_accepts_live_tokens_of_either_kind(core: Core):
    core.user()
    pair = log_in(core)
    assert core.verify(pair.access) is None
    assert core.verify(pair.refresh) is None


def test_a_revocation_refuses_every_earlier_token_at_once(core: Core):
    ivan = core.user()
    before = log_in(core)
    core.clock.advance(seconds=1)
    user = core.db.users[ivan.id]
    user.revoke_tokens(core.clock.now())
    core.clock.advance(seconds=1)
    after = log_in(core)

    for token in (before.access, before.refresh):
        with pytest.raises(AuthenticationFailed):
            core.verify(token)
    with pytest.raises(AuthenticationFailed):
        core.check_account(core.tokens.verify(before.access))
    with pytest.raises(AuthenticationFailed):
        core.refresh(before.refresh)
    assert core.check_account(core.tokens.verify(after.access)) == (
        user.tokens_valid_after.timestamp()  # type: ignore[union-attr]
    )
    assert core.verify(after.access) is None


def test_an_account_never_revoked_accepts_its_tokens_from_the_start(core: Core):
    core.user()
    pair = log_in(core)
    assert core.check_account(core.tokens.verify(pair.access)) == 0.0


def test_the_cache_hears_of_a_revocation_before_the_commit(core: Core):
    """If the cache cannot record it, nothing is committed: no hit may accept a revoked
    token, not even for a moment."""
    ivan = core.user()
    uow = core.uow()
    with uow:
        user = uow.users.get(ivan.id)
        assert user is not None
        user.revoke_tokens(core.clock.now())
        uow.users.save(user)
        core.cache.available = False
        with pytest.raises(Unavailable):
            uow.commit()
    assert core.db.users[ivan.id].tokens_valid_after is None
    assert core.cache.revoked == {}
