"""Users: usernames, e-mails, names as shown, and the password policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fundraising.domain.errors import InvalidValue
from fundraising.domain.passwords import check_password, common_passwords
from fundraising.domain.user import (
    User,
    display_name,
    parse_name,
    parse_username,
    username_key,
)

GOOD_PASSWORD = "tulip-orbit-glacier"


# usernames


@pytest.mark.parametrize(
    "username",
    ["ivan", "a", "x" * 150, "ivan.petrov+tag@corp-1_x", "Иван", "李雷", "ünïcödé", "007"],
)
def test_usernames_of_letters_digits_and_at_dot_plus_dash_underscore_are_accepted(username):
    assert parse_username(username) == username


@pytest.mark.parametrize(
    ("given", "stored"), [("ｉｖａｎ", "ivan"), ("Ｉｖａｎ２", "Ivan2"), ("ﬁnn", "finn")]
)
def test_usernames_are_kept_in_their_nfkc_form(given, stored):
    assert parse_username(given) == stored


@pytest.mark.parametrize(
    ("one", "other"), [("alice", "Alice"), ("alice", "ａｌｉｃｅ"), ("straße", "STRASSE")]
)
def test_usernames_the_same_after_folding_have_one_key(one, other):
    assert username_key(one) == username_key(other)


def test_a_username_longer_than_150_once_folded_is_too_long():
    with pytest.raises(InvalidValue, match="1 to 150"):
        parse_username("ß" * 100)  # "ss" × 100 once folded


@pytest.mark.parametrize("username", ["", "x" * 151, "я" * 151])
def test_usernames_must_be_1_to_150_characters_long(username):
    with pytest.raises(InvalidValue, match="1 to 150"):
        parse_username(username)


@pytest.mark.parametrize(
    "username", ["ivan petrov", "semi;colon", "slash/", "ivan\n", "quote'", "emoji🙂", "a#b"]
)
def test_usernames_with_other_characters_are_rejected(username):
    with pytest.raises(InvalidValue, match="letters, digits"):
        parse_username(username)


# names


def test_names_are_trimmed_and_may_be_150_characters_long():
    assert parse_name("  Иван ") == "Иван"
    assert parse_name("я" * 150) == "я" * 150


def test_names_over_150_characters_are_rejected():
    with pytest.raises(InvalidValue, match="150"):
        parse_name("я" * 151)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("Иван", "Петров", "Иван Петров"),
        ("Иван", "", "Иван"),
        ("", "Петров", "Петров"),
        ("", "", "ivan"),
    ],
)
def test_display_name_is_first_and_last_name_else_the_username(first, last, expected):
    assert display_name(first, last, "ivan") == expected


def test_a_user_shows_its_display_name():
    user = User(
        id=1,
        username="ivan",
        email="ivan@example.com",
        password_hash="x",
        first_name="Иван",
        last_name="Петров",
        is_active=True,
        date_joined=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert user.display_name == "Иван Петров"


# passwords


def test_a_good_password_passes_unchanged():
    assert check_password(GOOD_PASSWORD, username="ivan", email="ivan@example.com") == GOOD_PASSWORD


def test_a_password_of_seven_characters_is_too_short():
    with pytest.raises(InvalidValue, match="too short"):
        check_password("Xk9#vb2", username="ivan")


def test_a_password_of_eight_characters_is_long_enough():
    assert check_password("Xk9#vb2q", username="ivan") == "Xk9#vb2q"


def test_a_password_over_1024_characters_is_too_long():
    with pytest.raises(InvalidValue, match="too long"):
        check_password("Xk9#vb2q" * 129, username="ivan")


def test_an_entirely_numeric_password_is_rejected():
    with pytest.raises(InvalidValue, match="entirely numeric"):
        check_password("83920174615", username="ivan")


@pytest.mark.parametrize("password", ["password", "Password", "qwertyuiop", " iloveyou "])
def test_a_common_password_is_rejected_whatever_its_case(password):
    with pytest.raises(InvalidValue, match="too common"):
        check_password(password, username="ivan")


def test_the_shipped_common_password_list_is_large_and_lower_cased():
    passwords = common_passwords()
    assert len(passwords) >= 1000
    assert {"password", "qwerty", "123456"} <= passwords
    assert all(p == p.lower() for p in passwords)


@pytest.mark.parametrize(
    ("password", "username"),
    [("ivanpetrov", "ivanpetrov"), ("IvanPetrov1", "ivanpetrov"), ("petrov2026", "ivan.petrov")],
)
def test_a_password_too_similar_to_the_username_is_rejected(password, username):
    with pytest.raises(InvalidValue, match="too similar"):
        check_password(password, username=username)


def test_a_password_too_similar_to_the_email_name_is_rejected():
    with pytest.raises(InvalidValue, match="too similar"):
        check_password("zelenogorsk", username="ivan", email="zelenogorsk@example.com")


def test_a_password_unlike_the_username_is_not_too_similar():
    assert check_password(GOOD_PASSWORD, username="ivanpetrov") == GOOD_PASSWORD


def test_every_problem_is_named_in_one_message():
    with pytest.raises(InvalidValue) as raised:
        check_password("1234", username="ivan")
    message = str(raised.value)
    assert "too short" in message
    assert "entirely numeric" in message
    assert "too common" in message
