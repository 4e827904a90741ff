"""The app factories: the Litestar app of a container, and the app as served (the cache's hit
path in front of it), for `fundraising serve`, tests and benchmarks."""

from __future__ import annotations

import logging

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp

from fundraising.application.errors import ExplainedError
from fundraising.container import Container, background_worker
from fundraising.entrypoints.http.bodies import MAX_JSON_BODY
from fundraising.entrypoints.http.caching import CachedReads
from fundraising.entrypoints.http.dependencies import app_dependencies, narrowed
from fundraising.entrypoints.http.errors import (
    explained_error_handler,
    http_error_handler,
    unexpected_error_handler,
)
from fundraising.entrypoints.http.headers import ExactAllow, add_common_headers
from fundraising.entrypoints.http.observed import Observed
from fundraising.entrypoints.http.openapi import complete_document, openapi_config
from fundraising.entrypoints.http.routes.auth import AuthController
from fundraising.entrypoints.http.routes.collects import CollectController
from fundraising.entrypoints.http.routes.exports import ExportController
from fundraising.entrypoints.http.routes.members import MemberController
from fundraising.entrypoints.http.routes.operations import (
    HealthController,
    metrics_routes,
    static_routers,
)
from fundraising.entrypoints.http.routes.payments import PaymentController
from fundraising.entrypoints.http.routes.updates import UpdateController
from fundraising.entrypoints.http.routes.webhooks import WebhookController
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


CONTROLLERS = (
    AuthController,
    CollectController,
    MemberController,
    UpdateController,
    ExportController,
    PaymentController,
    WebhookController,
    HealthController,
)


def create_app(container: Container) -> Litestar:
    settings: Settings = container.settings()
    worker = background_worker(container) if settings.broker_url is None else None

    def start() -> None:
        if settings.auto_migrate:
            container.schema().upgrade()
        size_thread_pool(settings.database_pool_size)
        if worker is not None:
            worker.start()
        log.info("fundraising is serving (%s profile)", settings.env)

    def stop() -> None:
        if worker is not None:
            worker.stop()
        container.shutdown_resources()

    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    metrics = metrics_routes(token, container.metrics())
    provided = app_dependencies(container, cache_enabled=settings.cache_enabled)
    controllers = [narrowed(controller, provided) for controller in CONTROLLERS]
    allow = ExactAllow()
    app = Litestar(
        route_handlers=[*controllers, *static_routers(settings), *metrics],
        state=State({"public_url": settings.public_url, "media_url": settings.media_url}),
        on_startup=[start],
        on_shutdown=[stop],
        before_send=[add_common_headers, allow],
        cors_config=_cors(settings.origins),
        exception_handlers={
            ExplainedError: explained_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        openapi_config=openapi_config(),
        request_max_body_size=MAX_JSON_BODY,
        logging_config=None,
        debug=False,
    )
    complete_document(app)
    allow.learn(app)
    return app


def asgi_app(container: Container) -> ASGIApp:
    """The app as it is served: cached reads answered in front of it (an ASGI middleware, so a
    hit costs no routing), everything else by it; every request measured and logged."""
    settings: Settings = container.settings()
    app: ASGIApp = create_app(container)
    if settings.cache_enabled:
        app = CachedReads(
            app,
            cache=container.cache(),
            authenticate=container.authenticate(),
            public_url=settings.public_url,
        )
    return Observed(app, metrics=container.metrics(), log_access=settings.access_log)


def app_from_environment() -> ASGIApp:
    """The uvicorn factory: settings from FUNDRAISING_* and .env."""
    settings = Settings()
    configure_logging(settings)
    return asgi_app(Container(settings=settings))
