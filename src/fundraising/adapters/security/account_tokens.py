"""E-mailed account tokens, after Django's PasswordResetTokenGenerator: `<time>-<signature>`,
the signature an HMAC-SHA256 (256 bits) over the account's id, what the token is for, the
account's current state (`User.token_binding`) and the time it was made. They keep no state:
a used token fails because using it changed that state."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from fundraising.domain.user import AccountToken, User

_SALT = b"fundraising.account-tokens"


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


class HmacAccountTokens:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(_SALT, secret.encode(), hashlib.sha256).digest()

    def make(self, user: User, purpose: AccountToken, *, now: datetime) -> str:
        made = int(now.timestamp())
        return f"{_b36(made)}-{self._signature(user, purpose, made)}"

    def check(
        self, user: User, purpose: AccountToken, token: str, *, now: datetime, max_age: timedelta
    ) -> bool:
        made_text, _, signature = token.partition("-")
        if not made_text.isascii() or not made_text.isalnum() or len(made_text) > 13:
            return False
        made = int(made_text, 36)
        expected = self._signature(user, purpose, made)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return False
        age = now - datetime.fromtimestamp(made, UTC)
        return timedelta(seconds=-60) <= age <= max_age  # a minute of clock skew, no more

    def _signature(self, user: User, purpose: AccountToken, made: int) -> str:
        message = f"{purpose}|{user.id}|{user.token_binding(purpose)}|{made}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
