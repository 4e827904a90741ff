"""Accounts and tokens: registering, logging in, throttling, refreshing and verifying tokens."""

from __future__ import annotations

import attrs
import pytest

from fundraising.application.errors import (
    AuthenticationFailed,
    Conflict,
    FieldError,
    Throttled,
    ValidationFailed,
)
from fundraising.application.use_cases.auth import (
    BAD_CREDENTIALS,
    Credentials,
    Registration,
)
from fundraising.application.views import UserView
from tests.fakes import FakeHasher
from tests.unit.conftest import LOGIN_LIMIT, REGISTRATION_LIMIT

PASSWORD = "correct horse battery"  # the password `core.user()` registers with
ADDRESS = "203.0.113.7"


def registration(**overrides: str | None) -> Registration:
    values = {
        "username": "ivan",
        "email": "Ivan@Example.com",
        "password": "tulip-orbit-glacier",
        "first_name": " Иван ",
        "last_name": "Петров",
    }
    values.update(overrides)
    return Registration(**values)  # type: ignore[arg-type]


def credentials(username: str = "ivan", password: str = PASSWORD, address: str = ADDRESS):
    return Credentials(username=username, password=password, client_address=address)


def fail_logins(core, times: int, **kwargs: str) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            core.log_in(credentials(password="wrong password", **kwargs))


def holder(core, token: str) -> int:
    """The user a token was issued to."""
    return int(core.tokens.verify(token).user_id)


def deactivate(core, user: UserView) -> None:
    core.db.users[user.id].is_active = False


# registering


def test_register_returns_the_user_without_any_password(core):
    view = core.register(registration())
    assert view == UserView(view.id, "ivan", "ivan@example.com", "Иван", "Петров", True)
    assert {f.name for f in attrs.fields(UserView)} == {
        "id",
        "username",
        "email",
        "email_verified",
        "first_name",
        "last_name",
    }


def test_register_stores_only_a_hash_of_the_password(core):
    view = core.register(registration())
    stored = core.db.users[view.id]
    assert stored.password_hash == "hashed:tulip-orbit-glacier"
    assert stored.is_active
    assert stored.date_joined == core.clock.now()


def test_register_rejects_a_taken_username(core):
    core.register(registration())
    with pytest.raises(Conflict, match="username"):
        core.register(registration(email="other@example.com"))
    assert len(core.db.users) == 1


def test_register_rejects_a_taken_email_whatever_its_case(core):
    core.register(registration())
    with pytest.raises(Conflict, match="email"):
        core.register(registration(username="ivan2", email="IVAN@example.COM"))
    assert len(core.db.users) == 1


def test_register_names_every_invalid_field_at_once(core):
    with pytest.raises(ValidationFailed) as raised:
        core.register(
            registration(
                username="bad name",
                email="nope",
                password="123",
                first_name="x" * 151,
                last_name="y" * 151,
            )
        )
    assert {e.field for e in raised.value.errors} == {
        "username",
        "email",
        "first_name",
        "last_name",
        "password",
    }
    assert core.db.users == {}


def test_register_reports_fields_rejected_by_the_edge_with_its_own_errors(core):
    rejected = (FieldError("email", "Not a valid string."),)
    with pytest.raises(ValidationFailed) as raised:
        core.register(
            Registration(
                username="bad name", email="", password=PASSWORD, conversion_errors=rejected
            )
        )
    assert raised.value.errors == (
        FieldError("email", "Not a valid string."),
        FieldError("username", "May contain only letters, digits and @ . + - _ characters."),
    )


def test_register_rejects_a_password_like_the_username(core):
    with pytest.raises(ValidationFailed) as raised:
        core.register(registration(username="zelenogorsk", password="Zelenogorsk1"))
    assert [e.field for e in raised.value.errors] == ["password"]


# logging in


def test_log_in_issues_tokens_for_the_right_password(core):
    ivan = core.user("ivan")
    pair = core.log_in(credentials())
    assert holder(core, pair.access) == holder(core, pair.refresh) == ivan.id
    assert list(core.db.refresh_tokens) == [core.tokens.verify(pair.refresh).jti]


def test_log_in_fails_alike_for_a_wrong_password_an_unknown_user_and_an_inactive_user(core):
    core.user("ivan")
    deactivate(core, core.user("petr"))
    details = []
    for attempt in (
        credentials("ivan", "wrong password"),
        credentials("nobody"),
        credentials("petr"),
    ):
        with pytest.raises(AuthenticationFailed) as raised:
            core.log_in(attempt)
        details.append(raised.value.detail)
    assert details == [BAD_CREDENTIALS] * 3


def test_log_in_spends_a_dummy_verification_on_an_unknown_user(core):
    with pytest.raises(AuthenticationFailed):
        core.log_in(credentials("nobody"))
    assert core.hasher.dummy_calls == 1


def test_log_in_needs_no_dummy_verification_for_a_known_user(core):
    core.user("ivan")
    with pytest.raises(AuthenticationFailed):
        core.log_in(credentials(password="wrong password"))
    assert core.hasher.dummy_calls == 0


class CountingHasher(FakeHasher):
    def __init__(self) -> None:
        super().__init__()
        self.verify_calls = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verify_calls += 1
        return super().verify(password_hash, password)


def test_log_in_spends_one_verification_on_an_inactive_user(core):
    deactivate(core, core.user("ivan"))
    hasher = CountingHasher()
    log_in = attrs.evolve(core.log_in, hasher=hasher)
    with pytest.raises(AuthenticationFailed):
        log_in(credentials())
    assert hasher.verify_calls + hasher.dummy_calls == 1


def test_ten_failures_throttle_even_the_right_password(core):
    core.user("ivan")
    fail_logins(core, 10)
    with pytest.raises(Throttled) as raised:
        core.log_in(credentials())
    assert raised.value.retry_after > 0


def test_nine_failures_do_not_throttle(core):
    ivan = core.user("ivan")
    fail_logins(core, 9)
    assert holder(core, core.log_in(credentials()).access) == ivan.id


def test_successful_logins_are_not_counted(core):
    ivan = core.user("ivan")
    for _ in range(20):
        core.log_in(credentials())
    fail_logins(core, 9)
    assert holder(core, core.log_in(credentials()).access) == ivan.id


def test_throttling_counts_failures_per_address(core):
    core.user("ivan")
    ivan_from_home = credentials(address="198.51.100.1")
    for index in range(10):
        with pytest.raises(AuthenticationFailed):
            core.log_in(credentials(f"guess{index}"))
    with pytest.raises(Throttled):
        core.log_in(credentials())
    assert core.log_in(ivan_from_home)


def test_throttling_counts_failures_per_username(core):
    core.user("ivan")
    core.user("olga")
    for index in range(10):
        fail_logins(core, 1, address=f"198.51.100.{index}")
    with pytest.raises(Throttled):
        core.log_in(credentials(address="192.0.2.99"))
    assert core.log_in(credentials("olga", address="192.0.2.99"))


def test_throttling_by_username_ignores_its_case(core):
    core.user("ivan")
    for index in range(10):
        with pytest.raises(AuthenticationFailed):
            core.log_in(credentials("IVAN", "wrong", address=f"198.51.100.{index}"))
    with pytest.raises(Throttled):
        core.log_in(credentials(address="192.0.2.99"))


def test_a_throttled_attempt_checks_no_password(core):
    core.user("ivan")
    fail_logins(core, 10, username="nobody")
    calls_before = core.hasher.dummy_calls
    with pytest.raises(Throttled):
        core.log_in(credentials("nobody"))
    assert core.hasher.dummy_calls == calls_before


def test_a_login_that_could_not_be_a_username_fails_and_counts_against_the_address(core):
    """`victim   ` was the same row as `victim` on MySQL (PAD SPACE) but another throttle key."""
    core.user("victim")
    for _ in range(LOGIN_LIMIT.attempts):
        with pytest.raises(AuthenticationFailed):
            core.log_in(credentials("victim   "))
    with pytest.raises(Throttled):
        core.log_in(credentials("someone-else"))
    assert core.log_in(credentials("victim", address="198.51.100.1"))


def test_an_overlong_login_is_refused_without_a_lookup(core):
    with pytest.raises(AuthenticationFailed):
        core.log_in(credentials("a" * 151))
    assert core.hasher.dummy_calls == 1


def test_a_login_matches_the_account_whatever_its_case_and_width(core):
    ivan = core.user("ivan")
    for spelled in ("IVAN", "Ivan", "ｉｖａｎ"):
        assert holder(core, core.log_in(credentials(spelled)).access) == ivan.id


def test_an_exact_username_wins_over_the_same_one_in_another_case(core):
    """Accounts registered before usernames were folded keep logging in by their exact name."""
    ivan = core.user("ivan")
    older = attrs.evolve(core.db.users[ivan.id], id=999, username="IVAN", email="old@example.com")
    core.db.users[999] = older
    assert holder(core, core.log_in(credentials("IVAN")).access) == 999
    assert holder(core, core.log_in(credentials("Ivan")).access) == ivan.id


def test_parallel_guesses_are_counted_against_the_address_before_the_check(core):
    """Every attempt is reserved against the address before its password is checked."""
    core.user("ivan")
    for index in range(LOGIN_LIMIT.attempts):
        with pytest.raises(AuthenticationFailed):
            core.log_in(credentials(f"guess{index}", "wrong"))
    assert sum(core.limiter.counts[key] for key in core.limiter.counts if "address" in key) == 10
    with pytest.raises(Throttled):
        core.log_in(credentials("guess-next", "wrong"))


# registering: names that are the same, addresses, limits


@pytest.mark.parametrize("other", ["Ivan", "IVAN", "ｉｖａｎ", "Ｉｖａｎ"])
def test_a_username_the_same_after_folding_is_taken(core, other):
    core.register(registration())
    with pytest.raises(Conflict, match="username"):
        core.register(registration(username=other, email="other@example.com"))


def test_a_username_is_stored_in_its_nfkc_form(core):
    assert core.register(registration(username="ｉｖａｎ_２")).username == "ivan_2"


def test_a_username_mixing_look_alike_alphabets_is_refused(core):
    with pytest.raises(ValidationFailed) as raised:
        core.register(registration(username="ivаn"))  # a Cyrillic а
    assert [e.field for e in raised.value.errors] == ["username"]


def test_a_list_of_addresses_is_not_an_email(core):
    with pytest.raises(ValidationFailed) as raised:
        core.register(registration(email="x,victim@example.com"))
    assert [e.field for e in raised.value.errors] == ["email"]


def test_a_taken_name_or_address_costs_no_password_hash(core):
    core.register(registration())
    hashes = []
    core.hasher.hash = lambda password: hashes.append(password) or f"hashed:{password}"
    with pytest.raises(Conflict, match="username"):
        core.register(registration(email="other@example.com"))
    with pytest.raises(Conflict, match="email"):
        core.register(registration(username="olga"))
    assert hashes == []


def test_registrations_are_limited_per_address(core):
    for index in range(REGISTRATION_LIMIT.attempts):
        core.register(
            registration(
                username=f"user{index}", email=f"u{index}@example.com", client_address="2001:db8::1"
            )
        )
    with pytest.raises(Throttled) as raised:
        core.register(
            registration(
                username="one_more", email="more@example.com", client_address="2001:db8::ffff"
            )  # the same /64
        )
    assert raised.value.retry_after > 0
    core.register(
        registration(username="elsewhere", email="else@example.com", client_address="192.0.2.1")
    )


def test_invalid_registrations_do_not_use_up_the_limit_but_taken_names_do(core):
    core.register(registration())
    for _ in range(30):
        with pytest.raises(ValidationFailed):
            core.register(registration(username="bad name", client_address="192.0.2.1"))
    for _ in range(REGISTRATION_LIMIT.attempts):
        with pytest.raises(Conflict):
            core.register(registration(client_address="192.0.2.1"))
    with pytest.raises(Throttled):
        core.register(registration(client_address="192.0.2.1"))


def test_an_administrator_registers_without_a_limit(core):
    for index in range(REGISTRATION_LIMIT.attempts + 5):
        core.register(registration(username=f"user{index}", email=f"u{index}@example.com"))


def test_current_user_is_the_users_view(core):
    ivan = core.user("ivan", "Иван", "Петров")
    assert core.current_user(ivan.id) == ivan


def test_current_user_fails_for_a_deleted_user(core):
    ivan = core.user("ivan")
    del core.db.users[ivan.id]
    with pytest.raises(AuthenticationFailed):
        core.current_user(ivan.id)


def test_current_user_fails_for_an_inactive_user(core):
    ivan = core.user("ivan")
    deactivate(core, ivan)
    with pytest.raises(AuthenticationFailed):
        core.current_user(ivan.id)
