"""Schemathesis against /docs/openapi.json, through the ASGI app in-process, over SQLite.

Every operation gets FUNDRAISING_SCHEMATHESIS_EXAMPLES generated cases (default 15) in each
of positive and negative mode, authenticated as a real user (plus some unauthenticated ones),
with path ids that sometimes name seeded objects. A response must not be a 5xx, and its
status code, content type and body must be the ones the document describes. Every check and
phase, the stateful one included, is test_schemathesis_served.py's: this one adds the seeded
ids, and the request bodies generated from the document.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from attrs import frozen
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from litestar.testing import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fundraising.container import Container
from fundraising.entrypoints.http.app import create_app
from fundraising.settings import Settings
from tests.e2e.conftest import PASSWORD

EXAMPLES = int(os.environ.get("FUNDRAISING_SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    "POST /auth/users/",
    "POST /auth/jwt/create/",
    "POST /auth/jwt/refresh/",
    "POST /auth/jwt/verify/",
    "GET /auth/users/me/",
    "PATCH /auth/users/me/",
    "DELETE /auth/users/me/",
    "POST /auth/users/activation/",
    "POST /auth/users/resend_activation/",
    "POST /auth/users/set_password/",
    "POST /auth/users/reset_password/",
    "POST /auth/users/reset_password_confirm/",
    "POST /auth/jwt/logout/",
    "GET /api/v1/collects/",
    "POST /api/v1/collects/",
    "GET /api/v1/collects/{collect_id}/",
    "PATCH /api/v1/collects/{collect_id}/",
    "GET /api/v1/collects/{collect_id}/payments/",
    "POST /api/v1/collects/{collect_id}/join/",
    "GET /api/v1/collects/{collect_id}/participants/",
    "GET /api/v1/collects/{collect_id}/share/",
    "POST /api/v1/collects/{collect_id}/share/rotate/",
    "POST /api/v1/collects/{collect_id}/participants/",
    "DELETE /api/v1/collects/{collect_id}/participants/{member_id}/",
    "POST /api/v1/collects/{collect_id}/organisers/",
    "DELETE /api/v1/collects/{collect_id}/organisers/{member_id}/",
    "POST /api/v1/collects/{collect_id}/reminders/",
    "GET /api/v1/collects/{collect_id}/updates/",
    "POST /api/v1/collects/{collect_id}/updates/",
    "DELETE /api/v1/collects/{collect_id}/updates/{update_id}/",
    "GET /api/v1/collects/{collect_id}/export/",
    "POST /api/v1/collects/{collect_id}/cancel/",
    "POST /api/v1/payments/{payment_id}/refund/",
    "POST /api/v1/webhooks/",
    "GET /api/v1/webhooks/",
    "DELETE /api/v1/webhooks/{webhook_id}/",
    "GET /api/v1/webhooks/{webhook_id}/deliveries/",
    "GET /api/v1/payments/",
    "POST /api/v1/payments/",
    "GET /api/v1/payments/{payment_id}/",
    "DELETE /api/v1/collects/{collect_id}/",
    "GET /health/live",
    "GET /health/ready",
]
JSON, FORM = "application/json", "multipart/form-data"
REQUEST_BODIES: list[tuple[str, dict[str, set[str]]]] = [
    ("POST /auth/users/", {JSON: {"username", "email", "password"}}),
    ("POST /auth/jwt/create/", {JSON: {"username", "password"}}),
    ("POST /auth/jwt/refresh/", {JSON: {"refresh"}}),
    ("POST /auth/jwt/verify/", {JSON: {"token"}}),
    ("POST /auth/jwt/logout/", {JSON: {"refresh"}}),
    ("PATCH /auth/users/me/", {JSON: set()}),
    ("DELETE /auth/users/me/", {JSON: {"current_password"}}),
    ("POST /auth/users/activation/", {JSON: {"uid", "token"}}),
    ("POST /auth/users/resend_activation/", {JSON: {"email"}}),
    ("POST /auth/users/set_password/", {JSON: {"current_password", "new_password"}}),
    ("POST /auth/users/reset_password/", {JSON: {"email"}}),
    ("POST /auth/users/reset_password_confirm/", {JSON: {"uid", "token", "new_password"}}),
    ("POST /api/v1/collects/", {JSON: {"title"}, FORM: {"title"}}),
    ("PATCH /api/v1/collects/{collect_id}/", {JSON: set(), FORM: set()}),
    ("POST /api/v1/payments/", {JSON: {"collect", "amount", "transaction_id"}}),
]
# The app's task worker threads use `random` while Hypothesis generates; it is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same cases on every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


@frozen
class Api:
    schema: Any
    headers: dict[str, str]
    ids: dict[str, list[int]]
    statuses: Counter[int]


def _key(label: str) -> str:
    method, path = label.split(" ", 1)
    return f"{method} {re.sub(r'{[^}]+}', '{}', path).rstrip('/')}"


@pytest.fixture(scope="module")
def statuses(request: pytest.FixtureRequest) -> Iterator[Counter[int]]:
    """The status codes of every generated request in this module, reported at its end."""
    found: Counter[int] = Counter()
    yield found
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        summary = ", ".join(f"{status}: {count}" for status, count in sorted(found.items()))
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nschemathesis: {sum(found.values())} requests "
                f"({EXAMPLES} examples per operation and mode) - {summary}"
            )


def _settings(root: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=f"sqlite:///{root / 'fundraising.sqlite3'}",
        media_dir=root / "media",
        mail_dir=root / "mail",
        cache_changes_file=root / "cache-changes",
    )


@pytest.fixture
def api(tmp_path: Path, statuses: Counter[int]) -> Iterator[Api]:
    """A fresh app and database per test: schemathesis' pytest plugin ends the ASGI lifespan
    after every test, and the app's lifespan (its task worker) cannot be started twice."""
    app = create_app(Container(settings=_settings(tmp_path)))
    schema = schemathesis.openapi.from_asgi("/docs/openapi.json", app)  # starts the lifespan
    try:
        with asgi.get_client(app) as client:
            headers, ids = _seed(client.post)
        yield Api(schema, headers, ids, statuses)
    finally:
        asgi.shutdown_lifespans()


def _seed(post: Callable[..., Any]) -> tuple[dict[str, str], dict[str, list[int]]]:
    """Two users, collects with and without payments, one of them someone else's."""

    def login(username: str) -> dict[str, str]:
        account = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        assert post("/auth/users/", json=account).status_code == 201
        tokens = post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        return {"Authorization": f"Bearer {tokens.json()['access']}"}

    def created(path: str, body: dict[str, Any], headers: dict[str, str]) -> int:
        response = post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    me, other = login("fuzzer"), login("bystander")
    mine = created("/api/v1/collects/", {"title": "Мой сбор", "goal_amount": "1000"}, me)
    empty = created("/api/v1/collects/", {"title": "Пустой", "occasion": "wedding"}, me)
    theirs = created("/api/v1/collects/", {"title": "Чужой"}, other)
    donation = {"collect": mine, "amount": "150.00", "transaction_id": "seed-1"}
    paid = created("/api/v1/payments/", donation, me)
    hidden = created(
        "/api/v1/payments/", {"collect": theirs, "amount": 5, "transaction_id": "seed-2"}, other
    )
    return me, {"collect_id": [mine, empty, theirs], "payment_id": [paid, hidden]}


def _operation(api: Api, label: str) -> Any:
    found = [
        result.ok()
        for result in api.schema.get_all_operations()
        if _key(result.ok().label) == _key(label)
    ]
    assert found, f"{label} is not in the document"
    return found[0]


def _cases(api: Api, operation: Any, mode: GenerationMode) -> st.SearchStrategy[Any]:
    """Authenticated cases, some of them on the seeded ids."""
    variants = [operation.as_strategy(mode, headers=api.headers)]
    for name in re.findall(r"{([^}]+)}", operation.path):
        variants += [
            operation.as_strategy(mode, headers=api.headers, path_parameters={name: value})
            for value in api.ids.get(name, [])
        ]
    return st.one_of(variants)


def test_schemathesis_sees_every_operation(api: Api) -> None:
    labels = {_key(result.ok().label) for result in api.schema.get_all_operations()}
    assert labels == {_key(label) for label in OPERATIONS}


@pytest.mark.parametrize("label", OPERATIONS)
def test_responses_conform_to_the_document(api: Api, label: str) -> None:
    operation = _operation(api, label)
    failures: dict[str, str] = {}
    runs = [
        (mode, _cases(api, operation, mode), EXAMPLES)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ] + [  # no token or a generated one: only a few, they all end in a 401 where one is needed
        (mode, operation.as_strategy(mode), max(1, EXAMPLES // 10))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    for mode, cases, examples in runs:

        @settings(HYPOTHESIS, max_examples=examples)
        @given(case=cases)
        def run(case: Any) -> None:
            response = case.call()
            api.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as found:
                titles = " + ".join(sorted(failure.title for failure in found.exceptions))
                key = f"{label}: {titles} ({response.status_code})"
                failures.setdefault(key, f"{key}\n{found}")

        try:
            run()
        except Unsatisfiable:
            # Nothing in this operation can be made invalid (no parameters, no body)
            assert mode is GenerationMode.NEGATIVE, "no valid case could be generated"

    if failures:
        pytest.fail("\n\n".join(failures.values()), pytrace=False)


@pytest.mark.parametrize(
    ("label", "required"), REQUEST_BODIES, ids=[label for label, _ in REQUEST_BODIES]
)
def test_request_bodies_are_generated_from_the_document(
    api: Api, label: str, required: dict[str, set[str]]
) -> None:
    operation = _operation(api, label)
    bodies: dict[str | None, list[Any]] = {}

    @settings(HYPOTHESIS, max_examples=25)
    @given(case=operation.as_strategy())
    def draw(case: Any) -> None:
        bodies.setdefault(case.media_type, []).append(case.body)

    draw()
    assert set(bodies) == set(required)
    for media_type, fields in required.items():
        for body in bodies[media_type]:
            assert isinstance(body, dict), body
            assert fields <= set(body), body


@pytest.mark.parametrize(
    ("method", "field", "value"),
    [
        ("POST", "cover", b"\x89PNG\r\n\x1a\n"),
        ("POST", "title", b"\xff\xfe"),
        ("PATCH", "cover", b";\xed"),
    ],
)
def test_a_multipart_field_that_is_not_utf8_is_a_400(
    tmp_path: Path, method: str, field: str, value: bytes
) -> None:
    with TestClient(create_app(Container(settings=_settings(tmp_path)))) as client:
        headers, ids = _seed(client.post)
        path = "/api/v1/collects/"
        if method == "PATCH":
            path = f"/api/v1/collects/{ids['collect_id'][0]}/"
        fields = {"title": (None, b"Cover"), field: (None, value)}
        response = client.request(method, path, files=fields, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
