"""Absolute links: pages under the front end's URL (a collect, account pages, a share link),
cover files under the media URL (default: the public URL's /media/)."""

from __future__ import annotations

from urllib.parse import urlencode

from attrs import frozen


@frozen
class UrlLinks:
    base_url: str
    frontend_url: str
    media_url: str | None = None  # where files are served when not by the app

    def collect(self, collect_id: int) -> str:
        return f"{self.frontend_url.rstrip('/')}/collects/{collect_id}"

    def media(self) -> str:
        return self.media_url or f"{self.base_url.rstrip('/')}/media/"

    def activation(self, uid: str, token: str) -> str:
        return f"{self.frontend_url.rstrip('/')}/activate/{uid}/{token}"

    def password_reset(self, uid: str, token: str) -> str:
        return f"{self.frontend_url.rstrip('/')}/password/reset/confirm/{uid}/{token}"

    def share(self, collect_id: int, key: str) -> str:
        return f"{self.frontend_url.rstrip('/')}/collects/{collect_id}?{urlencode({'key': key})}"
