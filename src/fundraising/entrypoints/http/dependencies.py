"""What handlers take besides the request: the use cases (registered once on the app, from the
container), the caller, and where absolute links point."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, TypeVar

from litestar import Controller, Request
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import SkipValidation

from fundraising.application.errors import AuthenticationFailed, NotFound
from fundraising.application.ports.cache import ResponseCache
from fundraising.application.use_cases.auth import REVOKED, Authenticate, CheckAccount
from fundraising.container import Container
from fundraising.domain.ids import is_id
from fundraising.entrypoints.http.caching import (
    known_valid_after,
    looked_up_valid_after,
    remember_valid_after,
)
from fundraising.entrypoints.http.observed import user_seen
from fundraising.entrypoints.http.threads import in_thread

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
        "check_account",
        "current_user",
        "log_out",
        "activate_account",
        "resend_activation",
        "reset_password",
        "confirm_password_reset",
        "set_password",
        "update_profile",
        "delete_account",
        "create_collect",
        "update_collect",
        "delete_collect",
        "cancel_collect",
        "get_collect",
        "list_collects",
        "list_feed",
        "join_collect",
        "list_participants",
        "get_share_key",
        "rotate_share_key",
        "invite_participant",
        "remove_participant",
        "add_organiser",
        "remove_organiser",
        "send_reminders",
        "list_updates",
        "post_update",
        "delete_update",
        "export_payments",
        "donate",
        "get_payment",
        "refund_payment",
        "my_payments",
        "create_webhook",
        "list_webhooks",
        "delete_webhook",
        "list_deliveries",
        "readiness",
        "clock",
    )
    provided = {name: _provided(getattr(container, name)) for name in use_cases}
    cache = container.cache if cache_enabled else lambda: None
    return {**provided, "response_cache": _provided(cache)}


def narrowed(controller: type[Controller], provided: Mapping[str, Provide]) -> type[Controller]:
    """The controller with those of `provided` that its handlers take, and theirs in turn.

    Litestar checks every dependency in a handler's scope against every other one when the
    app is built: offered the whole set app-wide, each app took ~0.1 s longer to build.
    """
    handlers = [v for v in vars(controller).values() if isinstance(v, HTTPRouteHandler)]
    own = dict(vars(controller).get("dependencies") or {})
    scoped = [*own.values(), *(p for h in handlers for p in (h.dependencies or {}).values())]
    pending: list[Callable[..., Any]] = [h.fn for h in handlers]
    pending += [p.dependency for p in scoped if isinstance(p, Provide)]
    wanted: dict[str, Provide] = {}
    while pending:
        for name in inspect.signature(pending.pop()).parameters:
            if name in provided and name not in wanted and name not in own:
                wanted[name] = provided[name]
                pending.append(wanted[name].dependency)
    return type(controller.__name__, (controller,), {"dependencies": own | wanted})


async def current_user_id(
    request: Request[Any, Any, Any],
    authenticate: Injected[Authenticate],
    check_account: Injected[CheckAccount],
    response_cache: Injected[ResponseCache | None],
) -> int:
    """The user id of the request's bearer access token, or 401 — also for a token revoked
    since it was issued: the cache knows when the user's tokens were last revoked, or else
    the database does (and the cache learns it)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Authentication credentials were not provided.")
    claims = authenticate(token.strip())
    valid_after = looked_up_valid_after(request.scope)
    if valid_after is None and response_cache is not None:
        valid_after = await known_valid_after(response_cache, claims.user_id)
    if valid_after is None:
        valid_after = await in_thread(check_account, claims)
        if response_cache is not None:
            await remember_valid_after(response_cache, claims.user_id, valid_after)
    elif claims.issued_at.timestamp() < valid_after:
        raise AuthenticationFailed(REVOKED)
    user_seen(request.scope, claims.user_id)
    return claims.user_id


AUTHENTICATED = {"user_id": Provide(current_user_id)}


def existing_id(value: int, what: str) -> int:
    """Ids are positive 64-bit integers; anything else names nothing (404)."""
    if not is_id(value):
        raise NotFound.of(what)
    return value


def client_address(request: Request[Any, Any, Any]) -> str:
    """The TCP peer, or the client a trusted proxy names (uvicorn applies
    FUNDRAISING_TRUSTED_PROXIES before the app sees the request)."""
    return request.client.host if request.client else "unknown"
