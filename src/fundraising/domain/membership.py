"""Group gifts: who may see a collect, who takes part in it and what each member may do."""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import datetime, timedelta

from attrs import define, frozen

from fundraising.domain.errors import Conflict, InvalidValue, PermissionDenied

HIDDEN_MAX = 50
SHARE_KEY_MAX = 64  # what a key given to join may be; the service makes shorter ones


class Visibility(enum.StrEnum):
    """Public: seen by every user and listed; link: seen by those who joined with its share
    key; private: seen by its members only."""

    PUBLIC = "public"
    LINK = "link"
    PRIVATE = "private"


class Role(enum.StrEnum):
    AUTHOR = "author"
    ORGANISER = "organiser"
    PARTICIPANT = "participant"


@frozen
class Access:
    """Who may see a collect: everybody (public) or its members — never a hidden user.

    A hidden user is never a member (`check_hidden`), so the members are the whole audience of a
    collect that is not public."""

    visibility: Visibility
    members: frozenset[int]
    hidden: frozenset[int] = frozenset()

    def admits(self, user_id: int) -> bool:
        if user_id in self.hidden:
            return False
        return self.visibility is Visibility.PUBLIC or user_id in self.members

    @property
    def audience(self) -> frozenset[int] | None:
        """Who may see it, when that is not everybody (None)."""
        return None if self.visibility is Visibility.PUBLIC else self.members - self.hidden


def check_hidden(
    hidden: Collection[int], *, visibility: Visibility, author_id: int, members: Collection[int]
) -> frozenset[int]:
    """The users a collect is kept secret from: only a link or private collect has them, at
    most 50, never its author nor a member."""
    chosen = frozenset(hidden)
    if chosen and visibility is Visibility.PUBLIC:
        raise InvalidValue("Only a link or private collect can be hidden from users.")
    if len(chosen) > HIDDEN_MAX:
        raise InvalidValue(f"Must name at most {HIDDEN_MAX} users.")
    if author_id in chosen:
        raise InvalidValue("The author cannot be hidden from their own collect.")
    if clash := sorted(chosen & set(members)):
        raise InvalidValue(f"Members cannot be hidden from the collect: {clash}.")
    return chosen


def ensure_runs(member: Member | None) -> Member:
    """Only the author and organisers run a collect (its key, participants and reminders)."""
    if member is None or not member.manages:
        raise PermissionDenied("Only the author and organisers of this collect may do this.")
    return member


@define(eq=False)
class Member:
    """A user's place in a collect: its author, an organiser, or a participant."""

    collect_id: int
    user_id: int
    role: Role
    joined_at: datetime
    last_reminded_at: datetime | None = None

    @property
    def manages(self) -> bool:
        """The author and organisers run the collect: its key, participants and reminders."""
        return self.role in (Role.AUTHOR, Role.ORGANISER)

    def ensure_author(self) -> None:
        if self.role is not Role.AUTHOR:
            raise PermissionDenied("Only the author of this collect may do this.")

    def ensure_may_remove(self, member: Member) -> None:
        """Who runs a collect removes its participants; organisers only the author does, and
        the author nobody."""
        if member.role is Role.ORGANISER and self.role is not Role.AUTHOR:
            raise PermissionDenied("Only the author of this collect may remove its organisers.")
        if member.role is Role.AUTHOR:
            raise Conflict("The author cannot be removed from their collect.")

    def reminder_due(self, now: datetime, interval: timedelta) -> bool:
        return self.last_reminded_at is None or now - self.last_reminded_at >= interval

    def remind(self, now: datetime) -> None:
        self.last_reminded_at = now

    def promote(self) -> None:
        """Make a participant an organiser (an organiser stays one)."""
        if self.role is Role.AUTHOR:
            raise InvalidValue("The author runs the collect already.")
        self.role = Role.ORGANISER

    def demote(self) -> None:
        """An organiser becomes a participant again."""
        if self.role is Role.ORGANISER:
            self.role = Role.PARTICIPANT


def check_share_key(key: str | None) -> str | None:
    if key is not None and len(key) > SHARE_KEY_MAX:
        raise InvalidValue(f"Must be at most {SHARE_KEY_MAX} characters long.")
    return key
