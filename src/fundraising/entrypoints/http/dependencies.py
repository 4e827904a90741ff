"""Litestar dependencies: use cases from the container on `app.state`, and the current user."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from fundraising.application.errors import AuthenticationFailed, NotFound
from fundraising.application.use_cases.auth import Authenticate

MAX_ID = 2**63 - 1
BEARER = "BearerAuth"
SECURED: list[dict[str, list[str]]] = [{BEARER: []}]


def use_case(name: str) -> Provide:
    """Provide the container's `name` use case (a singleton) to a handler."""

    def provide(state: State) -> Any:
        return getattr(state.container, name)()

    return Provide(provide, sync_to_thread=False)


def current_user_id(request: Request[Any, Any, Any], state: State) -> int:
    """The user id of the request's bearer access token, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Authentication credentials were not provided.")
    authenticate: Authenticate = state.authenticate
    return authenticate(token.strip())


AUTHENTICATED = {"user_id": Provide(current_user_id, sync_to_thread=False)}


def existing_id(value: int, what: str) -> int:
    """Ids are positive 64-bit integers; anything else names nothing (404)."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"No {what} with this id.")
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
