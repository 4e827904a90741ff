"""Users: who opens collects and who donates, and how their names are shown."""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime

from attrs import define, field

from fundraising.domain.errors import InvalidValue

USERNAME_MAX = 150
NAME_MAX = 150
EMAIL_MAX = 254
ANONYMOUS = "Anonymous"
DELETED_USER = "Deleted user"
UNUSABLE_PASSWORD = "!"  # no hash verifies against it


class AccountToken(enum.StrEnum):
    """What a token sent by e-mail lets its holder do, once."""

    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"


_USERNAME = re.compile(r"[\w.@+-]+")


def parse_username(value: str) -> str:
    """A username as stored: in NFKC form (full-width `ａｌｉｃｅ` is `alice`), 1–150 of letters,
    digits and @.+-_, and at most 150 characters once case is folded too."""
    name = unicodedata.normalize("NFKC", value)
    if not 1 <= len(name) <= USERNAME_MAX or len(username_key(name)) > USERNAME_MAX:
        raise InvalidValue(f"Must be 1 to {USERNAME_MAX} characters long.")
    if not _USERNAME.fullmatch(name):
        raise InvalidValue("May contain only letters, digits and @ . + - _ characters.")
    return name


def username_key(username: str) -> str:
    """What makes usernames the same: `Alice`, `alice` and `ａｌｉｃｅ` name one account."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def parse_name(value: str) -> str:
    """The name without surrounding spaces; its length is the one sent."""
    if len(value) > NAME_MAX:
        raise InvalidValue(f"Must be at most {NAME_MAX} characters long.")
    return value.strip()


def display_name(first_name: str, last_name: str, username: str) -> str:
    """ "First Last" when the user gave a name, else the username."""
    return f"{first_name} {last_name}".strip() or username


@define(eq=False)
class User:
    id: int | None
    username: str
    email: str
    password_hash: str
    first_name: str
    last_name: str
    is_active: bool
    date_joined: datetime
    email_verified: bool = False
    tokens_valid_after: datetime | None = None
    deleted_at: datetime | None = None
    revoked_now: bool = field(default=False, kw_only=True)  # not stored: an event to publish

    @property
    def display_name(self) -> str:
        if self.deleted_at is not None:
            return DELETED_USER
        return display_name(self.first_name, self.last_name, self.username)

    def accepts_token(self, issued_at: datetime) -> bool:
        """An active account accepts the tokens issued since it last revoked them all."""
        revoked = self.tokens_valid_after is not None and issued_at < self.tokens_valid_after
        return self.is_active and self.deleted_at is None and not revoked

    def token_binding(self, purpose: AccountToken) -> str:
        """What an e-mailed token is bound to: it stops working once this changes — it was
        used (the address got verified, the password changed), or the address changed."""
        if purpose is AccountToken.ACTIVATION:
            return f"{self.email}|{self.email_verified}"
        return f"{self.email}|{self.password_hash}|{self.tokens_valid_after}"

    def revoke_tokens(self, now: datetime) -> None:
        """Every token issued before `now` stops working at once (and is refused by cache hits
        before the change is even committed: `revoked_now`)."""
        self.tokens_valid_after = now
        self.revoked_now = True

    def change_password(self, password_hash: str, now: datetime) -> None:
        self.password_hash = password_hash
        self.revoke_tokens(now)

    def change_email(self, email: str) -> bool:
        """A new address is unverified until its owner follows the link sent to it."""
        if email == self.email:
            return False
        self.email = email
        self.email_verified = False
        return True

    def verify_email(self) -> None:
        self.email_verified = True

    def deactivate(self, now: datetime) -> None:
        self.is_active = False
        self.revoke_tokens(now)

    def erase(self, now: datetime) -> None:
        """The account leaves: its personal data goes (its name and address become free),
        its tokens stop working, its records stay under "Deleted user"."""
        assert self.id is not None
        self.username = f"deleted-{self.id}"
        self.email = f"deleted-{self.id}@deleted.invalid"  # unique, and never deliverable
        self.first_name = self.last_name = ""
        self.password_hash = UNUSABLE_PASSWORD
        self.email_verified = False
        self.is_active = False
        self.deleted_at = now
        self.revoke_tokens(now)
