"""Health checks, metrics, uploaded media and the documentation's static assets."""

from __future__ import annotations

import hmac
from typing import Any, Protocol

from litestar import Controller, Request, Response, get
from litestar.exceptions import InternalServerException
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler, ExceptionHandlersMap

from fundraising.application.errors import AuthenticationFailed, NotFound, Unavailable
from fundraising.application.ports.health import OK, Readiness
from fundraising.entrypoints.http import schemas
from fundraising.entrypoints.http.dependencies import Injected
from fundraising.entrypoints.http.errors import PROBLEMS, problem_response
from fundraising.entrypoints.http.openapi import ASSETS, DOCS, SWAGGER_ASSETS, problems
from fundraising.entrypoints.http.threads import in_thread
from fundraising.settings import Settings


class HealthController(Controller):
    path = "/health"
    tags = ("operations",)

    @get("/live", summary="The process is running")
    async def is_live(self) -> schemas.Health:
        return schemas.Health(status=OK, checks={})

    @get(
        "/ready",
        summary="The database (and Redis, broker when configured) answer",
        responses=problems(503),
    )
    async def is_ready(
        self, request: Request[Any, Any, Any], readiness: Injected[Readiness]
    ) -> Response[schemas.Health]:
        checks = await in_thread(readiness.check)
        failing = sorted(name for name, result in checks.items() if result != OK)
        if failing:
            detail = "Not ready: " + "; ".join(f"{name} {checks[name]}" for name in failing) + "."
            return problem_response(request, PROBLEMS[Unavailable], detail)  # type: ignore[return-value]
        return Response(schemas.Health(status=OK, checks=checks))


class Scrapable(Protocol):
    content_type: str

    def exposition(self) -> bytes: ...


def metrics_routes(token: str | None, metrics: Scrapable) -> list[HTTPRouteHandler]:
    """GET /metrics for Prometheus, with the bearer token FUNDRAISING_METRICS_TOKEN; none
    without a token (404). Each process answers for its own server's workers: scrape every
    replica, not the load balancer."""
    if token is None:
        return []
    expected = token.encode()

    @get("/metrics", include_in_schema=False)
    async def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise AuthenticationFailed("The metrics token is missing or wrong.")
        body = await in_thread(metrics.exposition)  # the outbox's figures are a query
        return Response(body, media_type=metrics.content_type)

    return [scrape]


@get("/", include_in_schema=False)
async def home() -> Redirect:
    """A browser pointed at the service lands on its documentation."""
    return Redirect(f"{DOCS}/")


def _no_such_file(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """A file name the file system refuses (a NUL byte, too long) names no file."""
    return problem_response(request, PROBLEMS[NotFound], "No such file.")


# Litestar wraps what the file system raises (ValueError, OSError) in a 500 of its own.
_FILE_ERRORS: ExceptionHandlersMap = {
    InternalServerException: _no_such_file,
    ValueError: _no_such_file,
    OSError: _no_such_file,
}


def static_routers(settings: Settings) -> list[ControllerRouterHandler]:
    """The home redirect, the documentation's assets and, unless covers live in a bucket
    (served from FUNDRAISING_MEDIA_URL), the media directory."""
    routers: list[ControllerRouterHandler] = [
        home,
        create_static_files_router(
            path=ASSETS,
            directories=[SWAGGER_ASSETS],
            include_in_schema=False,
            exception_handlers=_FILE_ERRORS,
        ),
    ]
    if settings.storage_url is None:
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        routers.append(
            create_static_files_router(
                path="/media",
                directories=[settings.media_dir],
                include_in_schema=False,
                exception_handlers=_FILE_ERRORS,
            )
        )
    return routers
