"""Payments: donations to a collect, who may see them and how donors are named in a feed."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import define

from fundraising.domain.errors import Conflict, FieldErrors, InvalidValue
from fundraising.domain.ids import parse_id
from fundraising.domain.money import Money
from fundraising.domain.user import ANONYMOUS

MIN_DONATION = Money.of("1.00")
MAX_DONATION = Money.of("10000000.00")
TRANSACTION_ID_MAX = 255
COMMENT_MAX = 500
METADATA_MAX_BYTES = 4096
METADATA_MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1

_TRANSACTION_ID = re.compile(rf"[\x21-\x7e]{{1,{TRANSACTION_ID_MAX}}}")


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDED = "refunded"


class DonationVisibility(enum.StrEnum):
    """What a collect's feed shows of a donation: everything, the donor without the amount,
    or the amount without the donor. The wish (`comment`) is shown in every case."""

    PUBLIC = "public"
    HIDE_AMOUNT = "hide_amount"
    ANONYMOUS = "anonymous"


def donation_visibility(
    visibility: DonationVisibility | None, is_anonymous: bool | None
) -> DonationVisibility:
    """The visibility a donor asked for with either field (or both, if they agree)."""
    if visibility is None:
        return DonationVisibility.ANONYMOUS if is_anonymous else DonationVisibility.PUBLIC
    if is_anonymous is not None and is_anonymous != (visibility is DonationVisibility.ANONYMOUS):
        raise InvalidValue(
            f'Contradicts "is_anonymous": {str(is_anonymous).lower()}; '
            '"is_anonymous": true is "visibility": "anonymous".'
        )
    return visibility


def check_donation_amount(amount: Money) -> Money:
    if not MIN_DONATION <= amount <= MAX_DONATION:
        raise InvalidValue(f"Must be from {MIN_DONATION} to {MAX_DONATION}.")
    return amount


def parse_transaction_id(value: str) -> str:
    if not _TRANSACTION_ID.fullmatch(value):
        raise InvalidValue(
            f"Must be 1 to {TRANSACTION_ID_MAX} printable ASCII characters without spaces."
        )
    return value


def parse_comment(value: str | None) -> str | None:
    if value is not None and len(value) > COMMENT_MAX:
        raise InvalidValue(f"Must be at most {COMMENT_MAX} characters long.")
    return value


def _rule_broken(value: object) -> str | None:
    """What a metadata value breaks of the nesting and number rules, found without recursion."""
    pending = [(value, 0)]
    while pending:
        current, level = pending.pop()
        if isinstance(current, Mapping | list):
            if level == METADATA_MAX_DEPTH:
                return f"Must be nested at most {METADATA_MAX_DEPTH} levels deep."
            children = current.values() if isinstance(current, Mapping) else current
            pending.extend((child, level + 1) for child in children)
        elif isinstance(current, int) and abs(current) > MAX_SAFE_INTEGER:
            return "Integers must be within ±(2^53 − 1), as every JSON reader can hold them."
    return None


def parse_metadata(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A JSON object of at most 4 KiB (compact UTF-8) nested at most 32 levels deep, whose
    numbers are safe integers or finite doubles."""
    if value is None:
        return None
    if broken := _rule_broken(value):
        raise InvalidValue(broken)
    try:
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidValue("Must be a JSON object of finite numbers, strings and lists.") from None
    if len(encoded.encode()) > METADATA_MAX_BYTES:
        raise InvalidValue(f"Must be at most {METADATA_MAX_BYTES} bytes as compact JSON.")
    return dict(value)


def donor_name(*, is_anonymous: bool, payer_name: str | None) -> str:
    """How a payment's donor appears in a public feed: the payer's display name, unless the
    payment is anonymous or its payer is gone."""
    if is_anonymous or payer_name is None:
        return ANONYMOUS
    return payer_name


@define(eq=False)
class Payment:
    id: int | None
    collect_id: int
    payer_id: int | None
    amount: Money
    status: PaymentStatus
    transaction_id: str
    payment_date: datetime
    visibility: DonationVisibility = DonationVisibility.PUBLIC
    comment: str | None = None
    metadata: dict[str, Any] | None = None
    refunded_at: datetime | None = None
    refund_reason: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.visibility is DonationVisibility.ANONYMOUS

    @classmethod
    def donation(
        cls,
        *,
        collect_id: int | None,
        payer_id: int,
        amount: Money | None,
        transaction_id: str | None,
        is_anonymous: bool | None,
        comment: str | None,
        metadata: Mapping[str, Any] | None,
        now: datetime,
        visibility: DonationVisibility | None = None,
        errors: FieldErrors | None = None,
    ) -> Payment:
        """A completed donation; every invalid or missing field is reported at once."""
        errors = FieldErrors() if errors is None else errors
        errors.require("collect", collect_id)
        errors.require("amount", amount)
        errors.require("transaction_id", transaction_id)
        if collect_id is not None:
            errors.check("collect", lambda: parse_id(collect_id))
        if amount is not None:
            errors.check("amount", lambda: check_donation_amount(amount))
        if transaction_id is not None:
            errors.check("transaction_id", lambda: parse_transaction_id(transaction_id))
        errors.check("comment", lambda: parse_comment(comment))
        checked_metadata = errors.check("metadata", lambda: parse_metadata(metadata))
        shown = errors.check("visibility", lambda: donation_visibility(visibility, is_anonymous))
        errors.raise_if_any()
        assert collect_id is not None and amount is not None and transaction_id is not None
        assert shown is not None
        return cls(
            id=None,
            collect_id=collect_id,
            payer_id=payer_id,
            amount=amount,
            status=PaymentStatus.COMPLETED,
            transaction_id=transaction_id,
            payment_date=now,
            visibility=shown,
            comment=comment,
            metadata=checked_metadata,
        )

    def refund(self, now: datetime, reason: str | None = None) -> bool:
        """Give the money back; False when it was given back already (nothing changes)."""
        if self.status is PaymentStatus.REFUNDED:
            return False
        if self.status is not PaymentStatus.COMPLETED:
            raise Conflict(f"Only a completed payment can be refunded; this one is {self.status}.")
        self.status = PaymentStatus.REFUNDED
        self.refunded_at = now
        self.refund_reason = reason
        return True

    def is_visible_to(self, user_id: int, *, runs_collect: bool) -> bool:
        """Its payer and those who run the collect (author, organisers) see a payment."""
        return runs_collect or user_id == self.payer_id

    def is_retry_of(self, *, payer_id: int, collect_id: int, amount: Money) -> bool:
        """Whether a donation with this payment's transaction id is the same donation sent again."""
        return (self.payer_id, self.collect_id, self.amount) == (payer_id, collect_id, amount)
