"""The app factory: one Litestar app per container, for `fundraising serve`, tests and servers."""

from __future__ import annotations

import logging

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.types import Message, Scope

from fundraising.adapters.sql import migrate
from fundraising.application.errors import DomainError
from fundraising.container import Container, background_worker
from fundraising.entrypoints.http.bodies import MAX_JSON_BODY
from fundraising.entrypoints.http.caching import CachedReads
from fundraising.entrypoints.http.errors import (
    domain_error_handler,
    http_error_handler,
    request_id,
    unexpected_error_handler,
)
from fundraising.entrypoints.http.openapi import complete_document, openapi_config
from fundraising.entrypoints.http.routes import auth, collects, operations, payments
from fundraising.entrypoints.http.threads import size_thread_pool
from fundraising.entrypoints.logs import configure_logging
from fundraising.settings import Settings

log = logging.getLogger(__name__)
EXPOSED_HEADERS = (
    "ETag",
    "Idempotent-Replayed",
    "Location",
    "Retry-After",
    "X-Cache",
    "X-Request-ID",
)


async def _common_headers(message: Message, scope: Scope) -> None:
    """Every response carries X-Request-ID and nosniff: error pages, 404s, cache hits, media."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", []))
        headers.append((b"x-request-id", request_id(scope).encode()))
        headers.append((b"x-content-type-options", b"nosniff"))
        message["headers"] = headers


def _cors(origins: list[str]) -> CORSConfig | None:
    """Preflights answered for the configured origins only; none by default."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "If-None-Match", "X-Request-ID"],
        expose_headers=[*EXPOSED_HEADERS],
        max_age=600,
    )


def create_app(container: Container) -> Litestar:
    settings: Settings = container.settings()
    worker = background_worker(container) if settings.broker_url is None else None

    def start() -> None:
        if settings.auto_migrate:
            migrate.upgrade(settings.database_url)
        size_thread_pool(settings.database_pool_size)
        if worker is not None:
            worker.start()
        log.info("fundraising is serving (%s profile)", settings.env)

    def stop() -> None:
        if worker is not None:
            worker.stop()
        container.shutdown_resources()

    authenticate = container.authenticate()
    cache = container.cache() if settings.cache_enabled else None
    state = State(
        {
            "container": container,
            "authenticate": authenticate,
            "response_cache": cache,
            "public_url": settings.public_url,
        }
    )
    app = Litestar(
        route_handlers=[
            *auth.HANDLERS,
            *collects.HANDLERS,
            *payments.HANDLERS,
            *operations.HANDLERS,
            *operations.static_routers(settings),
        ],
        state=state,
        on_startup=[start],
        on_shutdown=[stop],
        before_send=[_common_headers],
        cors_config=_cors(settings.origins),
        exception_handlers={
            DomainError: domain_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        openapi_config=openapi_config(),
        request_max_body_size=MAX_JSON_BODY,
        logging_config=None,
        debug=False,
    )
    complete_document(app)
    if cache is not None:
        # In front of routing, as Litestar itself puts CORS: a hit costs no more than that.
        app.asgi_handler = CachedReads(
            app.asgi_handler,
            cache=cache,
            authenticate=authenticate,
            public_url=settings.public_url,
        )
    return app


def app_from_environment() -> Litestar:
    """The uvicorn factory: settings from FUNDRAISING_* and .env."""
    settings = Settings()
    configure_logging(settings)
    return create_app(Container(settings=settings))
