"""Money: an exact amount of roubles with two decimal places, never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from attrs import field, frozen

from fundraising.domain.errors import InvalidValue

CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 10


def _quantized(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal):
        raise TypeError("Money holds a Decimal, never a float or an int")
    return amount.quantize(CENT)


@frozen(order=True)
class Money:
    """A non-negative amount in RUB. Build it from user input with `Money.parse`."""

    amount: Decimal = field(converter=_quantized)

    def __attrs_post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("Money is never negative")

    @classmethod
    def zero(cls) -> Money:
        return cls(Decimal(0))

    @classmethod
    def of(cls, text: str) -> Money:
        """An amount written in code, e.g. `Money.of("150.00")`."""
        return cls(Decimal(text))

    @classmethod
    def parse(cls, value: object) -> Money:
        """Parse a client's amount: a decimal string, an int or a Decimal; positive, ≤ 2 places."""
        if isinstance(value, float):
            raise TypeError("money is never parsed from a float")
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise InvalidValue('Must be a decimal number such as "150.00".')
        try:
            amount = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise InvalidValue('Must be a decimal number such as "150.00".') from None
        if not amount.is_finite():
            raise InvalidValue("Must be a finite number.")
        # The exponent is looked at before any arithmetic: `1e400000` is refused, not expanded.
        if amount and amount.adjusted() >= MAX_INTEGER_DIGITS:
            raise InvalidValue(
                f"Must have no more than {MAX_INTEGER_DIGITS} digits before the point."
            )
        if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
            raise InvalidValue("Must have no more than 2 decimal places.")
        if amount <= 0:
            raise InvalidValue("Must be greater than zero.")
        return cls(amount)

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + other.amount)

    def __str__(self) -> str:
        return str(self.amount)
