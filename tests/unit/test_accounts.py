"""Accounts after registration: activation by e-mail, passwords changed and reset, the profile,
leaving the service, administrators' deactivation — and the rules of the e-mailed tokens
(single use, bound to the account, expiring) with a fake clock."""

from __future__ import annotations

import pytest

from fundraising.application.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    Throttled,
    ValidationFailed,
)
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.use_cases.accounts import (
    AccountDeletion,
    Activation,
    EmailRequest,
    PasswordChange,
    PasswordReset,
    ProfileChange,
    uid_of,
)
from fundraising.application.use_cases.auth import Credentials, Registration
from fundraising.application.views import UserView
from fundraising.domain.errors import REQUIRED
from tests.unit.conftest import Core

PASSWORD = "correct horse battery"
NEW_PASSWORD = "amber-violet-harbour"
ADDRESS = "203.0.113.7"


def sign_up(core: Core, username: str = "ivan") -> UserView:
    """Registered over the API (not by an administrator): unverified, e-mailed."""
    return core.register(
        Registration(username, f"{username}@example.com", PASSWORD, client_address=ADDRESS)
    )


def emailed(core: Core, kind: EmailKind) -> list[int]:
    return [
        row.message.task.subject_id
        for row in core.db.outbox.values()
        if isinstance(row.message.task, SendEmail) and row.message.task.kind is kind
    ]


def delivered_link(core: Core, kind: EmailKind) -> tuple[str, str]:
    """Deliver the newest e-mail of `kind`; the (uid, token) of its link."""
    (message,) = [
        row.message
        for row in core.db.outbox.values()
        if isinstance(row.message.task, SendEmail) and row.message.task.kind is kind
    ][-1:]
    core.mailer.sent.clear()
    core.run_task(message)
    (sent,) = core.mailer.sent
    uid, token = sent.link.split("/")[-2:]
    return uid, token


def log_in(core: Core, username: str = "ivan", password: str = PASSWORD):
    return core.log_in(Credentials(username, password, ADDRESS))


# activation


def test_registration_e_mails_an_activation_link(core: Core):
    ivan = sign_up(core)
    assert ivan.email_verified is False
    assert emailed(core, EmailKind.ACCOUNT_ACTIVATION) == [ivan.id]
    uid, _ = delivered_link(core, EmailKind.ACCOUNT_ACTIVATION)
    assert uid == uid_of(ivan.id)


def test_an_administrator_creates_verified_users_without_an_e_mail(core: Core):
    assert core.user("olga").email_verified
    assert emailed(core, EmailKind.ACCOUNT_ACTIVATION) == []


def test_the_activation_link_verifies_the_address_once(core: Core):
    ivan = sign_up(core)
    uid, token = delivered_link(core, EmailKind.ACCOUNT_ACTIVATION)
    core.activate_account(Activation(uid, token))
    assert core.db.users[ivan.id].email_verified
    with pytest.raises(ValidationFailed) as raised:
        core.activate_account(Activation(uid, token))
    assert [e.field for e in raised.value.errors] == ["token"]


def test_an_activation_e_mail_delivered_after_verification_is_not_sent(core: Core):
    sign_up(core)
    core.resend_activation(EmailRequest("ivan@example.com", ADDRESS))
    uid, token = delivered_link(core, EmailKind.ACCOUNT_ACTIVATION)
    core.activate_account(Activation(uid, token))
    (first, _) = [
        row.message
        for row in core.db.outbox.values()
        if isinstance(row.message.task, SendEmail)
        and row.message.task.kind is EmailKind.ACCOUNT_ACTIVATION
    ]
    core.mailer.sent.clear()
    core.run_task(first)
    assert core.mailer.sent == []


def test_an_activation_link_expires_after_24_hours(core: Core):
    ivan = sign_up(core)
    uid, token = delivered_link(core, EmailKind.ACCOUNT_ACTIVATION)
    core.clock.advance(hours=24, seconds=1)
    with pytest.raises(ValidationFailed):
        core.activate_account(Activation(uid, token))
    assert not core.db.users[ivan.id].email_verified


@pytest.mark.parametrize(
    ("uid", "token", "field"),
    [
        ("bm90LWEtbnVtYmVy", "x", "uid"),
        ("OTk5", "x", "uid"),
        (None, "x", "uid"),
        ("MQ", None, "token"),
    ],
)
def test_a_bad_uid_or_token_names_its_field(core: Core, uid, token, field):
    sign_up(core)
    with pytest.raises(ValidationFailed) as raised:
        core.activate_account(Activation(uid, token))
    assert [e.field for e in raised.value.errors] == [field]


def test_resending_mails_only_an_unverified_account_and_says_nothing(core: Core):
    ivan = sign_up(core)
    core.user("olga")  # verified
    for email in ("ivan@example.com", "olga@example.com", "nobody@example.com"):
        assert core.resend_activation(EmailRequest(email, ADDRESS)) is None
    assert emailed(core, EmailKind.ACCOUNT_ACTIVATION) == [ivan.id, ivan.id]


def test_account_e_mails_are_limited_per_address_and_per_e_mail(core: Core):
    sign_up(core)
    for _ in range(5):
        core.resend_activation(EmailRequest("ivan@example.com", ADDRESS))
    with pytest.raises(Throttled):
        core.resend_activation(EmailRequest("ivan@example.com", "192.0.2.1"))  # same e-mail
    with pytest.raises(Throttled):
        core.resend_activation(EmailRequest("other@example.com", ADDRESS))  # same address
    core.reset_password(EmailRequest("ivan@example.com", ADDRESS))  # a limit of its own


def test_a_malformed_e_mail_is_a_400(core: Core):
    for email in ("not-an-address", "a,b@example.com", None):
        with pytest.raises(ValidationFailed) as raised:
            core.reset_password(EmailRequest(email, ADDRESS))
        assert [e.field for e in raised.value.errors] == ["email"]


# notifications go to verified addresses only


def test_notifications_skip_an_unverified_address(core: Core):
    ivan = sign_up(core)
    core.collect(ivan)
    core.mailer.sent.clear()
    created = [
        row.message
        for row in core.db.outbox.values()
        if isinstance(row.message.task, SendEmail)
        and row.message.task.kind is EmailKind.COLLECT_CREATED
    ]
    core.run_task(created[0])
    assert core.mailer.sent == []


# passwords


def test_set_password_revokes_every_earlier_token(core: Core):
    ivan = core.user()
    pair = log_in(core)
    core.clock.advance(seconds=1)
    core.set_password(PasswordChange(ivan.id, PASSWORD, NEW_PASSWORD))
    assert ivan.id in core.cache.revoked
    with pytest.raises(AuthenticationFailed):
        core.check_account(core.tokens.verify(pair.access))
    with pytest.raises(AuthenticationFailed):
        log_in(core)
    assert log_in(core, password=NEW_PASSWORD)


def test_set_password_names_a_wrong_current_password_or_a_weak_new_one(core: Core):
    ivan = core.user()
    for change, field in [
        (PasswordChange(ivan.id, "wrong password", NEW_PASSWORD), "current_password"),
        (PasswordChange(ivan.id, PASSWORD, "12345678"), "new_password"),
        (PasswordChange(ivan.id, PASSWORD, None), "new_password"),
    ]:
        with pytest.raises(ValidationFailed) as raised:
            core.set_password(change)
        assert [e.field for e in raised.value.errors] == [field]


def test_a_reset_link_sets_a_new_password_once(core: Core):
    ivan = core.user()
    core.reset_password(EmailRequest("ivan@example.com", ADDRESS))
    uid, token = delivered_link(core, EmailKind.PASSWORD_RESET)
    core.confirm_password_reset(PasswordReset(uid, token, NEW_PASSWORD))
    assert log_in(core, password=NEW_PASSWORD)
    with pytest.raises(ValidationFailed) as raised:
        core.confirm_password_reset(PasswordReset(uid, token, "another-long-one-9"))
    assert [e.field for e in raised.value.errors] == ["token"]
    assert ivan.id in core.cache.revoked


def test_a_reset_link_expires_after_an_hour_and_dies_with_the_password(core: Core):
    ivan = core.user()
    core.reset_password(EmailRequest("ivan@example.com", ADDRESS))
    uid, token = delivered_link(core, EmailKind.PASSWORD_RESET)
    core.clock.advance(minutes=61)
    with pytest.raises(ValidationFailed):
        core.confirm_password_reset(PasswordReset(uid, token, NEW_PASSWORD))
    core.reset_password(EmailRequest("ivan@example.com", ADDRESS))
    uid, token = delivered_link(core, EmailKind.PASSWORD_RESET)
    core.set_password(PasswordChange(ivan.id, PASSWORD, "changed-meanwhile-42"))
    with pytest.raises(ValidationFailed):
        core.confirm_password_reset(PasswordReset(uid, token, NEW_PASSWORD))


def test_no_reset_e_mail_for_an_unknown_or_inactive_address(core: Core):
    olga = core.user("olga")
    core.db.users[olga.id].is_active = False
    for email in ("nobody@example.com", "olga@example.com"):
        core.reset_password(EmailRequest(email, ADDRESS))
    assert emailed(core, EmailKind.PASSWORD_RESET) == []


# profile


def test_a_new_e_mail_is_unverified_and_gets_an_activation_link(core: Core):
    ivan = core.user()
    changed = core.update_profile(
        ProfileChange(ivan.id, first_name="Иван", email="New.Ivan@Example.com")
    )
    assert (changed.email, changed.email_verified, changed.first_name) == (
        "new.ivan@example.com",
        False,
        "Иван",
    )
    assert emailed(core, EmailKind.ACCOUNT_ACTIVATION) == [ivan.id]


def test_a_taken_e_mail_is_a_conflict_and_changes_nothing(core: Core):
    ivan = core.user()
    core.user("olga")
    with pytest.raises(Conflict):
        core.update_profile(ProfileChange(ivan.id, first_name="Иван", email="olga@example.com"))
    assert core.db.users[ivan.id].first_name == ""


def test_the_same_e_mail_again_keeps_it_verified(core: Core):
    ivan = core.user()
    assert core.update_profile(ProfileChange(ivan.id, email="ivan@example.com")).email_verified


def test_a_profile_change_validates_every_field(core: Core):
    ivan = core.user()
    with pytest.raises(ValidationFailed) as raised:
        core.update_profile(ProfileChange(ivan.id, first_name="x" * 151, email="no"))
    assert {e.field for e in raised.value.errors} == {"first_name", "email"}


# leaving


def test_leaving_erases_the_account_and_keeps_its_records(core: Core):
    ivan, olga = core.user("ivan", "Иван", "Петров"), core.user("olga")
    collect = core.collect(ivan).collect
    core.give(ivan, collect.id, "10.00")
    pair = log_in(core)
    core.clock.advance(seconds=1)
    core.delete_account(AccountDeletion(ivan.id, PASSWORD))

    gone = core.db.users[ivan.id]
    assert (gone.username, gone.first_name, gone.last_name) == (f"deleted-{ivan.id}", "", "")
    assert gone.email.endswith("@deleted.invalid") and not gone.is_active
    assert not core.db.collects[collect.id].is_active
    assert len(core.db.payments) == 1
    assert core.get_collect(collect.id).collect.author_name == "Deleted user"
    assert core.get_collect(collect.id).payments[0].donor_name == "Anonymous"
    with pytest.raises(AuthenticationFailed):
        core.check_account(core.tokens.verify(pair.access))
    again = core.register(Registration("ivan", "ivan@example.com", PASSWORD))
    assert again.id not in (ivan.id, olga.id)


def test_leaving_needs_the_current_password(core: Core):
    ivan = core.user()
    for password, message in [("wrong password", "Wrong password."), (None, REQUIRED)]:
        with pytest.raises(ValidationFailed) as raised:
            core.delete_account(AccountDeletion(ivan.id, password))
        assert [(e.field, e.message) for e in raised.value.errors] == [
            ("current_password", message)
        ]
    assert core.db.users[ivan.id].deleted_at is None


# administrators


def test_deactivation_revokes_and_activation_does_not_bring_tokens_back(core: Core):
    core.user()
    pair = log_in(core)
    core.clock.advance(seconds=1)
    core.set_user_active("ivan", active=False)
    with pytest.raises(AuthenticationFailed):
        log_in(core)
    core.set_user_active("IVAN", active=True)
    with pytest.raises(AuthenticationFailed):
        core.check_account(core.tokens.verify(pair.access))
    assert log_in(core)
    with pytest.raises(NotFound):
        core.set_user_active("nobody", active=False)
