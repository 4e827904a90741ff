"""What every answer carries, whether the app or the cache in front of it answers."""

from __future__ import annotations

from litestar.types import Message, Scope

from fundraising.entrypoints.http.errors import request_id


def common_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """X-Request-ID (the client's when sane) and nosniff."""
    return [
        (b"x-request-id", request_id(scope).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]


async def add_common_headers(message: Message, scope: Scope) -> None:
    """Litestar's `before_send` hook: error pages, 404s, static files and media included."""
    if message["type"] == "http.response.start":
        message["headers"] = [*message.get("headers", []), *common_headers(scope)]
