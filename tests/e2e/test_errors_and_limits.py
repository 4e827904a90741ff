"""Errors as problem details, request ids, body limits, content types and unusual bodies."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from PIL import Image

from fundraising.container import Container
from tests.e2e.conftest import (
    PROBLEM_JSON,
    Account,
    assert_problem,
    check_each,
    create_collect,
    donate,
    image_bytes,
    transaction_id,
)

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"
PAYMENTS = "/api/v1/payments/"
MIB = 1024 * 1024
LEAKS = re.compile(
    r"Traceback|File \"|line \d+, in|sqlalchemy|pymysql|sqlite3|IntegrityError|OperationalError"
    r"|\bSELECT\b|\bINSERT\b|\bUPDATE\b|\bDELETE FROM\b|\$argon2|password_hash",
    re.IGNORECASE,
)


def error_responses(client: TestClient[Any], account: Account, other: Account) -> list[Any]:
    """One response of each error the API gives, from its ordinary endpoints."""
    collect_id = create_collect(client, account)
    tx = transaction_id()
    assert donate(client, account, collect_id, "10", transaction_id=tx).status_code == 201
    json_headers = {**account.headers, "Content-Type": "application/json"}
    return [
        client.post("/auth/users/", json={"username": "bad name", "password": "1"}),
        client.post(
            "/auth/users/",
            json={
                "username": account.username,
                "email": "a@b.cd",
                "password": "correct horse battery",
            },
        ),
        client.post("/auth/jwt/create/", json={"username": account.username, "password": "no"}),
        client.post(
            "/auth/jwt/create/", content=b"{", headers={"Content-Type": "application/json"}
        ),
        client.post("/auth/jwt/refresh/", json={"refresh": "garbage"}),
        client.get("/auth/users/me/"),
        client.get(COLLECTS, params={"ordering": "nope"}, headers=account.headers),
        client.get(f"{COLLECTS}{2**62}/", headers=account.headers),
        client.post(COLLECTS, json={"title": ""}, headers=account.headers),
        client.post(COLLECTS, content=b"[1, 2", headers=json_headers),
        client.patch(f"{COLLECTS}{collect_id}/", json={"title": "x"}, headers=other.headers),
        client.delete(f"{COLLECTS}{collect_id}/", headers=account.headers),
        donate(client, account, collect_id, "0.5"),
        donate(client, account, collect_id, "11", transaction_id=tx),
        donate(client, account, 2**62, "10"),
        client.put(PAYMENTS, json={}, headers=account.headers),
        client.get("/no/such/path/"),
        client.post(PAYMENTS, content=b"x" * (65 * 1024), headers=json_headers),
        client.post(
            PAYMENTS, content=b"amount=1", headers={**account.headers, "Content-Type": "text/plain"}
        ),
    ]


def test_every_error_is_a_problem_document(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    responses = error_responses(client, make_account(), make_account())
    statuses = set()
    for response in responses:
        assert response.status_code >= 400, (response.request.url, response.text)
        assert response.status_code < 500, (response.request.url, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_JSON), response.request.url
        body = response.json()
        assert isinstance(body["status"], int) and body["status"] == response.status_code
        assert isinstance(body["title"], str) and body["title"]
        assert isinstance(body["detail"], str) and body["detail"]
        if "errors" in body:
            for error in body["errors"]:
                assert set(error) >= {"field", "message"}
                assert isinstance(error["field"], str) and isinstance(error["message"], str)
        statuses.add(response.status_code)
    assert statuses == {400, 401, 403, 404, 405, 409, 413, 415}


def test_validation_errors_name_their_fields(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    assert_problem(client.post(COLLECTS, json={"title": ""}, headers=account.headers), 400, "title")
    assert_problem(
        client.get(COLLECTS, params={"occasion": "x"}, headers=account.headers), 400, "occasion"
    )
    assert_problem(client.post("/auth/users/", json={}), 400, "username", "email", "password")


def test_no_error_leaks_a_trace_sql_or_secret(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    account = make_account()
    secret = container.signing_key()
    for response in error_responses(client, account, make_account()):
        assert not LEAKS.search(response.text), response.text
        assert secret not in response.text
        assert account.access not in response.text
        assert "correct horse battery" not in response.text


def test_a_valid_client_request_id_is_echoed(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for value in ("abc-123_X.y", "a", "Z" * 128):
        for response in (
            client.get(COLLECTS, headers={**account.headers, "X-Request-ID": value}),
            client.get("/no/such/path", headers={"X-Request-ID": value}),
            client.delete(PAYMENTS, headers={**account.headers, "X-Request-ID": value}),
            client.post("/auth/jwt/create/", json={}, headers={"X-Request-ID": value}),
        ):
            assert response.headers["x-request-id"] == value, response.request.url


def test_an_invalid_client_request_id_is_replaced(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for value in ("has spaces in it", "Z" * 129, "semi;colon", "ключ", "a/b"):
        headers = {
            b"Authorization": account.headers["Authorization"].encode(),
            b"X-Request-ID": value.encode(),
        }
        response = client.get(COLLECTS, headers=headers)
        assert response.status_code == 200
        generated = response.headers["x-request-id"]
        assert generated and generated != value
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", generated)


def test_a_request_id_is_generated_for_every_response(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    responses = [
        client.get(COLLECTS, headers=account.headers),
        client.post(COLLECTS, json={"title": "t"}, headers=account.headers),
        client.get("/no/such/path"),
        client.get("/api/v1/collects/999999999999/", headers=account.headers),
        client.patch(PAYMENTS, json={}, headers=account.headers),
        client.get("/auth/users/me/"),
        client.get("/health/live"),
        client.post(PAYMENTS, content=b"x" * (65 * 1024), headers=account.headers),
    ]
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(ids), list(zip([r.status_code for r in responses], ids, strict=True))
    assert len(set(ids)) == len(ids)
    assert {r.status_code for r in responses} >= {200, 201, 401, 404, 405, 413}


def test_a_json_body_over_64_kib_is_a_413(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    big_comment = json.dumps(
        {"collect": collect_id, "amount": "1", "transaction_id": "t", "comment": "x" * 65 * 1024}
    )
    big_registration = json.dumps({"username": "u" * 70_000, "email": "a@b.cd", "password": "p"})
    headers = {**account.headers, "Content-Type": "application/json"}

    def too_large(case: tuple[str, str]) -> None:
        path, body = case
        assert_problem(client.post(path, content=body.encode(), headers=headers), 413)

    check_each(
        [
            (PAYMENTS, big_comment),
            ("/auth/users/", big_registration),
            ("/auth/jwt/create/", json.dumps({"username": "u", "password": "p" * 70_000})),
            ("/auth/jwt/verify/", json.dumps({"token": "t" * 70_000})),
        ],
        too_large,
    )
    assert client.get(PAYMENTS, headers=account.headers).json()["count"] == 0


def test_a_json_body_over_64_kib_is_a_413_on_collect_endpoints(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    padded = b'{"title": "t"' + b" " * (100 * 1024) + b"}"
    headers = {**account.headers, "Content-Type": "application/json"}
    assert_problem(client.post(COLLECTS, content=padded, headers=headers), 413)
    assert_problem(client.patch(f"{COLLECTS}{collect_id}/", content=padded, headers=headers), 413)


def test_a_json_body_of_exactly_64_kib_is_read(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    body = json.dumps({"collect": collect_id, "amount": "1", "transaction_id": transaction_id()})
    padded = body[:-1] + " " * (64 * 1024 - len(body)) + "}"
    assert len(padded) == 64 * 1024
    response = client.post(
        PAYMENTS,
        content=padded.encode(),
        headers={**account.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


def test_a_cover_over_2_mib_is_a_413(client: TestClient[Any], make_account: MakeAccount) -> None:
    account = make_account()
    png = image_bytes("PNG")
    oversized = png + b"\0" * (2 * MIB + 1 - len(png))
    assert len(oversized) == 2 * MIB + 1
    response = client.post(
        COLLECTS,
        data={"title": "big cover"},
        files={"cover": ("big.png", oversized, "image/png")},
        headers=account.headers,
    )
    assert_problem(response, 413)
    assert (
        client.get(COLLECTS, params={"author": "me"}, headers=account.headers).json()["count"] == 0
    )
    collect_id = create_collect(client, account)
    response = client.patch(
        f"{COLLECTS}{collect_id}/",
        files={"cover": ("big.png", oversized, "image/png")},
        headers=account.headers,
    )
    assert_problem(response, 413)


def test_a_cover_of_exactly_2_mib_is_not_too_large(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    png = image_bytes("PNG")
    exact = png + b"\0" * (2 * MIB - len(png))  # trailing bytes after IEND: still a valid PNG
    response = client.post(
        COLLECTS,
        data={"title": "2 MiB"},
        files={"cover": ("exact.png", exact, "image/png")},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text


def test_a_3_mib_multipart_request_is_a_413(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    response = client.post(
        COLLECTS,
        data={"title": "huge", "description": "x" * (3 * MIB)},
        headers=account.headers,
        files={"unused": ("a.txt", b"a", "text/plain")},
    )
    assert_problem(response, 413)
    response = client.post(
        COLLECTS,
        data={"title": "huge"},
        files={"cover": ("huge.png", b"\0" * (3 * MIB), "image/png")},
        headers=account.headers,
    )
    assert_problem(response, 413)


def test_an_invalid_cover_is_a_400_on_field_cover(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    huge = io.BytesIO()
    Image.new("1", (10_001, 4_000)).save(huge, "PNG")  # 40,004,000 pixels, a few KiB
    png = image_bytes("PNG")

    def rejected(case: tuple[str, bytes]) -> None:
        name, content = case
        response = client.post(
            COLLECTS,
            data={"title": "cover"},
            files={"cover": (name, content, "image/png")},
            headers=account.headers,
        )
        assert_problem(response, 400, "cover")

    check_each(
        [
            ("text.png", b"This is a text file, not a picture.\n" * 10),
            ("empty.png", b""),
            ("truncated.png", png[: len(png) // 2]),
            ("corrupt.jpg", image_bytes("JPEG")[:40]),
            ("anim.gif", gif.getvalue()),
            ("huge.png", huge.getvalue()),
        ],
        rejected,
    )
    assert (
        client.get(COLLECTS, params={"author": "me"}, headers=account.headers).json()["count"] == 0
    )


def test_a_cover_is_recognised_by_content_not_by_name(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    response = client.post(
        COLLECTS,
        data={"title": "named wrong"},
        files={"cover": ("document.txt", image_bytes("JPEG"), "text/plain")},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["cover_status"] in ("processing", "ready")


def test_a_wrong_content_type_is_a_415_or_400(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    cases = [
        (path, content_type)
        for path in ("/auth/users/", "/auth/jwt/create/", COLLECTS, PAYMENTS)
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml")
    ] + [(f"{COLLECTS}{collect_id}/", "text/plain")]

    def refused(case: tuple[str, str]) -> None:
        path, content_type = case
        method = "PATCH" if path.endswith(f"{collect_id}/") else "POST"
        response = client.request(
            method,
            path,
            content=b'{"title": "t", "username": "u"}',
            headers={**account.headers, "Content-Type": content_type},
        )
        assert response.status_code in (400, 415), response.text
        assert_problem(response, response.status_code)

    check_each(cases, refused)


def test_a_body_that_is_not_a_json_object_is_a_400(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    endpoints = [
        ("POST", "/auth/users/"),
        ("POST", "/auth/jwt/create/"),
        ("POST", "/auth/jwt/refresh/"),
        ("POST", "/auth/jwt/verify/"),
        ("POST", COLLECTS),
        ("PATCH", f"{COLLECTS}{collect_id}/"),
        ("POST", PAYMENTS),
    ]
    bodies = [
        b"[]",
        b'[{"title": "t"}]',
        b'"a string"',
        b"null",
        b"",
        b"   ",
        b"42",
        b"true",
        b"{",
        b'{"a": 1,}',
        b"\xff\xfe",
        b'{"title": "t"} trailing',
    ]
    cases = [(method, path, body) for method, path in endpoints for body in bodies]

    def rejected(case: tuple[str, str, bytes]) -> None:
        method, path, body = case
        response = client.request(
            method,
            path,
            content=body,
            headers={**account.headers, "Content-Type": "application/json"},
        )
        assert_problem(response, 400)

    check_each(cases, rejected)


def test_paths_without_the_trailing_slash_work(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    payment = donate(client, account, collect_id, "3").json()
    for path in (
        "/api/v1/collects",
        f"/api/v1/collects/{collect_id}",
        f"/api/v1/collects/{collect_id}/payments",
        "/api/v1/payments",
        f"/api/v1/payments/{payment['id']}",
        "/auth/users/me",
    ):
        response = client.get(path, headers=account.headers, follow_redirects=True)
        assert response.status_code == 200, (path, response.text)
    created = client.post(
        "/api/v1/collects",
        json={"title": "no slash"},
        headers=account.headers,
        follow_redirects=True,
    )
    assert created.status_code == 201, created.text
    tokens = client.post(
        "/auth/jwt/create", json={"username": account.username, "password": "correct horse battery"}
    )
    assert tokens.status_code == 200, tokens.text
    paid = client.post(
        "/api/v1/payments",
        json={"collect": collect_id, "amount": "1", "transaction_id": transaction_id()},
        headers=account.headers,
    )
    assert paid.status_code == 201, paid.text
    patched = client.patch(
        f"/api/v1/collects/{created.json()['id']}", json={"title": "x"}, headers=account.headers
    )
    assert patched.status_code == 200, patched.text
    deleted = client.delete(f"/api/v1/collects/{created.json()['id']}", headers=account.headers)
    assert deleted.status_code == 204


def test_an_unknown_path_is_a_404_problem(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    check_each(
        [
            "/nothing",
            "/api/v1/",
            "/api/v1/nothing/",
            "/api/v2/collects/",
            "/auth/",
            f"{COLLECTS}1/nothing/",
            "/media/missing.jpg",
        ],
        lambda path: assert_problem(client.get(path, headers=account.headers), 404),
    )


def test_health_endpoints(client: TestClient[Any]) -> None:
    assert client.get("/health/live").status_code == 200
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
