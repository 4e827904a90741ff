"""Ids: positive 64-bit integers, as the databases' keys are; anything else names nothing."""

MAX_ID = 2**63 - 1


def is_id(value: int) -> bool:
    return 1 <= value <= MAX_ID
