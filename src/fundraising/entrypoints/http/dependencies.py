"""What handlers take besides the request: the use cases (registered once on the app, from the
container), the caller, and where absolute links point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from fundraising.application.errors import AuthenticationFailed, NotFound
from fundraising.application.use_cases.auth import Authenticate
from fundraising.container import Container
from fundraising.domain.ids import is_id

T = TypeVar("T")
Injected: TypeAlias = NamedDependency[SkipValidation[T]]
"""What a handler takes from the app's dependencies, by parameter name: typed for the reader,
not validated per request (a Protocol cannot be checked with isinstance)."""
BEARER = "BearerAuth"
SECURED: list[dict[str, list[str]]] = [{BEARER: []}]


def _provided(make: Callable[[], T]) -> Provide:
    def dependency() -> T:
        return make()

    return Provide(dependency, sync_to_thread=False)


def app_dependencies(container: Container, *, cache_enabled: bool) -> dict[str, Provide]:
    """Every use case a handler may take, provided from the container (one instance each): a
    handler names it as a parameter typed `Injected[TheUseCase]`."""
    use_cases = (
        "register_user",
        "log_in",
        "refresh_access",
        "verify_token",
        "authenticate",
        "current_user",
        "create_collect",
        "update_collect",
        "delete_collect",
        "get_collect",
        "list_collects",
        "list_feed",
        "donate",
        "get_payment",
        "my_payments",
        "readiness",
        "clock",
    )
    provided = {name: _provided(getattr(container, name)) for name in use_cases}
    cache = container.cache if cache_enabled else lambda: None
    return {**provided, "response_cache": _provided(cache)}


def current_user_id(request: Request[Any, Any, Any], authenticate: Injected[Authenticate]) -> int:
    """The user id of the request's bearer access token, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Authentication credentials were not provided.")
    return authenticate(token.strip())


AUTHENTICATED = {"user_id": Provide(current_user_id, sync_to_thread=False)}


def existing_id(value: int, what: str) -> int:
    """Ids are positive 64-bit integers; anything else names nothing (404)."""
    if not is_id(value):
        raise NotFound.of(what)
    return value


def client_address(request: Request[Any, Any, Any]) -> str:
    """The TCP peer, or the client a trusted proxy names (uvicorn applies
    FUNDRAISING_TRUSTED_PROXIES before the app sees the request)."""
    return request.client.host if request.client else "unknown"


def base_url(request: Request[Any, Any, Any]) -> str:
    """Where absolute links point: FUNDRAISING_PUBLIC_URL when set (always in production), else
    the scheme and Host of the request (development), never with a trailing slash."""
    public_url: str | None = request.app.state.public_url
    return public_url or str(request.base_url).rstrip("/")


def media_url(request: Request[Any, Any, Any]) -> str:
    return f"{base_url(request)}/media/"
