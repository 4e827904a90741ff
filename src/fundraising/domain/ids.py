"""Ids: positive 64-bit integers, as the databases' keys are; anything else names nothing."""

from fundraising.domain.errors import InvalidValue

MAX_ID = 2**63 - 1


def is_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


def parse_id(value: int) -> int:
    if not is_id(value):
        raise InvalidValue("Must be a positive 64-bit integer.")
    return value
