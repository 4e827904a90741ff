"""E-mail addresses (email-validator) and deceptive usernames (Unicode confusables)."""

from __future__ import annotations

from confusable_homoglyphs import confusables
from email_validator import EmailNotValidError, validate_email

from fundraising.domain.errors import InvalidValue
from fundraising.domain.user import EMAIL_MAX


class LibraryIdentityRules:
    """The checks django-registration makes, with the libraries it makes them with."""

    def email(self, value: str) -> str:
        try:
            checked = validate_email(value.strip(), check_deliverability=False)
        except EmailNotValidError as error:
            raise InvalidValue(f"Enter a valid e-mail address: {error}") from None
        address = checked.normalized.lower()
        if len(address) > EMAIL_MAX:
            raise InvalidValue(f"Enter a valid e-mail address of at most {EMAIL_MAX} characters.")
        return address

    def deceptive(self, username: str) -> bool:
        return bool(confusables.is_dangerous(username))
