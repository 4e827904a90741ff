"""Every error becomes RFC 9457 problem details, from one table; nothing else picks a status."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
from attrs import frozen
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import Scope

from fundraising.application.errors import (
    AuthenticationFailed,
    Conflict,
    ExplainedError,
    NotFound,
    PermissionDenied,
    Throttled,
    TransientFailure,
    Unavailable,
    ValidationFailed,
)

log = logging.getLogger("fundraising.http")
PROBLEM_JSON = "application/problem+json"
_REQUEST_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


class MalformedRequest(ExplainedError):
    """The body cannot be read at all: not JSON, not an object, a broken form."""


class PayloadTooLarge(ExplainedError):
    """The body or the uploaded file is over its limit."""


class UnsupportedMediaType(ExplainedError):
    """The body comes in a content type this endpoint does not take."""


@frozen
class ProblemType:
    status: int
    slug: str
    title: str

    @property
    def uri(self) -> str:
        return f"urn:fundraising:problem:{self.slug}"


PROBLEMS: dict[type[Exception], ProblemType] = {
    ValidationFailed: ProblemType(400, "validation-error", "Invalid input"),
    MalformedRequest: ProblemType(400, "malformed-request", "Malformed request"),
    AuthenticationFailed: ProblemType(401, "not-authenticated", "Not authenticated"),
    PermissionDenied: ProblemType(403, "permission-denied", "Permission denied"),
    NotFound: ProblemType(404, "not-found", "Not found"),
    Conflict: ProblemType(409, "conflict", "Conflict"),
    PayloadTooLarge: ProblemType(413, "payload-too-large", "Payload too large"),
    UnsupportedMediaType: ProblemType(415, "unsupported-media-type", "Unsupported media type"),
    Throttled: ProblemType(429, "throttled", "Too many requests"),
    Unavailable: ProblemType(503, "service-unavailable", "Service unavailable"),
    TransientFailure: ProblemType(503, "service-busy", "Service busy"),
}
_BY_STATUS = {problem.status: problem for problem in PROBLEMS.values()}
_FALLBACKS = {
    405: ProblemType(405, "method-not-allowed", "Method not allowed"),
    500: ProblemType(500, "internal-error", "Internal server error"),
}


class FieldErrorBody(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem; `errors` names every invalid field of a 400."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldErrorBody] | None = None


def request_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is sane (1–128 of [A-Za-z0-9._-]), else a new one."""
    state = scope.setdefault("state", {})
    found: str | None = state.get("request_id")
    if found is None:
        given = next(
            (
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == b"x-request-id"
            ),
            "",
        )
        valid = 0 < len(given) <= 128 and set(given) <= _REQUEST_ID_CHARS
        found = given if valid else uuid.uuid4().hex
        state["request_id"] = found
    return found


def problem_response(
    request: Request[Any, Any, Any],
    problem: ProblemType,
    detail: str,
    *,
    errors: list[FieldErrorBody] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    body = Problem(
        type=problem.uri,
        title=problem.title,
        status=problem.status,
        detail=detail,
        instance=request.url.path,
        request_id=request_id(request.scope),
        errors=errors,
    )
    return Response(
        msgspec.json.encode(body),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _problem_type(error: Exception) -> ProblemType | None:
    return next((PROBLEMS[kind] for kind in type(error).__mro__ if kind in PROBLEMS), None)


def explained_error_handler(
    request: Request[Any, Any, Any], error: ExplainedError
) -> Response[bytes]:
    problem = _problem_type(error)
    if problem is None:
        return unexpected_error_handler(request, error)
    headers: dict[str, str] = {}
    errors = None
    if isinstance(error, ValidationFailed):
        errors = [FieldErrorBody(e.field, e.message) for e in error.errors]
    elif isinstance(error, AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    elif isinstance(error, Throttled):
        headers["Retry-After"] = str(error.retry_after)
    elif isinstance(error, Unavailable | TransientFailure):
        headers["Retry-After"] = "1"
    return problem_response(request, problem, error.detail, errors=errors, headers=headers)


def _query_errors(extra: Any) -> list[FieldErrorBody] | None:
    """Litestar's own parameter errors, as ours: `[{field, message}]`."""
    if not isinstance(extra, list):
        return None
    found = [
        FieldErrorBody(str(item.get("key", "")), str(item.get("message", "Invalid value.")))
        for item in extra
        if isinstance(item, dict)
    ]
    return found or None


def http_error_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    """Errors raised by Litestar itself: unknown routes, methods, bad parameters, body limits."""
    status = error.status_code
    if status >= 500:
        return unexpected_error_handler(request, error)
    problem = (
        _BY_STATUS.get(status) or _FALLBACKS.get(status) or ProblemType(status, "error", "Error")
    )
    errors = _query_errors(error.extra) if status == 400 else None
    if errors is not None:
        problem = PROBLEMS[ValidationFailed]
    detail = error.detail if status != 400 or errors is None else "Invalid query parameters."
    if status == 413:
        detail = "The request body is too large."
    return problem_response(request, problem, detail, errors=errors, headers=error.headers)


def unexpected_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    log.error(
        "unexpected error in %s %s (request id %s)",
        request.method,
        request.url.path,
        request_id(request.scope),
        exc_info=error,
    )
    detail = "An unexpected error occurred; it was logged with this request's id."
    return problem_response(request, _FALLBACKS[500], detail)
