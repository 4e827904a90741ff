"""Users: who opens collects and who donates, and how their names are shown."""

from __future__ import annotations

import re
from datetime import datetime

from attrs import define

from fundraising.domain.errors import InvalidValue

USERNAME_MAX = 150
NAME_MAX = 150
EMAIL_MAX = 254
ANONYMOUS = "Anonymous"

_USERNAME = re.compile(r"[\w.@+-]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def parse_username(value: str) -> str:
    if not 1 <= len(value) <= USERNAME_MAX:
        raise InvalidValue(f"Must be 1 to {USERNAME_MAX} characters long.")
    if not _USERNAME.fullmatch(value):
        raise InvalidValue("May contain only letters, digits and @ . + - _ characters.")
    return value


def parse_email(value: str) -> str:
    """A plausible address, lower-cased: e-mails are unique case-insensitively."""
    address = value.strip().lower()
    if len(address) > EMAIL_MAX or not _EMAIL.fullmatch(address):
        raise InvalidValue("Enter a valid e-mail address.")
    return address


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
