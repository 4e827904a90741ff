"""An account after registration: activation, passwords (changed, or reset by e-mail), the
profile, leaving the service, and an administrator's deactivation.

Nothing here tells whether an address is registered: asking for an e-mail answers the same
either way, and the e-mail goes out from the task queue, later.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import frozen

from fundraising.application.errors import Conflict, NotFound
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.identity import IdentityRules
from fundraising.application.ports.security import AccountTokens, PasswordHasher, RateLimiter
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import DuplicateUser, UnitOfWork, UnitOfWorkFactory
from fundraising.application.throttles import Limit, address_key, reserve
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.use_cases.auth import active_user
from fundraising.application.views import UserView
from fundraising.domain.collect import UNCHANGED, Unchanged
from fundraising.domain.errors import FieldErrors, ValidationFailed
from fundraising.domain.passwords import check_password
from fundraising.domain.user import AccountToken, User, parse_name

BAD_UID = "Invalid user id."
BAD_TOKEN = "Invalid token: it is wrong, used, expired, or its account changed since."
WRONG_PASSWORD = "Wrong password."
EMAIL_TAKEN = "A user with that email already exists."


def uid_of(user_id: int) -> str:
    """The user id as the e-mailed links carry it: URL-safe base64, as djoser does."""
    return base64.urlsafe_b64encode(str(user_id).encode()).decode().rstrip("=")


def _user_id_of(uid: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(uid + "=" * (-len(uid) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else None


@frozen
class TokenLifetimes:
    activation: timedelta
    reset: timedelta

    def of(self, purpose: AccountToken) -> timedelta:
        return self.activation if purpose is AccountToken.ACTIVATION else self.reset


@frozen
class TokenHolder:
    """Finds the account an e-mailed (uid, token) pair names, if the token is still good."""

    tokens: AccountTokens
    lifetimes: TokenLifetimes

    def __call__(
        self, uow: UnitOfWork, uid: str, token: str, purpose: AccountToken, now: datetime
    ) -> User:
        user_id = _user_id_of(uid)
        user = None if user_id is None else uow.users.get(user_id, for_update=True)
        if user is None or user.deleted_at is not None:
            raise ValidationFailed.single("uid", BAD_UID)
        good = self.tokens.check(user, purpose, token, now=now, max_age=self.lifetimes.of(purpose))
        if not good:
            raise ValidationFailed.single("token", BAD_TOKEN)
        return user


def _required(**fields: str | None) -> None:
    errors = FieldErrors()
    for name, value in fields.items():
        errors.require(name, value)
    errors.raise_if_any()


@frozen
class Activation:
    uid: str | None
    token: str | None


@frozen
class ActivateAccount:
    uow_factory: UnitOfWorkFactory
    holder: TokenHolder
    clock: Clock

    def __call__(self, activation: Activation) -> None:
        _required(uid=activation.uid, token=activation.token)
        assert activation.uid is not None and activation.token is not None

        def activate(uow: UnitOfWork) -> None:
            now = self.clock.now()
            user = self.holder(
                uow, activation.uid or "", activation.token or "", AccountToken.ACTIVATION, now
            )
            user.verify_email()
            uow.users.save(user)
            uow.commit()

        retrying_transaction(self.uow_factory, activate)


@frozen
class EmailRequest:
    """Someone asks for an account e-mail (activation, reset) to an address."""

    email: str | None
    client_address: str


@frozen
class SendAccountEmail:
    """Send an account e-mail to the address if it belongs to an account that may get it; the
    answer is the same whether it does or not. Limited per client and per address."""

    uow_factory: UnitOfWorkFactory
    identity: IdentityRules
    limiter: RateLimiter
    limit: Limit
    kind: EmailKind
    clock: Clock

    def __call__(self, request: EmailRequest) -> None:
        errors = FieldErrors()
        errors.require("email", request.email)
        email = errors.check("email", lambda: self.identity.email(request.email or ""))
        errors.raise_if_any()
        keys = [
            f"{self.kind}:address:{address_key(request.client_address)}",
            f"{self.kind}:email:{email}",
        ]
        reserve(self.limiter, keys, self.limit, "Too many e-mails were asked for; try later.")

        def send(uow: UnitOfWork) -> None:
            user = uow.users.by_email(email or "")
            if user is None or user.id is None or not self._may_get(user):
                return
            uow.enqueue(SendEmail(self.kind, user.id), now=self.clock.now())
            uow.commit()

        retrying_transaction(self.uow_factory, send)

    def _may_get(self, user: User) -> bool:
        if not user.is_active or user.deleted_at is not None:
            return False
        return self.kind is not EmailKind.ACCOUNT_ACTIVATION or not user.email_verified


@frozen
class PasswordChange:
    user_id: int
    current_password: str | None
    new_password: str | None


@frozen
class SetPassword:
    """A new password, with the current one: every earlier token stops working."""

    uow_factory: UnitOfWorkFactory
    hasher: PasswordHasher
    clock: Clock

    def __call__(self, change: PasswordChange) -> None:
        _required(current_password=change.current_password, new_password=change.new_password)
        with self.uow_factory() as uow:
            user = active_user(uow, change.user_id)
        if not self.hasher.verify(user.password_hash, change.current_password or ""):
            raise ValidationFailed.single("current_password", WRONG_PASSWORD)
        new_hash = _new_password_hash(self.hasher, user, change.new_password or "")

        def apply(uow: UnitOfWork) -> None:
            current = active_user(uow, change.user_id)
            if current.password_hash != user.password_hash:  # changed meanwhile
                raise ValidationFailed.single("current_password", WRONG_PASSWORD)
            current.change_password(new_hash, self.clock.now())
            uow.users.save(current)
            uow.commit()

        retrying_transaction(self.uow_factory, apply)


def _new_password_hash(hasher: PasswordHasher, user: User, password: str) -> str:
    errors = FieldErrors()
    errors.check(
        "new_password", lambda: check_password(password, username=user.username, email=user.email)
    )
    errors.raise_if_any()
    return hasher.hash(password)


@frozen
class PasswordReset:
    uid: str | None
    token: str | None
    new_password: str | None


@frozen
class ConfirmPasswordReset:
    """A new password from the link of a reset e-mail: the token works once, within its
    lifetime, and only while the account is as it was when the token was made."""

    uow_factory: UnitOfWorkFactory
    holder: TokenHolder
    hasher: PasswordHasher
    clock: Clock

    def __call__(self, reset: PasswordReset) -> None:
        _required(uid=reset.uid, token=reset.token, new_password=reset.new_password)
        uid, token = reset.uid or "", reset.token or ""
        with self.uow_factory() as uow:
            user = self.holder(uow, uid, token, AccountToken.PASSWORD_RESET, self.clock.now())
        new_hash = _new_password_hash(self.hasher, user, reset.new_password or "")

        def apply(uow: UnitOfWork) -> None:
            now = self.clock.now()
            current = self.holder(uow, uid, token, AccountToken.PASSWORD_RESET, now)
            current.change_password(new_hash, now)
            uow.users.save(current)
            uow.commit()

        retrying_transaction(self.uow_factory, apply)


@frozen
class ProfileChange:
    """Unchanged fields are left alone; a new e-mail must be verified again."""

    user_id: int
    first_name: str | Unchanged = UNCHANGED
    last_name: str | Unchanged = UNCHANGED
    email: str | Unchanged = UNCHANGED


@frozen
class UpdateProfile:
    uow_factory: UnitOfWorkFactory
    identity: IdentityRules
    clock: Clock

    def __call__(self, change: ProfileChange) -> UserView:
        with self.uow_factory() as uow:
            active_user(uow, change.user_id)  # 401 before 400
        errors = FieldErrors()
        first = errors.check("first_name", lambda: _given(change.first_name, parse_name))
        last = errors.check("last_name", lambda: _given(change.last_name, parse_name))
        email = errors.check("email", lambda: _given(change.email, self.identity.email))
        errors.raise_if_any()

        def apply(uow: UnitOfWork) -> UserView:
            user = active_user(uow, change.user_id)
            user.first_name = user.first_name if first is None else first
            user.last_name = user.last_name if last is None else last
            if email is not None and user.change_email(email):
                other = uow.users.by_email(email)
                if other is not None and other.id != user.id:
                    raise Conflict(EMAIL_TAKEN)
                assert user.id is not None
                uow.enqueue(SendEmail(EmailKind.ACCOUNT_ACTIVATION, user.id), now=self.clock.now())
            try:
                uow.users.save(user)
            except DuplicateUser:  # taken meanwhile
                raise Conflict(EMAIL_TAKEN) from None
            uow.commit()
            return UserView.of(user)

        return retrying_transaction(self.uow_factory, apply)


def _given(value: str | Unchanged, parse: Callable[[str], str]) -> str | None:
    return None if isinstance(value, Unchanged) else parse(value)


@frozen
class AccountDeletion:
    user_id: int
    current_password: str | None


@frozen
class DeleteAccount:
    """The account leaves: personal data erased, open collects closed, tokens revoked; its
    collects and payments stay, shown under "Deleted user" and "Anonymous"."""

    uow_factory: UnitOfWorkFactory
    hasher: PasswordHasher
    clock: Clock

    def __call__(self, deletion: AccountDeletion) -> None:
        with self.uow_factory() as uow:
            user = active_user(uow, deletion.user_id)
        _required(current_password=deletion.current_password)
        if not self.hasher.verify(user.password_hash, deletion.current_password or ""):
            raise ValidationFailed.single("current_password", WRONG_PASSWORD)

        def erase(uow: UnitOfWork) -> None:
            now = self.clock.now()
            current = active_user(uow, deletion.user_id)
            current.erase(now)
            uow.collects.close_open_of(deletion.user_id, now=now)
            uow.users.save(current)
            uow.commit()

        retrying_transaction(self.uow_factory, erase)


@frozen
class SetUserActive:
    """An administrator deactivates an account (its tokens stop working at once) or activates
    it again (the tokens revoked stay revoked)."""

    uow_factory: UnitOfWorkFactory
    clock: Clock

    def __call__(self, username: str, *, active: bool) -> None:
        def apply(uow: UnitOfWork) -> None:
            user = uow.users.by_login(username)
            if user is None or user.deleted_at is not None:
                raise NotFound("No user with this username.")
            if active:
                user.is_active = True
            else:
                user.deactivate(self.clock.now())
            uow.users.save(user)
            uow.commit()

        retrying_transaction(self.uow_factory, apply)
