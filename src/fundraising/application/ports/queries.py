"""The read side: lists and details shaped for the contract, each in a bounded number of queries."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from typing import Protocol

from attrs import frozen

from fundraising.application.pagination import PageRequest
from fundraising.application.views import (
    CollectDetail,
    CollectView,
    ExportedPayment,
    FeedEntry,
    Page,
    ParticipantView,
    PaymentView,
    UpdateView,
)
from fundraising.domain.collect import Occasion
from fundraising.domain.membership import Access
from fundraising.domain.money import Money

FEED_IN_DETAIL = 20


class CollectOrdering(enum.StrEnum):
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    END_DATE = "end_date"
    END_DATE_DESC = "-end_date"
    COLLECTED_AMOUNT = "collected_amount"
    COLLECTED_AMOUNT_DESC = "-collected_amount"

    @property
    def field(self) -> str:
        return self.value.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


@frozen
class CollectFilter:
    """Public collects only, unless `member_id` asks for the collects of that member (of any
    visibility: `?mine=true`)."""

    occasion: Occasion | None = None
    is_active: bool | None = None
    author_id: int | None = None
    search: str | None = None
    ordering: CollectOrdering = CollectOrdering.CREATED_AT_DESC
    member_id: int | None = None


class CollectQueries(Protocol):
    def list(self, filters: CollectFilter, page: PageRequest) -> Page[CollectView]:
        """A page of collects; past the end it holds no items (the use case answers 404)."""
        ...

    def detail(self, collect_id: int) -> CollectDetail | None:
        """The collect and its newest `FEED_IN_DETAIL` feed entries, from one snapshot."""
        ...

    def feed(self, collect_id: int, page: PageRequest) -> Page[FeedEntry] | None:
        """Completed payments, newest first; None when the collect does not exist."""
        ...

    def access(self, collect_id: int) -> Access | None:
        """Who may see the collect; None when it does not exist."""
        ...

    def access_and_detail(self, collect_id: int) -> tuple[Access, CollectDetail] | None:
        """`access` and `detail` read together (one connection, one transaction)."""
        ...

    def participant(self, collect_id: int, user_id: int) -> ParticipantView | None: ...

    def participants(
        self, collect_id: int, paid: bool | None, page: PageRequest
    ) -> Page[ParticipantView]:
        """Members by `joined_at`, then id; `paid` keeps those who paid something (True) or
        nothing (False)."""
        ...

    def exported(self, collect_id: int) -> Iterator[ExportedPayment]:
        """Its completed and refunded payments, oldest first, read while they are consumed
        (memory stays flat whatever their number; the iterator holds a connection)."""
        ...

    def updates(self, collect_id: int, page: PageRequest) -> Page[UpdateView]:
        """The collect's updates, newest first."""
        ...


class PaymentQueries(Protocol):
    def of_payer(self, payer_id: int, page: PageRequest) -> Page[PaymentView]: ...


@frozen
class Totals:
    collected: Money
    donations: int
    donors: int


@frozen
class Drift:
    """A collect whose stored counters differ from what its completed payments say."""

    collect_id: int
    stored: Totals
    actual: Totals


class TotalsAudit(Protocol):
    def drifts(self) -> Sequence[Drift]:
        """Every collect whose counters disagree with its completed payments."""
        ...
