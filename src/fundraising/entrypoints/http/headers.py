"""What every answer carries, whether the app or the cache in front of it answers, and the
OPTIONS answers' `Allow`."""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute
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


class ExactAllow:
    """A `before_send` hook for OPTIONS answers: Litestar's lists the methods a route had when
    its OPTIONS handler was made, so a path whose handlers come from several places (GET and
    POST of /api/v1/collects/) showed only some. This one lists every method of the route."""

    def __init__(self) -> None:
        self._allowed: dict[str, bytes] = {}

    def learn(self, app: Litestar) -> None:
        """Read every route's methods, once the app is built."""
        self._allowed = {
            route.path_format: ", ".join(sorted(route.methods)).encode()
            for route in app.routes
            if isinstance(route, HTTPRoute)
        }

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        allowed = self._allowed.get(scope.get("path_template", ""))
        if allowed is not None:
            message["headers"] = [
                (name, allowed if name.lower() == b"allow" else value)
                for name, value in message.get("headers", [])
            ]
