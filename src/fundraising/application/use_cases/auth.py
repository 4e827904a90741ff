"""Accounts and tokens: register, log in, refresh, verify, who am I."""

from __future__ import annotations

from attrs import field, frozen

from fundraising.application.errors import AuthenticationFailed, Conflict, FieldError
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.identity import IdentityRules
from fundraising.application.ports.security import (
    PasswordHasher,
    RateLimiter,
    TokenPair,
    TokenService,
    TokenType,
)
from fundraising.application.ports.unit_of_work import DuplicateUser, UnitOfWork, UnitOfWorkFactory
from fundraising.application.throttles import Limit, address_key, reserve
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.views import UserView
from fundraising.domain.errors import FieldErrors, InvalidValue
from fundraising.domain.passwords import check_password
from fundraising.domain.user import User, parse_name, parse_username, username_key

BAD_CREDENTIALS = "No active account found with the given credentials."


def active_user(uow: UnitOfWork, user_id: int) -> User:
    """The user behind a token; one deleted or deactivated since is not authenticated."""
    user = uow.users.get(user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed("The user of this token no longer exists or is inactive.")
    return user


@frozen
class Registration:
    """A new account; None marks a field the client did not send. `client_address` is None
    when an administrator creates it (no limit)."""

    username: str | None
    email: str | None
    password: str | None
    first_name: str = ""
    last_name: str = ""
    client_address: str | None = None
    conversion_errors: tuple[FieldError, ...] = field(default=(), kw_only=True)


@frozen
class RegisterUser:
    """Validate, count the attempt against the client's address, refuse a taken name or
    address, and only then spend a password hash."""

    uow_factory: UnitOfWorkFactory
    hasher: PasswordHasher
    identity: IdentityRules
    limiter: RateLimiter
    limit: Limit
    clock: Clock

    def __call__(self, registration: Registration) -> UserView:
        errors = FieldErrors(registration.conversion_errors)
        given = {"username": registration.username, "email": registration.email}
        for name, value in {**given, "password": registration.password}.items():
            errors.require(name, value)
        username = errors.check("username", lambda: self._username(registration.username or ""))
        email = errors.check("email", lambda: self.identity.email(registration.email or ""))
        first_name = errors.check("first_name", lambda: parse_name(registration.first_name))
        last_name = errors.check("last_name", lambda: parse_name(registration.last_name))
        password = errors.check(
            "password",
            lambda: check_password(
                registration.password or "",
                username=registration.username or "",
                email=registration.email or "",
            ),
        )
        errors.raise_if_any()
        assert username and email and password is not None
        if registration.client_address is not None:
            address = address_key(registration.client_address)
            reserve(
                self.limiter,
                [f"register:{address}"],
                self.limit,
                "Too many accounts were registered from this address; try again later.",
            )
        with self.uow_factory() as uow:
            taken = uow.users.taken(username, email)
        if taken:
            raise Conflict(f"A user with that {taken} already exists.")
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
            except DuplicateUser as duplicate:  # registered meanwhile
                raise Conflict(f"A user with that {duplicate.field} already exists.") from None
            uow.commit()
            return UserView.of(added)

        return retrying_transaction(self.uow_factory, register)

    def _username(self, value: str) -> str:
        username = parse_username(value)
        if self.identity.deceptive(username):
            raise InvalidValue("Mixes alphabets with letters that look alike; use one alphabet.")
        return username


@frozen
class Credentials:
    username: str | None
    password: str | None
    client_address: str


def _require(**fields: str | None) -> None:
    """A token request names every field it needs (400), before anything is looked at."""
    errors = FieldErrors()
    for name, value in fields.items():
        errors.require(name, value)
    errors.raise_if_any()


def _login_name(username: str) -> str | None:
    """The username as stored, or None when it could not have been registered."""
    try:
        return parse_username(username)
    except InvalidValue:
        return None


@frozen
class LogIn:
    """Issue tokens; an unknown user, a wrong password and an inactive user fail alike.

    The attempt is counted against the account and the client's address *before* the password
    is checked (and taken back when it succeeds): parallel guesses cannot pass the limit. A
    username that could not be registered names no account; it counts against the address.
    """

    uow_factory: UnitOfWorkFactory
    hasher: PasswordHasher
    tokens: TokenService
    limiter: RateLimiter
    limit: Limit

    def __call__(self, credentials: Credentials) -> TokenPair:
        _require(username=credentials.username, password=credentials.password)
        assert credentials.username is not None and credentials.password is not None
        name = _login_name(credentials.username)
        keys = [f"login:address:{address_key(credentials.client_address)}"]
        if name is not None:
            keys.append(f"login:user:{username_key(name)}")
        reserve(self.limiter, keys, self.limit, "Too many failed login attempts; try again later.")
        user = None
        if name is not None:
            with self.uow_factory() as uow:
                user = uow.users.by_login(name)
        if user is None:
            self.hasher.dummy_verify()
        elif self.hasher.verify(user.password_hash, credentials.password) and user.is_active:
            assert user.id is not None
            self.limiter.release(keys)
            return self.tokens.issue(user.id)
        raise AuthenticationFailed(BAD_CREDENTIALS)


@frozen
class RefreshAccess:
    uow_factory: UnitOfWorkFactory
    tokens: TokenService

    def __call__(self, refresh_token: str | None) -> str:
        _require(refresh=refresh_token)
        user_id = self.tokens.verify(refresh_token or "", TokenType.REFRESH)
        with self.uow_factory() as uow:
            user = uow.users.get(user_id)
        if user is None or not user.is_active:
            raise AuthenticationFailed(BAD_CREDENTIALS)
        return self.tokens.issue(user_id).access


@frozen
class VerifyToken:
    tokens: TokenService

    def __call__(self, token: str | None) -> None:
        _require(token=token)
        self.tokens.verify(token or "")


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
