"""Every request measured and logged once, in front of everything (the cache's hits included):
its route template, status, duration, user and what the cache did — never its query string,
headers or body, which may hold an e-mail address, a token or a share key."""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Protocol, cast

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from fundraising.entrypoints.http.errors import request_id
from fundraising.entrypoints.logs import ACCESS, log_access

access_log = logging.getLogger(ACCESS)
UNMATCHED = "unmatched"  # no route: one label for every path that names nothing


def user_seen(scope: Scope, user_id: int) -> None:
    """Tell the access log who made the request (once the token is checked)."""
    scope.setdefault("state", {})["user_id"] = user_id


class RequestMetrics(Protocol):
    def request(
        self, method: str, route: str, status: int, seconds: float, cache: str | None
    ) -> None: ...


class Observed:
    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics, log_access: bool) -> None:
        self._app = app
        self._metrics = metrics
        self._log_access = log_access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = cast("str | None", scope.get("method"))  # lifespan and websockets have none
        if method is None:
            await self._app(scope, receive, send)
            return
        started = perf_counter()
        status, cache = 500, None

        async def sending(message: Message) -> None:
            nonlocal status, cache
            if message["type"] == "http.response.start":
                status = message["status"]
                cache = next((v for k, v in message.get("headers", ()) if k == b"x-cache"), None)
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            seconds = perf_counter() - started
            route = scope.get("path_template") or UNMATCHED
            result = cache.decode("latin-1") if cache is not None else None
            self._metrics.request(method, route, status, seconds, result)
            if self._log_access and access_log.isEnabledFor(logging.INFO):
                fields = {
                    "request_id": request_id(scope),
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "user_id": scope.get("state", {}).get("user_id"),
                    "cache": result,
                }
                log_access(fields)
