"""Absolute links from the configured base URL (FUNDRAISING_PUBLIC_URL)."""

from __future__ import annotations

from attrs import frozen


@frozen
class UrlLinks:
    base_url: str

    def collect(self, collect_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/api/v1/collects/{collect_id}/"
