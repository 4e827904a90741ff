"""Money: parsing client input, exact arithmetic, two decimals on output."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundraising.domain.errors import InvalidValue
from fundraising.domain.money import Money

TWO_DECIMALS = re.compile(r"\d+\.\d{2}")
MAX_CENTS = 10**12 - 1  # 9,999,999,999.99: ten integer digits

cents = st.integers(min_value=1, max_value=MAX_CENTS)


@st.composite
def decimals_with_at_most_two_places(draw: st.DrawFn) -> Decimal:
    """Positive decimals below 10^10 with 0, 1 or 2 places, in any of their spellings."""
    amount = Decimal(draw(cents)).scaleb(-2)
    spelling = draw(st.sampled_from(["as-is", "normalized", "padded"]))
    if spelling == "normalized":
        return amount.normalize()
    if spelling == "padded":
        return amount.quantize(Decimal("0.01"))
    return amount


def test_parse_accepts_a_decimal_string():
    assert Money.parse("150.00").amount == Decimal("150.00")


def test_parse_strips_surrounding_whitespace():
    assert Money.parse("  150.5 ") == Money.of("150.50")


def test_parse_accepts_an_int():
    assert Money.parse(7) == Money.of("7.00")


def test_parse_accepts_a_decimal():
    assert Money.parse(Decimal("0.01")) == Money.of("0.01")


def test_parse_accepts_ten_integer_digits():
    assert str(Money.parse("9999999999.99")) == "9999999999.99"


def test_of_builds_an_amount_written_in_code():
    assert str(Money.of("1.5")) == "1.50"


def test_zero_is_zero_with_two_places():
    assert str(Money.zero()) == "0.00"
    assert Money.zero().amount == 0


def test_str_always_shows_two_decimals():
    assert str(Money.parse("10")) == "10.00"
    assert str(Money.parse("0.1")) == "0.10"


def test_addition_is_exact_where_floats_are_not():
    assert 0.1 + 0.2 != 0.3
    assert Money.of("0.10") + Money.of("0.20") == Money.of("0.30")


def test_money_is_ordered_by_amount():
    small, middle, large = Money.of("1.00"), Money.of("2.50"), Money.of("10.00")
    assert small < middle < large
    assert sorted([large, small, middle]) == [small, middle, large]
    assert max(small, large) == large


def test_money_is_a_value_compared_and_hashed_by_amount():
    assert Money.of("10") == Money.of("10.00")
    assert len({Money.of("10"), Money.of("10.00"), Money.of("10.0")}) == 1


def test_money_is_never_built_from_a_float():
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]


def test_money_is_never_negative():
    with pytest.raises(ValueError, match="negative"):
        Money(Decimal("-0.01"))


def test_parse_rejects_a_float_as_a_programming_error():
    with pytest.raises(TypeError):
        Money.parse(1.5)


@pytest.mark.parametrize(
    "value",
    [True, False, None, [], {}, b"10", "abc", "", "  ", "1,50", "ten"],
)
def test_parse_rejects_what_is_not_a_decimal_number(value):
    with pytest.raises(InvalidValue, match="decimal number"):
        Money.parse(value)


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN")]
)
def test_parse_rejects_nan_and_infinity(value):
    with pytest.raises(InvalidValue, match="finite"):
        Money.parse(value)


@pytest.mark.parametrize("value", ["1.005", "0.001", "150.999", Decimal("0.125")])
def test_parse_rejects_three_decimal_places(value):
    with pytest.raises(InvalidValue, match="2 decimal places"):
        Money.parse(value)


@pytest.mark.parametrize(
    "value", ["10000000000", "10000000000.00", 10**10, "99999999999.99", "-10000000000"]
)
def test_parse_rejects_eleven_integer_digits(value):
    with pytest.raises(InvalidValue, match="10 digits"):
        Money.parse(value)


@pytest.mark.parametrize("value", ["0", "0.00", "-0", 0, Decimal(0)])
def test_parse_rejects_zero(value):
    with pytest.raises(InvalidValue, match="greater than zero"):
        Money.parse(value)


@pytest.mark.parametrize("value", ["-1", "-0.01", -5, Decimal("-150.00")])
def test_parse_rejects_negative_amounts(value):
    with pytest.raises(InvalidValue, match="greater than zero"):
        Money.parse(value)


@settings(max_examples=100, deadline=None)
@given(decimals_with_at_most_two_places())
def test_any_amount_round_trips_through_its_string(amount):
    money = Money.parse(amount)
    text = str(money)
    assert TWO_DECIMALS.fullmatch(text)
    assert Money.parse(text) == money
    assert money.amount == amount


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=10**10 - 1))
def test_an_int_and_its_decimal_spellings_parse_equal(number):
    assert Money.parse(number) == Money.parse(str(number))
    assert Money.parse(str(number)) == Money.parse(f"{number}.00")
    assert Money.parse(f"{number}.0") == Money.parse(f"{number}.00")


@settings(max_examples=100, deadline=None)
@given(st.lists(cents, min_size=1, max_size=20))
def test_addition_is_exact(amounts_in_cents):
    decimals = [Decimal(c).scaleb(-2) for c in amounts_in_cents]
    total = sum((Money.parse(d) for d in decimals), Money.zero())
    assert total == Money(sum(decimals, Decimal(0)))
    assert total.amount == Decimal(sum(amounts_in_cents)).scaleb(-2)
