"""Registration and tokens: register, log in, refresh (rotating), log out, verify, and who the
bearer of a token is."""

from __future__ import annotations

from attrs import field, frozen

from fundraising.application.errors import AuthenticationFailed, Conflict, FieldError
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.identity import IdentityRules
from fundraising.application.ports.security import (
    PasswordHasher,
    RateLimiter,
    TokenClaims,
    TokenPair,
    TokenService,
    TokenType,
)
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.ports.unit_of_work import DuplicateUser, UnitOfWork, UnitOfWorkFactory
from fundraising.application.throttles import Limit, address_key, reserve
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.application.views import UserView
from fundraising.domain.errors import FieldErrors, InvalidValue
from fundraising.domain.passwords import check_password
from fundraising.domain.user import User, parse_name, parse_username, username_key

BAD_CREDENTIALS = "No active account found with the given credentials."
REVOKED = "This token was revoked, or its account is inactive or gone."


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
        now = self.clock.now()
        user = User(
            id=None,
            username=username,
            email=email,
            password_hash=self.hasher.hash(password),
            first_name=first_name or "",
            last_name=last_name or "",
            is_active=True,
            date_joined=now,
            email_verified=registration.client_address is None,  # an administrator vouches
        )

        def register(uow: UnitOfWork) -> UserView:
            try:
                added = uow.users.add(user)
            except DuplicateUser as duplicate:  # registered meanwhile
                raise Conflict(f"A user with that {duplicate.field} already exists.") from None
            assert added.id is not None
            if not added.email_verified:
                uow.enqueue(SendEmail(EmailKind.ACCOUNT_ACTIVATION, added.id), now=now)
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
            return self._issued(user.id)
        raise AuthenticationFailed(BAD_CREDENTIALS)

    def _issued(self, user_id: int) -> TokenPair:
        issued = self.tokens.issue(user_id)

        def record(uow: UnitOfWork) -> None:
            uow.refresh_tokens.purge(expired_before=issued.refresh.issued_at)
            uow.refresh_tokens.add(issued.refresh)
            uow.commit()

        retrying_transaction(self.uow_factory, record)
        return issued.pair


def _live_user(uow: UnitOfWork, claims: TokenClaims) -> User:
    """The account of a token that it still accepts (not revoked since, active, not gone)."""
    user = uow.users.get(claims.user_id)
    if user is None or not user.accepts_token(claims.issued_at):
        raise AuthenticationFailed(REVOKED)
    return user


@frozen
class RefreshAccess:
    """A new pair for a refresh token, which is used up: the one it gave continues its chain.
    A refresh token used a second time was stolen or replayed: its whole chain is revoked."""

    uow_factory: UnitOfWorkFactory
    tokens: TokenService
    clock: Clock

    def __call__(self, refresh_token: str | None) -> TokenPair:
        _require(refresh=refresh_token)
        claims = self.tokens.verify(refresh_token or "", TokenType.REFRESH)
        assert claims.family is not None

        def rotate(uow: UnitOfWork) -> TokenPair | None:
            now = self.clock.now()
            _live_user(uow, claims)
            if not uow.refresh_tokens.use(claims.jti, now=now):
                uow.refresh_tokens.revoke_family(claims.family or "", now=now)
                uow.commit()
                return None
            issued = self.tokens.issue(claims.user_id, family=claims.family)
            uow.refresh_tokens.add(issued.refresh)
            uow.commit()
            return issued.pair

        pair = retrying_transaction(self.uow_factory, rotate)
        if pair is None:
            raise AuthenticationFailed(REVOKED)
        return pair


@frozen
class LogOut:
    """The refresh token's chain stops working (its access tokens expire on their own)."""

    uow_factory: UnitOfWorkFactory
    tokens: TokenService
    clock: Clock

    def __call__(self, refresh_token: str | None) -> None:
        _require(refresh=refresh_token)
        claims = self.tokens.verify(refresh_token or "", TokenType.REFRESH)

        def revoke(uow: UnitOfWork) -> None:
            uow.refresh_tokens.revoke_family(claims.family or "", now=self.clock.now())
            uow.commit()

        retrying_transaction(self.uow_factory, revoke)


@frozen
class VerifyToken:
    """Whether a token the service issued still works: signed, unexpired, not revoked; a
    refresh token also not used up."""

    uow_factory: UnitOfWorkFactory
    tokens: TokenService
    clock: Clock

    def __call__(self, token: str | None) -> None:
        _require(token=token)
        claims = self.tokens.verify(token or "")
        with self.uow_factory() as uow:
            _live_user(uow, claims)
            refreshed = claims.token_type is TokenType.REFRESH
            if refreshed and not uow.refresh_tokens.is_live(claims.jti, now=self.clock.now()):
                raise AuthenticationFailed(REVOKED)


@frozen
class Authenticate:
    """What an access token says, by its signature alone (the revocation check is
    `CheckAccount`'s, or the cache's)."""

    tokens: TokenService

    def __call__(self, access_token: str) -> TokenClaims:
        return self.tokens.verify(access_token, TokenType.ACCESS)


@frozen
class CheckAccount:
    """Whether the account still accepts a token; when its tokens are valid from (seconds
    since the epoch, 0 for always), for the cache to remember."""

    uow_factory: UnitOfWorkFactory

    def __call__(self, claims: TokenClaims) -> float:
        with self.uow_factory() as uow:
            user = _live_user(uow, claims)
        return user.tokens_valid_after.timestamp() if user.tokens_valid_after else 0.0


@frozen
class GetCurrentUser:
    uow_factory: UnitOfWorkFactory

    def __call__(self, user_id: int) -> UserView:
        with self.uow_factory() as uow:
            return UserView.of(active_user(uow, user_id))
