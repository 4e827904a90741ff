"""The password policy: long enough, not numeric, not common, not like the username."""

from __future__ import annotations

import gzip
import re
from difflib import SequenceMatcher
from functools import cache
from importlib.resources import files

from fundraising.domain.errors import InvalidValue

MIN_LENGTH = 8
MAX_LENGTH = 1024
MAX_SIMILARITY = 0.7


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    data = files("fundraising.domain").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def _too_similar(password: str, attribute: str) -> bool:
    password = password.lower()
    attribute = attribute.lower()
    parts = {attribute, *re.split(r"\W+", attribute)} - {""}
    return any(
        SequenceMatcher(a=password, b=part).quick_ratio() >= MAX_SIMILARITY
        and SequenceMatcher(a=password, b=part).ratio() >= MAX_SIMILARITY
        for part in parts
    )


def check_password(password: str, *, username: str, email: str = "") -> str:
    """Return the password if the policy accepts it, else raise one message naming every problem."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(
            f"This password is too short: it must contain at least {MIN_LENGTH} characters."
        )
    if len(password) > MAX_LENGTH:
        problems.append(f"This password is too long: at most {MAX_LENGTH} characters.")
    if password.isdigit():
        problems.append("This password is entirely numeric.")
    if password.lower().strip() in common_passwords():
        problems.append("This password is too common.")
    if any(_too_similar(password, value) for value in (username, email.partition("@")[0]) if value):
        problems.append("This password is too similar to the username.")
    if problems:
        raise InvalidValue(" ".join(problems))
    return password
