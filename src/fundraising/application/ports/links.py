"""Links that e-mails carry: to a collect, and to the pages of the front end that take an
e-mailed token (FUNDRAISING_FRONTEND_URL)."""

from __future__ import annotations

from typing import Protocol


class Links(Protocol):
    def collect(self, collect_id: int) -> str:
        """The front end's page of a collect (e-mails link to it)."""
        ...

    def media(self) -> str:
        """Where cover files are served, ending in `/`."""
        ...

    def activation(self, uid: str, token: str) -> str: ...

    def password_reset(self, uid: str, token: str) -> str: ...

    def share(self, collect_id: int, key: str) -> str:
        """The front end's page of a collect, with the key that admits to it."""
        ...
