"""An update: news those who run a collect post to its participants (what was bought...)."""

from __future__ import annotations

from datetime import datetime

from attrs import define

from fundraising.domain.errors import InvalidValue, PermissionDenied
from fundraising.domain.membership import Member, Role

UPDATE_TEXT_MAX = 5_000


def parse_update_text(text: str) -> str:
    if not text.strip():
        raise InvalidValue("Must not be empty.")
    if len(text) > UPDATE_TEXT_MAX:
        raise InvalidValue(f"Must be at most {UPDATE_TEXT_MAX} characters long.")
    return text


@define(eq=False)
class CollectUpdate:
    id: int | None
    collect_id: int
    writer_id: int
    text: str
    created_at: datetime

    def ensure_deletable_by(self, member: Member | None, user_id: int) -> None:
        """Its writer deletes it, and the author of the collect."""
        if user_id != self.writer_id and (member is None or member.role is not Role.AUTHOR):
            raise PermissionDenied("Only its writer and the author of the collect may delete it.")
