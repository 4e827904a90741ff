"""The OpenAPI document at /docs/openapi.json tells the truth about the contract.

Schemas are checked by meaning, not by component name: each one is reached from the operation
that uses it and evaluated with a real JSON Schema 2020-12 validator (jsonschema_rs), so a
renamed component passes and a dangling `$ref` or a wrong type fails.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from litestar.testing import TestClient

from fundraising.container import Container
from fundraising.entrypoints.http.app import create_app
from fundraising.settings import Settings

PROBLEM_JSON = "application/problem+json"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# (method, path as in the contract, needs a bearer token, the errors the contract names)
CONTRACT: list[tuple[str, str, bool, set[int]]] = [
    ("POST", "/auth/users/", False, {400, 409}),
    ("POST", "/auth/jwt/create/", False, {400, 401, 429}),
    ("POST", "/auth/jwt/refresh/", False, {400, 401}),
    ("POST", "/auth/jwt/verify/", False, {400, 401}),
    ("GET", "/auth/users/me/", True, {401}),
    ("PATCH", "/auth/users/me/", True, {400, 401, 409}),
    ("DELETE", "/auth/users/me/", True, {400, 401}),
    ("POST", "/auth/users/activation/", False, {400}),
    ("POST", "/auth/users/resend_activation/", False, {400, 429}),
    ("POST", "/auth/users/set_password/", True, {400, 401}),
    ("POST", "/auth/users/reset_password/", False, {400, 429}),
    ("POST", "/auth/users/reset_password_confirm/", False, {400}),
    ("POST", "/auth/jwt/logout/", False, {400, 401}),
    ("GET", "/api/v1/collects/", True, {400, 401, 404}),
    ("POST", "/api/v1/collects/", True, {400, 401, 413}),
    ("GET", "/api/v1/collects/{id}/", True, {401, 404}),
    ("PATCH", "/api/v1/collects/{id}/", True, {400, 401, 403, 404, 413}),
    ("DELETE", "/api/v1/collects/{id}/", True, {401, 403, 404, 409}),
    ("POST", "/api/v1/collects/{id}/cancel/", True, {401, 403, 404, 409}),
    ("GET", "/api/v1/collects/{id}/updates/", True, {400, 401, 404}),
    ("GET", "/api/v1/collects/{id}/export/", True, {401, 403, 404}),
    ("POST", "/api/v1/collects/{id}/updates/", True, {400, 401, 403, 404}),
    ("DELETE", "/api/v1/collects/{id}/updates/{id}/", True, {401, 403, 404}),
    ("GET", "/api/v1/collects/{id}/payments/", True, {400, 401, 404}),
    ("POST", "/api/v1/collects/{id}/join/", True, {401, 404, 409}),
    ("GET", "/api/v1/collects/{id}/participants/", True, {401, 403, 404}),
    ("GET", "/api/v1/collects/{id}/share/", True, {401, 403, 404}),
    ("POST", "/api/v1/collects/{id}/share/rotate/", True, {401, 403, 404}),
    ("POST", "/api/v1/collects/{id}/participants/", True, {400, 401, 403, 404, 409}),
    ("DELETE", "/api/v1/collects/{id}/participants/{id}/", True, {401, 403, 404, 409}),
    ("POST", "/api/v1/collects/{id}/organisers/", True, {400, 401, 403, 404}),
    ("DELETE", "/api/v1/collects/{id}/organisers/{id}/", True, {401, 403, 404}),
    ("POST", "/api/v1/collects/{id}/reminders/", True, {401, 403, 404, 409}),
    ("GET", "/api/v1/payments/", True, {400, 401, 404}),
    ("POST", "/api/v1/payments/", True, {400, 401, 409}),
    ("GET", "/api/v1/payments/{id}/", True, {401, 404}),
    ("POST", "/api/v1/payments/{id}/refund/", True, {400, 401, 404, 409}),
    ("POST", "/api/v1/webhooks/", True, {400, 401, 404}),
    ("GET", "/api/v1/webhooks/", True, {400, 401, 404}),
    ("DELETE", "/api/v1/webhooks/{id}/", True, {401, 404}),
    ("GET", "/api/v1/webhooks/{id}/deliveries/", True, {400, 401, 404}),
    ("GET", "/health/live", False, set()),
    ("GET", "/health/ready", False, {503}),
]

COLLECT_FIELDS = {
    "id", "title", "occasion", "description", "goal_amount", "collected_amount",
    "donors_count", "donations_count", "progress", "start_date", "end_date", "is_active", "status",
    "created_by", "author_name", "cover_url", "cover_status", "created_at", "updated_at",
    "visibility", "hidden_from", "suggested_amount", "participants_count",
}  # fmt: skip
FEED_FIELDS = {"amount", "payment_date", "donor_name", "comment"}
PAYMENT_FIELDS = {
    "id", "collect", "amount", "status", "transaction_id", "payment_date", "visibility",
    "is_anonymous", "comment", "metadata", "refunded_at",
}  # fmt: skip
USER_FIELDS = {"id", "username", "email", "first_name", "last_name", "email_verified"}
COLLECT_WRITABLE = {
    "title", "occasion", "description", "goal_amount", "end_date", "visibility",
    "suggested_amount",
}  # fmt: skip

# (method, path, media type, documented properties, required ones, a contract-valid body)
REQUEST_BODIES: list[tuple[str, str, str, set[str], set[str], dict[str, Any]]] = [
    (
        "POST", "/auth/users/", "application/json",
        {"username", "email", "password", "first_name", "last_name"},
        {"username", "email", "password"},
        {"username": "ivan", "email": "ivan@example.com", "password": "correct horse battery"},
    ),
    (
        "POST", "/auth/jwt/create/", "application/json",
        {"username", "password"}, {"username", "password"},
        {"username": "ivan", "password": "correct horse battery"},
    ),
    (
        "POST", "/auth/jwt/refresh/", "application/json",
        {"refresh"}, {"refresh"}, {"refresh": "eyJhbGciOiJIUzI1NiJ9.e30.x"},
    ),
    (
        "POST", "/auth/jwt/verify/", "application/json",
        {"token"}, {"token"}, {"token": "eyJhbGciOiJIUzI1NiJ9.e30.x"},
    ),
    (
        "POST", "/auth/jwt/logout/", "application/json",
        {"refresh"}, {"refresh"}, {"refresh": "eyJhbGciOiJIUzI1NiJ9.e30.x"},
    ),
    (
        "PATCH", "/auth/users/me/", "application/json",
        {"first_name", "last_name", "email"}, set(), {"email": "ivan@example.com"},
    ),
    (
        "DELETE", "/auth/users/me/", "application/json",
        {"current_password"}, {"current_password"}, {"current_password": "x"},
    ),
    (
        "POST", "/auth/users/activation/", "application/json",
        {"uid", "token"}, {"uid", "token"}, {"uid": "MQ", "token": "t"},
    ),
    (
        "POST", "/auth/users/resend_activation/", "application/json",
        {"email"}, {"email"}, {"email": "ivan@example.com"},
    ),
    (
        "POST", "/auth/users/reset_password/", "application/json",
        {"email"}, {"email"}, {"email": "ivan@example.com"},
    ),
    (
        "POST", "/auth/users/set_password/", "application/json",
        {"current_password", "new_password"}, {"current_password", "new_password"},
        {"current_password": "x", "new_password": "amber-violet-harbour"},
    ),
    (
        "POST", "/auth/users/reset_password_confirm/", "application/json",
        {"uid", "token", "new_password"}, {"uid", "token", "new_password"},
        {"uid": "MQ", "token": "t", "new_password": "amber-violet-harbour"},
    ),
    (
        "POST", "/api/v1/collects/", "application/json",
        COLLECT_WRITABLE | {"hidden_from"}, {"title"},
        {"title": "Подарок", "occasion": "birthday", "goal_amount": "5000.00",
         "end_date": "2030-01-31T18:00:00Z"},
    ),
    (
        "POST", "/api/v1/collects/", "multipart/form-data",
        COLLECT_WRITABLE | {"cover"}, {"title"}, {"title": "Подарок", "goal_amount": "5000"},
    ),
    (
        "PATCH", "/api/v1/collects/{id}/", "application/json",
        COLLECT_WRITABLE | {"is_active", "cover", "hidden_from"}, set(),
        {"is_active": False, "goal_amount": None, "end_date": None, "cover": None},
    ),
    (
        "PATCH", "/api/v1/collects/{id}/", "multipart/form-data",
        COLLECT_WRITABLE | {"is_active", "cover"}, set(), {"title": "Свадьба"},
    ),
    (
        "POST", "/api/v1/payments/", "application/json",
        {"collect", "amount", "transaction_id", "visibility", "is_anonymous", "comment",
         "metadata"},
        {"collect", "amount", "transaction_id"},
        {"collect": 7, "amount": 150, "transaction_id": "sber_6f1c", "visibility": "anonymous",
         "is_anonymous": True, "comment": None, "metadata": {"source": "app"}},
    ),
]  # fmt: skip


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{id}", path).rstrip("/")


def _label(method: str, path: str) -> str:
    return f"{method} {path}"


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root: Path = tmp_path_factory.mktemp("openapi")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=f"sqlite:///{root / 'fundraising.sqlite3'}",
        media_dir=root / "media",
        mail_dir=root / "mail",
        cache_changes_file=root / "cache-changes",
    )
    with TestClient(create_app(Container(settings=settings))) as client:
        response = client.get("/docs/openapi.json")
        assert response.status_code == 200, response.text
        assert "json" in response.headers["content-type"]
        yield response.json()


def operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The documented operation for a contract path (with or without the trailing slash)."""
    found = [
        item[method.lower()]
        for documented, item in doc["paths"].items()
        if _norm(documented) == _norm(path) and method.lower() in item
    ]
    assert found, f"{method} {path} is not in the document"
    return found[0]


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s (failing clearly on a dangling one)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = doc
        for escaped in ref[2:].split("/"):
            part = escaped.replace("~1", "/").replace("~0", "~")
            assert isinstance(target, dict) and part in target, f"dangling $ref {ref}"
            target = target[part]
        node = target
    return node


def validator(doc: dict[str, Any], schema: Any, *, formats: bool = False) -> Any:
    """A JSON Schema 2020-12 validator of `schema`, whose `#/components/...` refs resolve."""
    root = {"$schema": DRAFT_2020_12, "components": doc.get("components", {}), "allOf": [schema]}
    return jsonschema_rs.validator_for(root, validate_formats=formats)


def response_schema(doc: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    responses = operation(doc, method, path)["responses"]
    assert str(status) in responses, f"{method} {path} does not document {status}"
    content = resolve(doc, responses[str(status)]).get("content", {})
    assert "application/json" in content, f"{method} {path} {status}: {sorted(content)}"
    return resolve(doc, content["application/json"].get("schema", {}))


def properties(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema = resolve(doc, schema)
    assert schema.get("type") == "object", schema
    return {name: resolve(doc, value) for name, value in schema.get("properties", {}).items()}


def _refs(node: Any, at: str = "#") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield at, value
            else:
                yield from _refs(value, f"{at}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{at}/{index}")


def _schemas_with_examples(node: Any, at: str = "#") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list) and ("type" in node or "oneOf" in node):
            yield at, node
        for key, value in node.items():
            yield from _schemas_with_examples(value, f"{at}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schemas_with_examples(value, f"{at}/{index}")


# --- the document as a whole ---


def test_the_document_is_openapi_3_1(doc: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["info"]["title"]
    assert doc["info"]["version"]


def test_the_document_is_valid_against_the_openapi_3_1_meta_schema(doc: dict[str, Any]) -> None:
    definitions = pytest.importorskip(
        "schemathesis.specs.openapi.definitions",
        reason="schemathesis (which ships the OpenAPI 3.1 meta-schema) is not installed",
    )
    errors = [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in definitions.OPENAPI_31_VALIDATOR.iter_errors(doc)
    ]
    assert errors == []


def test_every_component_schema_is_a_valid_json_schema(doc: dict[str, Any]) -> None:
    invalid = [
        name
        for name, schema in doc["components"]["schemas"].items()
        if not jsonschema_rs.meta.is_valid({"$schema": DRAFT_2020_12, **schema})
    ]
    assert invalid == []


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    dangling = []
    for where, ref in _refs(doc):
        try:
            resolve(doc, {"$ref": ref})
        except AssertionError:
            dangling.append(f"{where} -> {ref}")
    assert dangling == []


def test_documented_examples_are_valid_against_their_schemas(doc: dict[str, Any]) -> None:
    wrong = []
    for where, schema in _schemas_with_examples(doc):
        check = validator(doc, {key: value for key, value in schema.items() if key != "examples"})
        check_formats = validator(
            doc, {key: value for key, value in schema.items() if key != "examples"}, formats=True
        )
        for example in schema["examples"]:
            if not (check.is_valid(example) and check_formats.is_valid(example)):
                wrong.append(f"{where}: {example!r}"[:200])
    assert wrong == []


def test_the_operations_are_the_contracts(doc: dict[str, Any]) -> None:
    documented = {
        (method.upper(), _norm(path))
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    }
    assert documented == {(method, _norm(path)) for method, path, _, _ in CONTRACT}


# --- security ---


def _bearer_schemes(doc: dict[str, Any]) -> set[str]:
    schemes = doc.get("components", {}).get("securitySchemes", {})
    return {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    }


def test_the_bearer_security_scheme_is_declared(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    bearer = _bearer_schemes(doc)
    assert len(bearer) == 1, schemes
    assert schemes[bearer.pop()].get("bearerFormat") == "JWT"
    assert not doc.get("security"), "a global requirement would also cover the open operations"


@pytest.mark.parametrize(
    ("method", "path", "secured"),
    [(method, path, secured) for method, path, secured, _ in CONTRACT],
    ids=[_label(method, path) for method, path, _, _ in CONTRACT],
)
def test_exactly_the_token_operations_require_the_bearer_scheme(
    doc: dict[str, Any], method: str, path: str, secured: bool
) -> None:
    requirements = operation(doc, method, path).get("security", doc.get("security"))
    if secured:
        (scheme,) = _bearer_schemes(doc)
        assert requirements == [{scheme: []}]
    else:
        assert not requirements


def test_the_docs_themselves_are_not_operations(doc: dict[str, Any]) -> None:
    assert not [path for path in doc["paths"] if path.startswith(("/docs", "/media"))]


# --- errors ---


@pytest.mark.parametrize(
    ("method", "path", "errors"),
    [(method, path, errors) for method, path, _, errors in CONTRACT if errors],
    ids=[_label(method, path) for method, path, _, errors in CONTRACT if errors],
)
def test_the_contracts_errors_are_documented(
    doc: dict[str, Any], method: str, path: str, errors: set[int]
) -> None:
    documented = {int(status) for status in operation(doc, method, path)["responses"]}
    assert errors <= documented


@pytest.mark.parametrize(
    ("method", "path"),
    [(method, path) for method, path, _, _ in CONTRACT],
    ids=[_label(method, path) for method, path, _, _ in CONTRACT],
)
def test_every_error_response_is_documented_as_problem_details(
    doc: dict[str, Any], method: str, path: str
) -> None:
    responses = operation(doc, method, path)["responses"]
    for status, response in responses.items():
        if int(status) < 400:
            continue
        content = resolve(doc, response).get("content", {})
        assert set(content) == {PROBLEM_JSON}, f"{status}: {sorted(content)}"
        problem = validator(doc, content[PROBLEM_JSON]["schema"])
        body = {"type": "urn:x", "title": "Not found", "status": int(status), "detail": "No."}
        assert problem.is_valid(body), f"{status}: a contract problem is rejected"
        assert not problem.is_valid({"status": int(status)}), f"{status}: title/detail optional"


def test_a_validation_problem_documents_its_field_errors(doc: dict[str, Any]) -> None:
    content = operation(doc, "POST", "/api/v1/payments/")["responses"]["400"]["content"]
    problem = validator(doc, content[PROBLEM_JSON]["schema"])
    base = {"type": "urn:x", "title": "Invalid input", "status": 400, "detail": "Invalid."}
    assert problem.is_valid({**base, "errors": [{"field": "amount", "message": "Too small."}]})
    assert not problem.is_valid({**base, "errors": [{"field": "amount"}]})
    assert not problem.is_valid({**base, "errors": "amount"})


# --- request bodies ---


@pytest.mark.parametrize(
    "body",
    REQUEST_BODIES,
    ids=[f"{method} {path} {media}" for method, path, media, *_ in REQUEST_BODIES],
)
def test_request_bodies_are_documented_with_the_contracts_fields(
    doc: dict[str, Any], body: tuple[str, str, str, set[str], set[str], dict[str, Any]]
) -> None:
    method, path, media_type, fields, required, example = body
    request_body = resolve(doc, operation(doc, method, path).get("requestBody", {}))
    assert request_body.get("required") is True
    assert media_type in request_body["content"]
    schema = resolve(doc, request_body["content"][media_type]["schema"])
    assert set(properties(doc, schema)) == fields
    assert set(schema.get("required", [])) == required
    assert validator(doc, schema).is_valid(example)
    if required:
        assert not validator(doc, schema).is_valid({})


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/v1/collects/"), ("PATCH", "/api/v1/collects/{id}/")]
)
def test_the_cover_is_a_binary_file_in_multipart_only(
    doc: dict[str, Any], method: str, path: str
) -> None:
    content = resolve(doc, operation(doc, method, path)["requestBody"])["content"]
    form = properties(doc, content["multipart/form-data"]["schema"])
    cover = validator(doc, form["cover"])
    binary = [
        option
        for option in [
            form["cover"],
            *form["cover"].get("oneOf", []),
            *form["cover"].get("anyOf", []),
        ]
        if resolve(doc, option).get("format") == "binary"
        or "contentMediaType" in resolve(doc, option)
    ]
    assert binary, form["cover"]
    json_fields = properties(doc, content["application/json"]["schema"])
    if method == "POST":
        assert "cover" not in json_fields
    else:  # JSON can only remove it
        assert validator(doc, json_fields["cover"]).is_valid(None)
        assert not validator(doc, json_fields["cover"]).is_valid("aGVsbG8=")
    assert cover.is_valid("")


def test_money_input_is_documented_as_a_string_or_a_number(doc: dict[str, Any]) -> None:
    body = resolve(doc, operation(doc, "POST", "/api/v1/payments/")["requestBody"])
    amount = validator(
        doc, properties(doc, body["content"]["application/json"]["schema"])["amount"]
    )
    for accepted in ["150.00", "150", "1.5", "10000000.00", 150, 150.5, 1, 10_000_000]:
        assert amount.is_valid(accepted), accepted
    # The bounds of a donation (1.00 to 10,000,000.00) and its two decimal places.
    for rejected in [True, None, [], "abc", "0.5", 0.5, "0", "10000000.01", "1.234", 1.234]:
        assert not amount.is_valid(rejected), rejected


# --- responses ---

MONEY = [
    ("GET", "/api/v1/collects/{id}/", ("goal_amount",), True),
    ("GET", "/api/v1/collects/{id}/", ("collected_amount",), False),
    ("GET", "/api/v1/collects/{id}/", ("payments", "amount"), True),
    ("GET", "/api/v1/collects/", ("results", "goal_amount"), True),
    ("GET", "/api/v1/collects/", ("results", "collected_amount"), False),
    ("GET", "/api/v1/collects/{id}/payments/", ("results", "amount"), True),
    ("GET", "/api/v1/payments/{id}/", ("amount",), False),
    ("GET", "/api/v1/payments/", ("results", "amount"), False),
]


def _field(doc: dict[str, Any], schema: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    for name in names:
        schema = properties(doc, schema)[name]
        if schema.get("type") == "array":
            schema = resolve(doc, schema["items"])
    return schema


@pytest.mark.parametrize(
    ("method", "path", "names", "nullable"),
    MONEY,
    ids=[f"{method} {path} {'.'.join(names)}" for method, path, names, _ in MONEY],
)
def test_money_in_responses_is_a_string_with_two_decimals(
    doc: dict[str, Any], method: str, path: str, names: tuple[str, ...], nullable: bool
) -> None:
    money = validator(doc, _field(doc, response_schema(doc, method, path, 200), names))
    for accepted in ["150.00", "0.00", "9999999999.99"]:
        assert money.is_valid(accepted), accepted
    for rejected in ["150", "150.0", "150.000", "1.5e2", 150.0, 150, "abc"]:
        assert not money.is_valid(rejected), rejected
    assert money.is_valid(None) is nullable


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/api/v1/collects/", COLLECT_FIELDS),
        ("/api/v1/collects/{id}/payments/", FEED_FIELDS),
        ("/api/v1/payments/", PAYMENT_FIELDS),
    ],
)
def test_list_responses_are_pages(doc: dict[str, Any], path: str, fields: set[str]) -> None:
    page = response_schema(doc, "GET", path, 200)
    assert {"count", "next", "previous", "results"} <= set(page.get("required", []))
    shape = properties(doc, page)
    assert validator(doc, shape["count"]).is_valid(3)
    assert not validator(doc, shape["count"]).is_valid("3")
    for link in ("next", "previous"):
        assert validator(doc, shape[link]).is_valid(None)
        assert validator(doc, shape[link]).is_valid("http://host/api/v1/x/?page=2")
    assert shape["results"]["type"] == "array"
    assert set(properties(doc, shape["results"]["items"])) == fields
    empty = {"count": 0, "next": None, "previous": None, "results": []}
    assert validator(doc, page).is_valid(empty)
    assert not validator(doc, page).is_valid({"results": []})


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/collects/{id}/", 200),
        ("POST", "/api/v1/collects/", 201),
        ("PATCH", "/api/v1/collects/{id}/", 200),
    ],
)
def test_a_collect_detail_describes_its_payments(
    doc: dict[str, Any], method: str, path: str, status: int
) -> None:
    detail = response_schema(doc, method, path, status)
    assert set(properties(doc, detail)) == COLLECT_FIELDS | {"payments"}
    assert COLLECT_FIELDS | {"payments"} <= set(detail.get("required", []))
    payments = properties(doc, detail)["payments"]
    assert payments["type"] == "array"
    entry = resolve(doc, payments["items"])
    assert set(properties(doc, entry)) == FEED_FIELDS
    assert set(entry.get("required", [])) == FEED_FIELDS
    feed = validator(doc, payments)
    good = {
        "amount": "150.00",
        "payment_date": "2026-11-26T15:04:05Z",
        "donor_name": "Anonymous",
        "comment": None,
    }
    assert feed.is_valid([good, {**good, "amount": None, "comment": "Счастья!"}])
    assert not feed.is_valid([{**good, "email": 1, "amount": 150}])


@pytest.mark.parametrize(
    ("method", "path", "status", "fields"),
    [
        ("POST", "/auth/users/", 201, USER_FIELDS),
        ("GET", "/auth/users/me/", 200, USER_FIELDS),
        ("PATCH", "/auth/users/me/", 200, USER_FIELDS),
        ("POST", "/auth/jwt/refresh/", 200, {"access", "refresh"}),
        ("POST", "/api/v1/payments/", 201, PAYMENT_FIELDS),
        ("POST", "/api/v1/payments/", 200, PAYMENT_FIELDS),
        ("GET", "/api/v1/payments/{id}/", 200, PAYMENT_FIELDS),
        ("POST", "/auth/jwt/create/", 200, {"access", "refresh"}),
    ],
)
def test_response_objects_have_the_contracts_fields(
    doc: dict[str, Any], method: str, path: str, status: int, fields: set[str]
) -> None:
    schema = response_schema(doc, method, path, status)
    assert set(properties(doc, schema)) == fields
    assert set(schema.get("required", [])) == fields


def test_times_in_responses_are_date_times(doc: dict[str, Any]) -> None:
    collect = properties(doc, response_schema(doc, "GET", "/api/v1/collects/{id}/", 200))
    payment = properties(doc, response_schema(doc, "GET", "/api/v1/payments/{id}/", 200))
    for schema in [
        *(collect[name] for name in ("start_date", "created_at")),
        payment["payment_date"],
    ]:
        check = validator(doc, schema, formats=True)
        assert check.is_valid("2026-11-26T15:04:05Z")
        assert check.is_valid("2026-11-26T15:04:05.123456+00:00")
        assert not check.is_valid("26.11.2026")
    assert validator(doc, collect["end_date"], formats=True).is_valid(None)


@pytest.mark.parametrize(
    ("method", "path"),
    [(method, path) for method, path, _, _ in CONTRACT if method != "DELETE"],
    ids=[_label(method, path) for method, path, _, _ in CONTRACT if method != "DELETE"],
)
def test_every_json_success_response_has_a_schema(
    doc: dict[str, Any], method: str, path: str
) -> None:
    for status, response in operation(doc, method, path)["responses"].items():
        if not 200 <= int(status) < 300:
            continue
        content = resolve(doc, response).get("content", {})
        if status == "204":
            assert not content, "a 204 has no body"
            continue
        if path.endswith("/export/"):  # the one answer that is not JSON
            assert content["text/csv; charset=utf-8"]["schema"] == {"type": "string"}
            continue
        assert "application/json" in content, status
        schema = resolve(doc, content["application/json"].get("schema", {}))
        assert schema, f"{status}: an empty schema describes nothing"
        assert schema.get("type") == "object" or "properties" in schema, status


@pytest.mark.parametrize(
    ("method", "path", "status", "header"),
    [
        ("POST", "/api/v1/collects/", 201, "Location"),
        ("POST", "/api/v1/payments/", 200, "Idempotent-Replayed"),
        ("POST", "/auth/jwt/create/", 429, "Retry-After"),
    ],
)
def test_the_contracts_response_headers_are_documented(
    doc: dict[str, Any], method: str, path: str, status: int, header: str
) -> None:
    response = resolve(doc, operation(doc, method, path)["responses"][str(status)])
    assert header.lower() in {name.lower() for name in response.get("headers", {})}


# --- names and meanings ---

HTTP_PHRASES = {
    "Request fulfilled, document follows",
    "Document created, URL follows",
    "Request fulfilled, nothing follows",
    "Request accepted, processing continues off-line",
    "Additional response",
}


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in doc["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    ]


def test_operation_ids_are_readable_and_unique(doc: dict[str, Any]) -> None:
    ids = [operation["operationId"] for operation in _operations(doc)]
    assert len(ids) == len(set(ids)) == len(CONTRACT)
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", name) for name in ids), ids
    assert {"createCollect", "donate", "refundPayment", "createWebhook"} <= set(ids)


def test_every_success_says_what_it_means(doc: dict[str, Any]) -> None:
    generic = {
        (operation["operationId"], status): response["description"]
        for operation in _operations(doc)
        for status, response in operation["responses"].items()
        if status.startswith("2") and response["description"] in HTTP_PHRASES
    }
    assert generic == {}


# (component, path, body, documented as valid): rules between or inside fields that the
# document states, each on both sides of the line.
RULES: list[tuple[str, str, dict[str, Any], bool]] = [
    ("EmailRequest", "/auth/users/reset_password/", {"email": "ivan@example.com"}, True),
    ("EmailRequest", "/auth/users/reset_password/", {"email": "ivan@mail.test"}, False),
    ("EmailRequest", "/auth/users/reset_password/", {"email": "ivan@LocalHost"}, False),
    ("EmailRequest", "/auth/users/reset_password/", {"email": "ivan@x.onion"}, False),
    ("UserRegistration", "/auth/users/", {"password": "a long enough passphrase"}, True),
    ("UserRegistration", "/auth/users/", {"password": "2026112612345678"}, False),
    ("UserRegistration", "/auth/users/", {"password": "short"}, False),
    ("PaymentCreate", "/api/v1/payments/", {"is_anonymous": True, "visibility": "anonymous"}, True),
    ("PaymentCreate", "/api/v1/payments/", {"is_anonymous": False, "visibility": "public"}, True),
    ("PaymentCreate", "/api/v1/payments/", {"is_anonymous": True, "visibility": "public"}, False),
    (
        "PaymentCreate",
        "/api/v1/payments/",
        {"is_anonymous": False, "visibility": "anonymous"},
        False,
    ),
    ("PaymentCreate", "/api/v1/payments/", {"metadata": {"n": 2**53 - 1}}, True),
    ("PaymentCreate", "/api/v1/payments/", {"metadata": {"n": 2**53}}, False),
    ("CollectCreate", "/api/v1/collects/", {"title": " Подарок "}, True),
    ("CollectCreate", "/api/v1/collects/", {"title": " \x1e\u3000"}, False),  # all stripped
]


@pytest.mark.parametrize("rule", RULES)
def test_what_the_document_states_of_a_body_the_service_holds_to(
    doc: dict[str, Any],
    client: TestClient[Any],
    make_account: Any,
    rule: tuple[str, str, dict[str, Any], bool],
) -> None:
    component, path, fields, valid = rule
    account, unique = make_account(), uuid.uuid4().hex[:12]
    collect = client.post("/api/v1/collects/", json={"title": "Rules"}, headers=account.headers)
    complete = {
        "UserRegistration": {"username": f"rules_{unique}", "email": f"{unique}@example.com"},
        "PaymentCreate": {
            "collect": collect.json()["id"],
            "amount": "10.00",
            "transaction_id": f"rules-{unique}",
        },
    }.get(component, {})
    body = {**complete, **fields}
    schema = {"$ref": f"#/components/schemas/{component}"}
    assert validator(doc, schema, formats=True).is_valid(body) is valid, body
    answer = client.post(path, json=body, headers=account.headers)
    assert (answer.status_code < 400) is valid, (body, answer.text)
