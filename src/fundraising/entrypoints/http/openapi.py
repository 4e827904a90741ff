"""The OpenAPI 3.1 document: request bodies and error responses described as they really are,
and Swagger UI 5 served from vendored files (no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from litestar import HttpMethod, Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
    Tag,
)

from fundraising.domain.payment import DonationVisibility
from fundraising.entrypoints.http.dependencies import BEARER
from fundraising.entrypoints.http.errors import PROBLEM_JSON, Problem
from fundraising.entrypoints.http.fields import schema_of_custom
from fundraising.entrypoints.http.links import LINKS
from fundraising.entrypoints.http.schemas import REQUEST_SCHEMAS
from fundraising.entrypoints.version import VERSION

SWAGGER_VERSION = "5.35.0"
SWAGGER_ASSETS = Path(__file__).parent / "static" / "swagger-ui"
DOCS = "/docs"
ASSETS = f"{DOCS}/static"

_DESCRIPTIONS = {
    400: "Invalid input; `errors` names every offending field.",
    401: "Missing, malformed, expired, revoked or wrong-type token.",
    403: "Only the author may do this.",
    404: "No such object (or not visible to the caller).",
    405: "Method not allowed.",
    409: "The request conflicts with the current state.",
    413: "The body (or the cover file) is too large.",
    415: "Unsupported content type.",
    429: "Too many attempts; see Retry-After.",
    503: "A backing service is unavailable; retry later.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Documented problem+json answers for these statuses."""
    return {
        status: ResponseSpec(
            Problem,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }


def _ref(schema: type[msgspec.Struct]) -> OpenAPIMediaType:
    return OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{schema.__name__}"))


def body(
    json: type[msgspec.Struct],
    *,
    form: type[msgspec.Struct] | None = None,
    required: bool = True,
) -> type[Operation]:
    """An Operation class whose request body is `json` (and `form` as multipart/form-data).

    The handlers read bodies themselves (exact decimals, every field error at once, JSON or
    multipart on one route), so Litestar cannot infer the body: it is declared here.
    """
    content = {"application/json": _ref(json)}
    if form is not None:
        content["multipart/form-data"] = _ref(form)

    @dataclass
    class WithBody(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(content=content, required=required)

    return WithBody


def _header(description: str, schema: Schema) -> OpenAPIHeader:
    return OpenAPIHeader(schema=schema, description=description)


_TEXT = Schema(type=OpenAPIType.STRING)
_REQUEST_ID = _header("The client's X-Request-ID when valid, else a new one.", _TEXT)
_RETRY_AFTER = _header("Seconds to wait before trying again.", Schema(type=OpenAPIType.INTEGER))
_SUCCESS_HEADERS = {
    ("post", "/api/v1/collects", "201"): {"Location": _header("The new collect's URL.", _TEXT)},
    ("post", "/api/v1/payments", "200"): {
        "Idempotent-Replayed": _header(
            "`true`: this answers a retry with the original payment.",
            Schema(type=OpenAPIType.STRING, enum=["true"]),
        )
    },
}
_METHODS = ("get", "put", "post", "delete", "patch")
_SUCCESS = {
    "registerUser": "The new account (it can log in at once; its address is not verified yet).",
    "createTokens": "An access and a refresh token.",
    "refreshToken": "A new access token, and a new refresh token (the old one is used up).",
    "verifyToken": "The token is valid.",
    "logOut": "The refresh token is revoked.",
    "getMe": "The current user.",
    "updateMe": "The current user, changed.",
    "deleteMe": "The account is deleted; its tokens stop working.",
    "activateAccount": "The address is verified.",
    "resendActivation": "Sent, if the address belongs to an unverified account.",
    "setPassword": "The password is changed; other tokens stop working.",
    "resetPassword": "Sent, if the address is registered.",
    "resetPasswordConfirm": "The password is changed.",
    "listCollects": "A page of the collects the caller may see.",
    "createCollect": "The new collect (its cover, if any, is processed in the background).",
    "getCollect": "The collect and its latest donations.",
    "updateCollect": "The collect, changed.",
    "deleteCollect": "The collect is deleted.",
    "cancelCollect": "Cancelled: every payment is refunded in the background.",
    "listFeed": "A page of the collect's donations, newest first.",
    "joinCollect": "The caller takes part in the collect.",
    "listParticipants": "A page of the members, with what each paid.",
    "inviteParticipant": "The invited member.",
    "removeParticipant": "The participant is removed (their payments stay).",
    "addOrganiser": "The member, now an organiser.",
    "removeOrganiser": "The organiser is a participant again.",
    "sendReminders": "Who was reminded now, and who was reminded recently already.",
    "getShareKey": "The key and the link it makes.",
    "rotateShareKey": "A new key; the old one admits nobody any more.",
    "listUpdates": "A page of the collect's updates, newest first.",
    "postUpdate": "The new update.",
    "deleteUpdate": "The update is deleted.",
    "donate": "The new payment.",
    "myPayments": "A page of the caller's payments, newest first.",
    "getPayment": "The payment.",
    "refundPayment": "The refunded payment (also when it was refunded already).",
    "createWebhook": "The new webhook, with its signing secret (shown this once).",
    "listWebhooks": "A page of the caller's webhooks, newest first.",
    "deleteWebhook": "The webhook and its delivery log are deleted.",
    "listDeliveries": "A page of the webhook's deliveries, newest first.",
    "isLive": "The process is running.",
    "isReady": "Every backing service answers.",
}
"""What a success means, operation by operation (Litestar writes HTTP's generic phrases)."""


_GENERIC = {
    "Request fulfilled, document follows",
    "Document created, URL follows",
    "Request fulfilled, nothing follows",
    "Request accepted, processing continues off-line",
    "Additional response",
}


def complete_document(app: Litestar) -> None:
    """Add what Litestar cannot infer to its generated document, once, before it is served:
    the request body schemas, what each success means and where it leads (links),
    problem+json for every error (also the 400 Litestar adds for parameters), and the headers
    the contract promises."""
    document = app.openapi_schema
    assert document.components is not None and document.paths is not None
    schemas = document.components.schemas if document.components.schemas is not None else {}
    schemas.update(_request_schemas())
    document.components.schemas = schemas
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    for path, item in document.paths.items():
        for method in _METHODS:
            operation: Operation | None = getattr(item, method)
            for status, response in ((operation and operation.responses) or {}).items():
                if not isinstance(response, OpenAPIResponse):
                    continue
                if status[0] == "2" and operation and response.description in _GENERIC:
                    response.description = _SUCCESS[operation.operation_id or ""]
                if operation and (links := LINKS.get((operation.operation_id or "", status))):
                    response.links = dict(links)
                headers = response.headers if response.headers is not None else {}
                headers["X-Request-ID"] = _REQUEST_ID
                headers.update(_SUCCESS_HEADERS.get((method, path, status), {}))
                if status in ("429", "503"):
                    headers["Retry-After"] = _RETRY_AFTER
                response.headers = headers
                if status[0] in "45":
                    response.content = {PROBLEM_JSON: problem}
                    response.description = _DESCRIPTIONS.get(int(status), response.description)


_ANONYMOUS = {"const": DonationVisibility.ANONYMOUS.value}
_BETWEEN_FIELDS: dict[str, dict[str, Any]] = {
    # What a Struct's fields cannot say of each other. One of the two, not null:
    "InvitationRequest": {
        "oneOf": [
            {"required": ["user"], "properties": {"user": {"type": "integer"}}},
            {"required": ["email"], "properties": {"email": {"type": "string"}}},
        ]
    },
    # Both given, they agree: `is_anonymous: true` is `visibility: anonymous`.
    "PaymentCreate": {
        "if": {"required": ["is_anonymous", "visibility"]},
        "then": {
            "anyOf": [
                {"properties": {"is_anonymous": {"const": True}, "visibility": _ANONYMOUS}},
                {
                    "properties": {
                        "is_anonymous": {"const": False},
                        "visibility": {"not": _ANONYMOUS},
                    }
                },
            ]
        },
    },
}


def _request_schemas() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        REQUEST_SCHEMAS,
        schema_hook=schema_of_custom,
        ref_template="#/components/schemas/{name}",
    )
    for name, rule in _BETWEEN_FIELDS.items():
        components[name].update(rule)
    for name, schema in components.items():
        if name.endswith("Form"):
            for field in schema["properties"].values():
                _empty_for_null(field)
    return components


_EMPTY = {"type": "string", "maxLength": 0, "description": "Empty: null."}


def _empty_for_null(field: dict[str, Any]) -> None:
    """A multipart field has no null: it is sent empty (what `read_fields` reads as null)."""
    field["anyOf"] = [
        _EMPTY if kind == {"type": "null"} else kind for kind in field.get("anyOf", [])
    ]
    if not field["anyOf"]:
        del field["anyOf"]


def operation_id(handler: HTTPRouteHandler, method: HttpMethod | str, path: list[Any]) -> str:
    """The handler's name in lowerCamelCase (`createCollect`): what a generated client calls."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Fundraising API",
        version=VERSION,
        description=(
            "Group money collections: open a collect, donate, follow the totals and the feed. "
            "Every /api/v1/ operation needs `Authorization: Bearer <access token>` "
            "(from POST /auth/jwt/create/). Errors are RFC 9457 problem details."
        ),
        path=DOCS,
        render_plugins=[
            SwaggerRenderPlugin(
                version=SWAGGER_VERSION,
                path="/",
                js_url=f"{ASSETS}/swagger-ui-bundle.js",
                css_url=f"{ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f'<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">',
            )
        ],
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="An access token from POST /auth/jwt/create/.",
                )
            },
        ),
        tags=[
            Tag(name="auth", description="Accounts and JWT tokens"),
            Tag(name="collects", description="Collections, their feed and cover"),
            Tag(name="members", description="Who takes part in a collect, and who runs it"),
            Tag(name="updates", description="News those who run a collect post"),
            Tag(name="payments", description="Donations, refunds and the export"),
            Tag(name="webhooks", description="Events POSTed to your systems, signed"),
            Tag(name="operations", description="Health checks"),
        ],
        use_handler_docstrings=True,
        operation_id_creator=operation_id,
    )
