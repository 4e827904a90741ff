"""The identity rules' adapter: e-mail addresses (email-validator) and deceptive usernames."""

from __future__ import annotations

import pytest

from fundraising.adapters.security.identity import LibraryIdentityRules
from fundraising.domain.errors import InvalidValue

rules = LibraryIdentityRules()
parse_email = rules.email


# e-mails


def test_an_email_is_trimmed_and_lower_cased():
    assert parse_email("  Ivan.Petrov@Example.COM ") == "ivan.petrov@example.com"


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@mail.example.org", "иван@пример.рф"])
def test_plausible_emails_are_accepted(email):
    assert parse_email(email) == email


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plain",
        "a@b",
        "a@@b.com",
        "@b.com",
        "a@.com",
        "a@b..com",
        "a@b.com.",
        "a b@c.com",
        "a@b c.com",
        "a@b.com@c.com",
        "x,victim@example.com",
        "victim@example.com,x@evil.test",
        "Victim <victim@example.com>",
        '"a,b"@example.com',
        "a@b.com\nBcc: c@d.com",
    ],
)
def test_invalid_emails_are_rejected(email):
    with pytest.raises(InvalidValue, match="valid e-mail"):
        parse_email(email)


def test_an_email_may_be_254_characters_long_but_no_longer():
    domain = "@" + "d" * 63 + "." + "e" * 63 + ".com"  # 132 characters
    assert parse_email("l" * (254 - len(domain)) + domain)
    with pytest.raises(InvalidValue):
        parse_email("l" * (255 - len(domain)) + domain)


@pytest.mark.parametrize("username", ["pаypal", "alicе", "ivаn_petrov"])  # Cyrillic а / е
def test_latin_mixed_with_look_alike_cyrillic_is_deceptive(username):
    assert rules.deceptive(username)


@pytest.mark.parametrize("username", ["paypal", "иван", "Иван_Петров", "ivan_2026", "李雷"])
def test_one_alphabet_is_not_deceptive(username):
    assert not rules.deceptive(username)
