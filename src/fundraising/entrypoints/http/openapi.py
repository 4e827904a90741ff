"""The OpenAPI 3.1 document: request bodies and error responses described as they really are,
and Swagger UI 5 served from vendored files (no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    Operation,
    Reference,
    RequestBody,
    SecurityScheme,
    Tag,
)

from fundraising.entrypoints.http.dependencies import BEARER
from fundraising.entrypoints.http.errors import PROBLEM_JSON, Problem
from fundraising.entrypoints.http.fields import schema_of_custom
from fundraising.entrypoints.http.schemas import REQUEST_SCHEMAS

SWAGGER_VERSION = "5.35.0"
SWAGGER_ASSETS = Path(__file__).parent / "static" / "swagger-ui"
DOCS = "/docs"
ASSETS = f"{DOCS}/static"

_DESCRIPTIONS = {
    400: "Invalid input; `errors` names every offending field.",
    401: "Missing, malformed, expired or wrong-type token.",
    403: "Only the author may do this.",
    404: "No such object (or not visible to the caller).",
    405: "Method not allowed.",
    409: "The request conflicts with the current state.",
    413: "The body (or the cover file) is too large.",
    415: "Unsupported content type.",
    429: "Too many failed attempts; see Retry-After.",
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
    json: type[msgspec.Struct], *, form: type[msgspec.Struct] | None = None
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
            self.request_body = RequestBody(content=content, required=True)

    return WithBody


def _request_schemas() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        REQUEST_SCHEMAS,
        schema_hook=schema_of_custom,
        ref_template="#/components/schemas/{name}",
    )
    return components


def openapi_config(public_url: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Fundraising API",
        version="1.0.0",
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
            schemas=_request_schemas(),
        ),
        tags=[
            Tag(name="auth", description="Accounts and JWT tokens"),
            Tag(name="collects", description="Collections, their feed and cover"),
            Tag(name="payments", description="Donations"),
            Tag(name="operations", description="Health checks"),
        ],
        use_handler_docstrings=True,
    )
