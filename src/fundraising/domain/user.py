"""Users: who opens collects and who donates, and how their names are shown."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from attrs import define

from fundraising.domain.errors import InvalidValue

USERNAME_MAX = 150
NAME_MAX = 150
EMAIL_MAX = 254
ANONYMOUS = "Anonymous"

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
    name = value.strip()
    if len(name) > NAME_MAX:
        raise InvalidValue(f"Must be at most {NAME_MAX} characters long.")
    return name


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

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name, self.username)
