"""Types of request fields that msgspec cannot know, with their conversion and JSON Schema."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fundraising.domain.errors import InvalidValue
from fundraising.domain.money import Money
from fundraising.domain.payment import MAX_SAFE_INTEGER, METADATA_MAX_BYTES, METADATA_MAX_DEPTH


class Amount:
    """Marks a money field: a decimal string or a JSON number, parsed exactly into `Money`."""


class DonationAmount(Amount):
    """Marks a donation's amount: an `Amount` from 1.00 to 10,000,000.00."""


class Timestamp:
    """Marks an ISO 8601 date-time; one without an offset is taken as UTC."""


class JsonObject:
    """Marks a free-form JSON object (payment metadata)."""


class CoverFile:
    """Marks the cover upload of a multipart form."""


class Unrepresentable:
    """A JSON number that no exact type holds: an exponent beyond any Decimal's, or an integer
    literal of thousands of digits. Whatever field it is in is invalid."""

    def __repr__(self) -> str:
        return "<unrepresentable number>"


UNREPRESENTABLE = Unrepresentable()
_SAFE_DIGITS = 16  # every integer within ±(2^53 - 1) has fewer digits


def json_number(text: str) -> Decimal | Unrepresentable:
    """The JSON decoder's hook for numbers with a fraction or an exponent: exact, and cheap
    whatever the exponent (nothing is expanded into digits here)."""
    try:
        return Decimal(text)
    except InvalidOperation:
        return UNREPRESENTABLE


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidValue("Must be an ISO 8601 date-time string.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValue("Must be an ISO 8601 date-time such as 2030-01-31T18:00:00Z.") from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidValue("Must be a date-time between the years 1 and 9999 in UTC.") from None


def _number(value: Decimal | Unrepresentable) -> int | float:
    """A decimal as a JSON value is stored: an int when it is a small whole number, else a
    finite double. Digits are never expanded: `1e400000` costs as little as `1.5`."""
    if isinstance(value, Decimal) and value.is_finite():
        if value.adjusted() < _SAFE_DIGITS and value == value.to_integral_value():
            return int(value)
        number = float(value)
        if math.isfinite(number):
            return number
    raise InvalidValue("Numbers must be integers within ±(2^53 − 1) or finite doubles.")


def _plain(value: object) -> object:
    """JSON values as stored: exact decimals become ints, or floats (metadata is not money)."""
    if isinstance(value, Decimal | Unrepresentable):
        return _number(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _json_object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidValue("Must be a JSON object.")
    plain = _plain(value)
    assert isinstance(plain, dict)
    return plain


def _not_a_file(value: object) -> None:
    raise InvalidValue("Upload the cover as a file (multipart/form-data), or send it empty.")


CONVERTERS: dict[type, Callable[[Any], Any]] = {
    Amount: Money.parse,
    DonationAmount: Money.parse,  # its bounds are the domain's to check
    Timestamp: _timestamp,
    JsonObject: _json_object,
    CoverFile: _not_a_file,
}


def _amount(pattern: str, bounds: dict[str, float], description: str) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "string", "pattern": pattern},
            {"type": "number", "multipleOf": 0.01, **bounds},
        ],
        "description": f"{description}, as a string or a number (at most two decimal places).",
        "examples": ["150.00"],
    }


SCHEMAS: dict[type, dict[str, Any]] = {
    # Written without leading zeros (the service accepts them too).
    Amount: _amount(
        r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$",
        {"exclusiveMinimum": 0, "maximum": 9999999999.99},
        "Roubles, more than 0",
    ),
    DonationAmount: _amount(
        r"^([1-9][0-9]{0,6}(\.[0-9]{1,2})?|10000000(\.0{1,2})?)$",
        {"minimum": 1, "maximum": 10000000},
        "Roubles, from 1.00 to 10,000,000.00",
    ),
    Timestamp: {"type": "string", "format": "date-time", "examples": ["2030-01-31T18:00:00Z"]},
    JsonObject: {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {"type": "integer", "minimum": -MAX_SAFE_INTEGER, "maximum": MAX_SAFE_INTEGER},
                {"type": "number", "not": {"type": "integer"}},
                {"type": ["string", "boolean", "null", "array", "object"]},
            ]
        },
        "description": f"Integers within ±(2^53 − 1); nested at most {METADATA_MAX_DEPTH} levels, "
        f"at most {METADATA_MAX_BYTES} bytes as compact JSON.",
    },
    CoverFile: {
        "type": "string",
        "format": "binary",
        "description": "JPEG, PNG or WebP; sent empty: none (on PATCH: removes the cover).",
    },
}


def schema_of_custom(kind: type) -> dict[str, Any]:
    """msgspec's `schema_hook`."""
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise NotImplementedError(f"no schema for {kind}") from None
