"""Payment rules: what a donation may carry, who sees it, retries, and how donors are named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from fundraising.domain.errors import REQUIRED, InvalidValue, ValidationFailed
from fundraising.domain.money import Money
from fundraising.domain.payment import (
    DonationVisibility,
    Payment,
    PaymentStatus,
    check_donation_amount,
    donor_name,
    parse_comment,
    parse_metadata,
    parse_transaction_id,
)
from fundraising.domain.user import User

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PAYER, AUTHOR, COLLECT = 3, 5, 11


def donation(**overrides: Any) -> Payment:
    values: dict[str, Any] = {
        "collect_id": COLLECT,
        "payer_id": PAYER,
        "amount": Money.of("150.00"),
        "transaction_id": "sber_6f1c",
        "is_anonymous": False,
        "comment": None,
        "metadata": None,
        "now": NOW,
    }
    values.update(overrides)
    return Payment.donation(**values)


def compact_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def nested_dicts(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def nested_lists(levels: int) -> dict[str, Any]:
    """A JSON object holding lists: the object is one level, each list another."""
    value: list[Any] = []
    for _ in range(levels - 2):
        value = [value]
    return {"a": value}


def user(first_name: str = "", last_name: str = "", username: str = "ivan") -> User:
    return User(
        id=PAYER,
        username=username,
        email="ivan@example.com",
        password_hash="x",
        first_name=first_name,
        last_name=last_name,
        is_active=True,
        date_joined=NOW,
    )


# a donation


def test_a_donation_is_completed_at_once_with_the_given_fields():
    payment = donation(is_anonymous=True, comment="Happy birthday", metadata={"source": "app"})
    assert payment.id is None
    assert payment.status is PaymentStatus.COMPLETED
    assert payment.payment_date == NOW
    assert (payment.collect_id, payment.payer_id) == (COLLECT, PAYER)
    assert payment.amount == Money.of("150.00")
    assert payment.transaction_id == "sber_6f1c"
    assert payment.is_anonymous
    assert payment.comment == "Happy birthday"
    assert payment.metadata == {"source": "app"}


@pytest.mark.parametrize(
    ("visibility", "is_anonymous", "expected"),
    [
        (None, None, DonationVisibility.PUBLIC),
        (None, False, DonationVisibility.PUBLIC),
        (None, True, DonationVisibility.ANONYMOUS),
        (DonationVisibility.HIDE_AMOUNT, None, DonationVisibility.HIDE_AMOUNT),
        (DonationVisibility.HIDE_AMOUNT, False, DonationVisibility.HIDE_AMOUNT),
        (DonationVisibility.ANONYMOUS, True, DonationVisibility.ANONYMOUS),
        (DonationVisibility.PUBLIC, False, DonationVisibility.PUBLIC),
    ],
)
def test_either_field_or_both_agreeing_choose_the_visibility(visibility, is_anonymous, expected):
    payment = donation(visibility=visibility, is_anonymous=is_anonymous)

    assert payment.visibility is expected
    assert payment.is_anonymous is (expected is DonationVisibility.ANONYMOUS)


@pytest.mark.parametrize(
    ("visibility", "is_anonymous"),
    [
        (DonationVisibility.ANONYMOUS, False),
        (DonationVisibility.PUBLIC, True),
        (DonationVisibility.HIDE_AMOUNT, True),
    ],
)
def test_contradicting_visibility_and_is_anonymous_are_refused_on_visibility(
    visibility, is_anonymous
):
    with pytest.raises(ValidationFailed) as raised:
        donation(visibility=visibility, is_anonymous=is_anonymous)

    assert [error.field for error in raised.value.errors] == ["visibility"]
    assert "is_anonymous" in raised.value.errors[0].message


@pytest.mark.parametrize("amount", ["1.00", "1.01", "9999999.99", "10000000.00"])
def test_donation_amounts_from_one_to_ten_million_are_accepted(amount):
    assert check_donation_amount(Money.of(amount)) == Money.of(amount)


@pytest.mark.parametrize("amount", ["0.01", "0.99", "10000000.01", "9999999999.99"])
def test_donation_amounts_outside_the_bounds_are_rejected(amount):
    with pytest.raises(InvalidValue, match=r"from 1\.00 to 10000000\.00"):
        check_donation_amount(Money.of(amount))


def test_a_donation_reports_every_invalid_field_at_once():
    with pytest.raises(ValidationFailed) as raised:
        donation(
            amount=Money.of("0.50"),
            transaction_id="has space",
            comment="x" * 501,
            metadata={"k": float("nan")},
        )
    assert [e.field for e in raised.value.errors] == [
        "amount",
        "transaction_id",
        "comment",
        "metadata",
    ]


# transaction id


@pytest.mark.parametrize(
    "value",
    [
        "a",
        "x" * 255,
        "sber_6f1c-0001.ok",
        "".join(chr(code) for code in range(0x21, 0x7F)),
    ],
)
def test_transaction_ids_of_printable_ascii_are_accepted(value):
    assert parse_transaction_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * 256,
        "has space",
        " leading",
        "tab\there",
        "trailing-newline\n",
        "del\x7f",
        "nul\x00",
        "кириллица",
        "é",
        "emoji🙂",
    ],
)
def test_transaction_ids_outside_printable_ascii_or_too_long_are_rejected(value):
    with pytest.raises(InvalidValue, match="printable ASCII"):
        parse_transaction_id(value)


# comment


def test_a_missing_comment_is_fine():
    assert parse_comment(None) is None


def test_a_comment_of_500_characters_is_accepted():
    assert parse_comment("щ" * 500) == "щ" * 500


def test_a_comment_of_501_characters_is_rejected():
    with pytest.raises(InvalidValue, match="500"):
        parse_comment("x" * 501)


# metadata


def test_missing_metadata_stays_missing():
    assert parse_metadata(None) is None


def test_metadata_is_returned_as_a_copy():
    original = {"a": [1, "two", None, True], "b": {"c": 1.5}}
    parsed = parse_metadata(original)
    assert parsed == original
    assert parsed is not original


def test_metadata_of_exactly_4096_bytes_with_multibyte_characters_is_accepted():
    value = {"k": "я" * 2044}  # {"k":" + 2044 × 2 bytes + "} = 4096 bytes, 2052 characters
    assert compact_size(value) == 4096
    assert parse_metadata(value) == value


def test_metadata_of_4097_bytes_is_rejected():
    value = {"k": "я" * 2044 + "a"}
    assert compact_size(value) == 4097
    with pytest.raises(InvalidValue, match="4096 bytes"):
        parse_metadata(value)


def test_metadata_is_measured_in_bytes_not_characters():
    value = {"k": "€" * 1400}  # 1408 characters but 4208 bytes
    with pytest.raises(InvalidValue, match="4096 bytes"):
        parse_metadata(value)


def test_metadata_is_measured_in_its_compact_encoding():
    value = {"k": [0] * 2043 + [10]}  # 4096 bytes compact, 6139 with ", " separators
    assert compact_size(value) == 4096
    assert parse_metadata(value) == value


def test_metadata_nested_32_levels_deep_is_accepted():
    assert parse_metadata(nested_dicts(32)) == nested_dicts(32)
    assert parse_metadata(nested_lists(32)) == nested_lists(32)


def test_metadata_nested_33_levels_deep_is_rejected():
    for value in (nested_dicts(33), nested_lists(33)):
        with pytest.raises(InvalidValue, match="32 levels"):
            parse_metadata(value)


def test_very_deeply_nested_metadata_is_rejected_as_invalid():
    with pytest.raises(InvalidValue):
        parse_metadata(nested_lists(5000))


@pytest.mark.parametrize(
    "value",
    [{"k": float("nan")}, {"k": float("inf")}, {"k": {1, 2}}, {"k": b"bytes"}, {"k": object()}],
)
def test_metadata_that_is_not_finite_json_is_rejected(value):
    with pytest.raises(InvalidValue, match="JSON object"):
        parse_metadata(value)


# visibility, retries, donor names


def test_the_payer_and_those_who_run_the_collect_may_see_a_payment():
    payment = donation()
    assert payment.is_visible_to(PAYER, runs_collect=False)
    assert payment.is_visible_to(AUTHOR, runs_collect=True)


def test_nobody_else_may_see_a_payment():
    assert not donation().is_visible_to(99, runs_collect=False)


def test_a_payment_whose_payer_is_gone_is_visible_to_those_who_run_the_collect_only():
    payment = donation()
    payment.payer_id = None
    assert payment.is_visible_to(AUTHOR, runs_collect=True)
    assert not payment.is_visible_to(PAYER, runs_collect=False)


def test_the_same_payer_collect_and_amount_is_a_retry():
    assert donation().is_retry_of(payer_id=PAYER, collect_id=COLLECT, amount=Money.of("150.00"))


def test_a_retry_compares_the_amount_by_value():
    payment = donation(amount=Money.parse(10))
    assert payment.is_retry_of(payer_id=PAYER, collect_id=COLLECT, amount=Money.parse("10.00"))


@pytest.mark.parametrize(
    ("payer_id", "collect_id", "amount"),
    [(PAYER + 1, COLLECT, "150.00"), (PAYER, COLLECT + 1, "150.00"), (PAYER, COLLECT, "150.01")],
)
def test_any_other_difference_is_not_a_retry(payer_id, collect_id, amount):
    assert not donation().is_retry_of(
        payer_id=payer_id, collect_id=collect_id, amount=Money.of(amount)
    )


def test_an_anonymous_donor_is_anonymous_even_with_a_name():
    assert donor_name(is_anonymous=True, payer_name="Иван Петров") == "Anonymous"


def test_a_donor_who_no_longer_exists_is_anonymous():
    assert donor_name(is_anonymous=False, payer_name=None) == "Anonymous"


def test_a_donor_is_shown_by_their_display_name():
    assert donor_name(is_anonymous=False, payer_name=user("Иван", "Петров").display_name) == (
        "Иван Петров"
    )


@pytest.mark.parametrize("collect_id", [0, -1, 2**63])
def test_a_collect_id_beyond_a_positive_64_bit_integer_is_invalid(collect_id):
    with pytest.raises(ValidationFailed) as raised:
        donation(collect_id=collect_id)
    assert [e.field for e in raised.value.errors] == ["collect"]


def test_missing_fields_are_named_by_the_domain_not_the_edge():
    with pytest.raises(ValidationFailed) as raised:
        donation(collect_id=None, amount=None, transaction_id=None)
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("collect", REQUIRED),
        ("amount", REQUIRED),
        ("transaction_id", REQUIRED),
    ]
