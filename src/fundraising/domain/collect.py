"""Collects: a money collection for an occasion, its rules and its cover picture."""

from __future__ import annotations

import enum
import hmac
from collections.abc import Collection
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from attrs import define, field, frozen

from fundraising.domain.errors import (
    Conflict,
    FieldErrors,
    InvalidValue,
    ValidationFailed,
)
from fundraising.domain.membership import Access, Visibility, check_hidden
from fundraising.domain.money import Money
from fundraising.domain.payment import check_donation_amount

TITLE_MAX = 255
DESCRIPTION_MAX = 10_000
BLOCK_REASON_MAX = 500
_TENTH = Decimal("0.1")


class Occasion(enum.StrEnum):
    BIRTHDAY = "birthday"
    WEDDING = "wedding"
    NEW_YEAR = "new_year"
    OTHER = "other"


class CollectStatus(enum.StrEnum):
    """Where a collect stands; only an open one accepts donations."""

    OPEN = "open"
    ENDED = "ended"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"


def collect_status(
    *,
    blocked: bool,
    is_active: bool,
    end_date: datetime | None,
    now: datetime,
    cancelled: bool = False,
) -> CollectStatus:
    """Derived in this order: blocked by an administrator, cancelled, closed, past its end,
    else open."""
    if blocked:
        return CollectStatus.BLOCKED
    if cancelled:
        return CollectStatus.CANCELLED
    if not is_active:
        return CollectStatus.CLOSED
    if end_date is not None and now >= end_date:
        return CollectStatus.ENDED
    return CollectStatus.OPEN


class Milestone(enum.StrEnum):
    """What the lifecycle e-mails announce, each once per collect: the goal reached (to those
    who run it), the end within a day (to members who paid nothing), the end (a summary to the
    author)."""

    GOAL_REACHED = "goal_reached"
    ENDING_SOON = "ending_soon"
    ENDED = "ended"


ENDING_SOON_WITHIN = timedelta(hours=24)


class CoverStatus(enum.StrEnum):
    NONE = "none"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Unchanged(enum.Enum):
    """Marks a field a change request leaves alone (distinct from an explicit null)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@frozen
class Cover:
    """The cover picture's state: an uploaded `source` awaiting processing, or a ready `image`."""

    status: CoverStatus = CoverStatus.NONE
    image: str | None = None
    source: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(key for key in (self.image, self.source) if key)


def parse_title(value: str) -> str:
    """The title without surrounding spaces; its length is the one sent."""
    if len(value) > TITLE_MAX:
        raise InvalidValue(f"Must be at most {TITLE_MAX} characters long.")
    title = value.strip()
    if not title:
        raise InvalidValue("May not be blank.")
    return title


def parse_description(value: str) -> str:
    if len(value) > DESCRIPTION_MAX:
        raise InvalidValue(f"Must be at most {DESCRIPTION_MAX} characters long.")
    return value


def check_end_date(end_date: datetime | None, now: datetime) -> datetime | None:
    if end_date is not None and end_date <= now:
        raise InvalidValue("Must be in the future.")
    return end_date


def check_suggested(suggested: Money | None, goal: Money | None) -> Money | None:
    """A suggested share per person: a possible donation, no more than the goal."""
    if suggested is None:
        return None
    check_donation_amount(suggested)
    if goal is not None and suggested > goal:
        raise InvalidValue(f"Must not be more than the goal ({goal}).")
    return suggested


def progress(collected: Money, goal: Money | None) -> Decimal | None:
    """Collected as a percentage of the goal, to one decimal; may pass 100; None without a goal."""
    if goal is None:
        return None
    return (collected.amount * 100 / goal.amount).quantize(_TENTH, rounding=ROUND_HALF_UP)


@define(eq=False)
class Collect:
    id: int | None
    author_id: int
    title: str
    occasion: Occasion
    description: str
    goal: Money | None
    start_date: datetime
    end_date: datetime | None
    created_at: datetime
    updated_at: datetime
    is_active: bool = True
    cover: Cover = field(factory=Cover)
    collected: Money = field(factory=Money.zero)
    donations_count: int = 0
    donors_count: int = 0
    blocked_at: datetime | None = None
    block_reason: str | None = None
    cancelled_at: datetime | None = None
    visibility: Visibility = Visibility.PUBLIC
    hidden_from: frozenset[int] = frozenset()
    suggested_amount: Money | None = None
    share_key: str = ""

    @classmethod
    def open(
        cls,
        *,
        author_id: int,
        title: str | None,
        occasion: Occasion,
        description: str,
        goal: Money | None,
        end_date: datetime | None,
        now: datetime,
        share_key: str,
        visibility: Visibility = Visibility.PUBLIC,
        hidden_from: Collection[int] = (),
        suggested_amount: Money | None = None,
        errors: FieldErrors | None = None,
    ) -> Collect:
        """A new, active collect; every invalid field is reported at once (with `errors`)."""
        errors = FieldErrors() if errors is None else errors
        errors.require("title", title)
        checked_title = errors.check("title", lambda: parse_title(title or ""))
        errors.check("description", lambda: parse_description(description))
        errors.check("end_date", lambda: check_end_date(end_date, now))
        errors.check("suggested_amount", lambda: check_suggested(suggested_amount, goal))
        hidden = errors.check(
            "hidden_from",
            lambda: check_hidden(
                hidden_from, visibility=visibility, author_id=author_id, members=(author_id,)
            ),
        )
        errors.raise_if_any()
        assert checked_title is not None and hidden is not None
        return cls(
            id=None,
            author_id=author_id,
            title=checked_title,
            occasion=occasion,
            description=description,
            goal=goal,
            start_date=now,
            end_date=end_date,
            created_at=now,
            updated_at=now,
            visibility=visibility,
            hidden_from=hidden,
            suggested_amount=suggested_amount,
            share_key=share_key,
        )

    def change(
        self,
        *,
        now: datetime,
        title: str | Unchanged = UNCHANGED,
        occasion: Occasion | Unchanged = UNCHANGED,
        description: str | Unchanged = UNCHANGED,
        goal: Money | Unchanged | None = UNCHANGED,
        end_date: datetime | Unchanged | None = UNCHANGED,
        is_active: bool | Unchanged = UNCHANGED,
        visibility: Visibility | Unchanged = UNCHANGED,
        hidden_from: Collection[int] | Unchanged = UNCHANGED,
        suggested_amount: Money | Unchanged | None = UNCHANGED,
        members: Collection[int] = (),
        errors: FieldErrors | None = None,
    ) -> bool:
        """Apply the given fields; all or nothing, every invalid field reported at once.

        Returns whether any field was given (an empty change leaves even `updated_at` alone).
        A blocked collect refuses every change, once its fields are found valid. `members` are
        the collect's members, none of whom may be hidden from it.
        """
        errors = FieldErrors() if errors is None else errors
        if isinstance(title, str):
            new_title = title
            title = errors.check("title", lambda: parse_title(new_title)) or title
        if isinstance(description, str):
            new_description = description
            errors.check("description", lambda: parse_description(new_description))
        if not isinstance(end_date, Unchanged):
            new_end = end_date
            errors.check("end_date", lambda: check_end_date(new_end, now))
        hidden = self._checked_access(visibility, hidden_from, members, errors)
        self._check_amounts(goal, suggested_amount, errors)
        errors.raise_if_any()
        self._ensure_not_blocked()
        if self.cancelled_at is not None and not isinstance(is_active, Unchanged):
            raise Conflict("This collect was cancelled: it can be neither reopened nor closed.")
        given = {
            "title": title,
            "occasion": occasion,
            "description": description,
            "goal": goal,
            "end_date": end_date,
            "is_active": is_active,
            "visibility": visibility,
            "hidden_from": UNCHANGED if hidden is None else hidden,
            "suggested_amount": suggested_amount,
        }
        changes = {name: value for name, value in given.items() if value is not UNCHANGED}
        for name, value in changes.items():
            setattr(self, name, value)
        changed = bool(changes)
        if changed:
            self.updated_at = now
        return changed

    def _checked_access(
        self,
        visibility: Visibility | Unchanged,
        hidden_from: Collection[int] | Unchanged,
        members: Collection[int],
        errors: FieldErrors,
    ) -> frozenset[int] | None:
        """The new hidden users, when the change touches who may see the collect."""
        if isinstance(visibility, Unchanged) and isinstance(hidden_from, Unchanged):
            return None
        final = self.visibility if isinstance(visibility, Unchanged) else visibility
        hidden = self.hidden_from if isinstance(hidden_from, Unchanged) else hidden_from
        return errors.check(
            "hidden_from",
            lambda: check_hidden(
                hidden, visibility=final, author_id=self.author_id, members=members
            ),
        )

    def _check_amounts(
        self,
        goal: Money | Unchanged | None,
        suggested: Money | Unchanged | None,
        errors: FieldErrors,
    ) -> None:
        """A new suggested amount must fit the goal; a new goal must not fall below it."""
        final_goal = self.goal if isinstance(goal, Unchanged) else goal
        if not isinstance(suggested, Unchanged):
            new = suggested
            errors.check("suggested_amount", lambda: check_suggested(new, final_goal))
        elif not isinstance(goal, Unchanged) and "goal_amount" not in errors:
            current = self.suggested_amount
            if goal is not None and current is not None and current > goal:
                errors.add(
                    "goal_amount", f"Must not be less than the suggested amount ({current})."
                )

    def access(self, members: Collection[int]) -> Access:
        """Who may see it, given its members (which the collect itself does not hold)."""
        return Access(self.visibility, frozenset(members), self.hidden_from)

    def admits_joining(self, user_id: int, key: str | None) -> bool:
        """Anyone who sees a public collect may join it; a link collect takes its share key;
        a private one only the members its organisers add; a hidden user never."""
        if user_id in self.hidden_from:
            return False
        if self.visibility is Visibility.PUBLIC:
            return True
        given = (key or "").encode()
        return self.visibility is Visibility.LINK and hmac.compare_digest(
            given, self.share_key.encode()
        )

    def ensure_open(self, now: datetime) -> None:
        """Joining and reminders need an open collect."""
        if (status := self.status(now)) is not CollectStatus.OPEN:
            raise Conflict(f"This collect is not open (it is {status}).")

    def rotate_share_key(self, key: str, now: datetime) -> None:
        self.share_key = key
        self.updated_at = now

    def status(self, now: datetime) -> CollectStatus:
        return collect_status(
            blocked=self.blocked_at is not None,
            cancelled=self.cancelled_at is not None,
            is_active=self.is_active,
            end_date=self.end_date,
            now=now,
        )

    def accepts_donations(self, now: datetime) -> bool:
        """Open: not blocked, active, and strictly before its end date."""
        return self.status(now) is CollectStatus.OPEN

    def ensure_accepts_donations(self, now: datetime) -> None:
        match self.status(now):
            case CollectStatus.BLOCKED:
                raise Conflict("This collect was blocked and does not accept donations.")
            case CollectStatus.CANCELLED:
                raise Conflict("This collect was cancelled and does not accept donations.")
            case CollectStatus.CLOSED:
                raise Conflict("This collect is inactive and does not accept donations.")
            case CollectStatus.ENDED:
                raise Conflict("This collect has ended and does not accept donations.")

    def deactivate(self, now: datetime) -> None:
        """Closed to donations by an administrator, whatever else holds."""
        self.is_active = False
        self.updated_at = now

    def block(self, reason: str | None, now: datetime) -> None:
        """An administrator's decision: no donation, and nothing its author may change, until
        it is unblocked."""
        if reason is not None and len(reason) > BLOCK_REASON_MAX:
            raise ValidationFailed.single(
                "reason", f"Must be at most {BLOCK_REASON_MAX} characters long."
            )
        if self.blocked_at is None:
            self.blocked_at = now
        self.block_reason = reason
        self.updated_at = now

    def unblock(self, now: datetime) -> None:
        self.blocked_at = None
        self.block_reason = None
        self.updated_at = now

    def cancel(self, now: datetime) -> None:
        """Final: no donation from now on; every completed payment is to be refunded."""
        self._ensure_not_blocked()
        if self.cancelled_at is not None:
            raise Conflict("This collect is cancelled already.")
        self.cancelled_at = now
        self.updated_at = now

    def ensure_refundable(self) -> None:
        """A blocked collect's money stays where it is until an administrator decides."""
        if self.blocked_at is not None:
            raise Conflict("This collect was blocked by an administrator: nothing is refunded.")

    def _ensure_not_blocked(self) -> None:
        if self.blocked_at is not None:
            raise Conflict("This collect was blocked by an administrator and cannot be changed.")

    def ensure_deletable(self, *, has_payments: bool) -> None:
        if has_payments:
            raise Conflict(
                "This collect has payments and cannot be deleted; deactivate it instead "
                '(PATCH with "is_active": false).'
            )

    @property
    def progress(self) -> Decimal | None:
        return progress(self.collected, self.goal)

    def attach_cover(self, source: str, now: datetime) -> tuple[str, ...]:
        """Start processing a new upload; returns the files the old cover leaves behind."""
        obsolete = self.cover.files
        self.cover = Cover(CoverStatus.PROCESSING, source=source)
        self.updated_at = now
        return obsolete

    def remove_cover(self, now: datetime) -> tuple[str, ...]:
        obsolete = self.cover.files
        self.cover = Cover()
        self.updated_at = now
        return obsolete

    def finish_cover(self, source: str, image: str | None, now: datetime) -> bool:
        """Record how processing `source` ended (image None: failed); False if it was superseded."""
        if self.cover.source != source:
            return False
        self.cover = Cover(CoverStatus.READY, image=image) if image else Cover(CoverStatus.FAILED)
        self.updated_at = now
        return True
