"""Accounts and tokens: register, log in, refresh, verify, who am I."""

from __future__ import annotations

from attrs import field, frozen

from fundraising.application.errors import (
    AuthenticationFailed,
    Conflict,
    FieldError,
    Throttled,
)
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.security import (
    LoginThrottle,
    PasswordHasher,
    TokenPair,
    TokenService,
    TokenType,
)
from fundraising.application.ports.unit_of_work import DuplicateUser, UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import in_transaction
from fundraising.application.views import UserView
from fundraising.domain.errors import FieldErrors
from fundraising.domain.passwords import check_password
from fundraising.domain.user import User, parse_email, parse_name, parse_username

BAD_CREDENTIALS = "No active account found with the given credentials."


def active_user(uow: UnitOfWork, user_id: int) -> User:
    """The user behind a token; one deleted or deactivated since is not authenticated."""
    user = uow.users.get(user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed("The user of this token no longer exists or is inactive.")
    return user


@frozen
class Registration:
    username: str
    email: str
    password: str
    first_name: str = ""
    last_name: str = ""
    rejected: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class RegisterUser:
    uow_factory: UnitOfWorkFactory
    hasher: PasswordHasher
    clock: Clock

    def __call__(self, registration: Registration) -> UserView:
        errors = FieldErrors(registration.rejected)
        username = errors.check("username", lambda: parse_username(registration.username))
        email = errors.check("email", lambda: parse_email(registration.email))
        first_name = errors.check("first_name", lambda: parse_name(registration.first_name))
        last_name = errors.check("last_name", lambda: parse_name(registration.last_name))
        password = errors.check(
            "password",
            lambda: check_password(
                registration.password, username=registration.username, email=registration.email
            ),
        )
        errors.raise_if_any()
        assert username and email and password is not None
        user = User(
            id=None,
            username=username,
            email=email,
            password_hash=self.hasher.hash(password),
            first_name=first_name or "",
            last_name=last_name or "",
            is_active=True,
            date_joined=self.clock.now(),
        )

        def register(uow: UnitOfWork) -> UserView:
            try:
                added = uow.users.add(user)
            except DuplicateUser as duplicate:
                raise Conflict(f"A user with that {duplicate.field} already exists.") from None
            uow.commit()
            return UserView.of(added)

        return in_transaction(self.uow_factory, register)


@frozen
class Credentials:
    username: str
    password: str
    client_address: str


@frozen
class LogIn:
    """Issue tokens; an unknown user, a wrong password and an inactive user fail alike."""

    uow_factory: UnitOfWorkFactory
    hasher: PasswordHasher
    tokens: TokenService
    throttle: LoginThrottle

    def __call__(self, credentials: Credentials) -> TokenPair:
        account = f"user:{credentials.username.lower()}"
        address = f"address:{credentials.client_address}"
        if wait := self.throttle.attempt(account, address):
            raise Throttled("Too many failed login attempts; try again later.", retry_after=wait)
        with self.uow_factory() as uow:
            user = uow.users.by_username(credentials.username)
        if user is None:
            self.hasher.dummy_verify()
        elif self.hasher.verify(user.password_hash, credentials.password) and user.is_active:
            assert user.id is not None
            self.throttle.succeeded(account)
            return self.tokens.issue(user.id)
        self.throttle.failed(address)
        raise AuthenticationFailed(BAD_CREDENTIALS)


@frozen
class RefreshAccess:
    uow_factory: UnitOfWorkFactory
    tokens: TokenService

    def __call__(self, refresh_token: str) -> str:
        user_id = self.tokens.verify(refresh_token, TokenType.REFRESH)
        with self.uow_factory() as uow:
            user = uow.users.get(user_id)
        if user is None or not user.is_active:
            raise AuthenticationFailed(BAD_CREDENTIALS)
        return self.tokens.issue(user_id).access


@frozen
class VerifyToken:
    tokens: TokenService

    def __call__(self, token: str) -> None:
        self.tokens.verify(token)


@frozen
class Authenticate:
    """The user id behind an access token."""

    tokens: TokenService

    def __call__(self, access_token: str) -> int:
        return self.tokens.verify(access_token, TokenType.ACCESS)


@frozen
class GetCurrentUser:
    uow_factory: UnitOfWorkFactory

    def __call__(self, user_id: int) -> UserView:
        with self.uow_factory() as uow:
            return UserView.of(active_user(uow, user_id))
