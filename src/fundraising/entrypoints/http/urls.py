"""Where the absolute URLs an answer carries point."""

from __future__ import annotations

from typing import Any

from litestar import Request


def base_url(request: Request[Any, Any, Any]) -> str:
    """Where absolute links point: FUNDRAISING_PUBLIC_URL when set (always in production), else
    the scheme and Host of the request (development), never with a trailing slash."""
    public_url: str | None = request.app.state.public_url
    return public_url or str(request.base_url).rstrip("/")


def media_url(request: Request[Any, Any, Any]) -> str:
    """Where cover files are served: FUNDRAISING_MEDIA_URL (a bucket), else the app's /media/."""
    served_at: str | None = request.app.state.media_url
    return served_at or f"{base_url(request)}/media/"
