"""/auth/: registration, login (with throttling), refresh, verify and the current user."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from fundraising.adapters.security.tokens import AUDIENCE, ISSUER
from fundraising.container import Container
from tests.e2e.conftest import PASSWORD, PEER_HEADER, Account, assert_problem, check_each
from tests.fakes import FixedClock

MakeAccount = Callable[..., Account]
PEER = PEER_HEADER.decode()


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def register(client: TestClient[Any], **fields: Any) -> Any:
    name = unique()
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD, **fields}
    return client.post("/auth/users/", json=body)


def log_in(client: TestClient[Any], username: str, password: str, **headers: str) -> Any:
    return client.post(
        "/auth/jwt/create/", json={"username": username, "password": password}, headers=headers
    )


def me(client: TestClient[Any], token: str) -> Any:
    return client.get("/auth/users/me/", headers={"Authorization": f"Bearer {token}"})


def deactivate(container: Container, user_id: int) -> None:
    with container.engine().begin() as connection:
        connection.execute(
            text("UPDATE users SET is_active = :active WHERE id = :id"),
            {"active": False, "id": user_id},
        )


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def tampered(token: str) -> str:
    """The same token with its payload changed (another user id), signature left as it was."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(int(claims["sub"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


# --- registration ---


def test_registration_answers_201_with_the_user_and_no_password(client: TestClient[Any]) -> None:
    name = unique()
    response = client.post(
        "/auth/users/",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "password": PASSWORD,
            "first_name": "Иван",
            "last_name": "Петров",
        },
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == {"id", "username", "email", "first_name", "last_name", "email_verified"}
    assert isinstance(user["id"], int) and user["id"] > 0
    assert user["email_verified"] is False
    assert user["username"] == name
    assert (user["first_name"], user["last_name"]) == ("Иван", "Петров")
    assert PASSWORD not in response.text
    assert "argon2" not in response.text.lower()
    assert "scrypt" not in response.text.lower()


def test_registration_without_names_gives_empty_names(client: TestClient[Any]) -> None:
    response = register(client)
    assert response.status_code == 201, response.text
    assert (response.json()["first_name"], response.json()["last_name"]) == ("", "")


def test_registration_lower_cases_the_email(client: TestClient[Any]) -> None:
    name = unique()
    response = register(client, username=name, email=f"{name.upper()}@Example.COM")
    assert response.status_code == 201, response.text
    assert response.json()["email"] == f"{name}@example.com"
    assert me(client, log_in(client, name, PASSWORD).json()["access"]).json()["email"] == (
        f"{name}@example.com"
    )


def test_registration_names_every_invalid_field_at_once(client: TestClient[Any]) -> None:
    response = client.post(
        "/auth/users/",
        json={"username": "bad name!", "email": "not-an-email", "password": "short"},
    )
    assert_problem(response, 400, "username", "email", "password")


def test_registration_requires_username_email_and_password(client: TestClient[Any]) -> None:
    assert_problem(client.post("/auth/users/", json={}), 400, "username", "email", "password")


def test_registration_rejects_each_invalid_field(client: TestClient[Any]) -> None:
    def rejected(case: tuple[dict[str, Any], str]) -> None:
        fields, name = case
        fields = {"email": f"{unique()}@example.com", **fields}
        assert_problem(register(client, **fields), 400, name)

    similar = f"alexander_smith{uuid.uuid4().hex[:2]}"
    check_each(
        [
            ({"username": ""}, "username"),
            ({"username": "with space"}, "username"),
            ({"username": "semi;colon"}, "username"),
            ({"username": "slash/"}, "username"),
            ({"username": "quote'"}, "username"),
            ({"username": "x" * 151}, "username"),
            ({"username": 42}, "username"),
            ({"email": "not-an-email"}, "email"),
            ({"email": "a@b"}, "email"),
            ({"email": "two@@example.com"}, "email"),
            ({"email": "sp ace@example.com"}, "email"),
            ({"email": ""}, "email"),
            ({"email": 42}, "email"),
            ({"password": "Ab1!xyz"}, "password"),  # 7 characters
            ({"password": "20261126123456"}, "password"),  # entirely numeric
            ({"password": "password1"}, "password"),  # common
            ({"password": "qwertyuiop"}, "password"),  # common
            ({"password": None}, "password"),
            ({"username": similar, "password": "alexander_smith1"}, "password"),  # similar
            ({"first_name": "x" * 151}, "first_name"),
            ({"last_name": ["x"]}, "last_name"),
        ],
        rejected,
    )


def test_registration_accepts_username_of_150_allowed_chars(client: TestClient[Any]) -> None:
    name = (unique("a.b@c+d-e_") + "x" * 150)[:150]
    response = register(client, username=name, email=f"{unique()}@example.com")
    assert response.status_code == 201, response.text
    assert response.json()["username"] == name


def test_a_taken_username_is_a_409(client: TestClient[Any]) -> None:
    name = unique()
    assert register(client, username=name).status_code == 201
    response = register(client, username=name, email=f"{unique()}@example.com")
    assert_problem(response, 409)


def test_a_taken_email_is_a_409_in_any_case(client: TestClient[Any]) -> None:
    name = unique()
    assert register(client, email=f"{name}@example.com").status_code == 201
    response = register(client, email=f"{name.upper()}@EXAMPLE.com")
    assert_problem(response, 409)


# --- /auth/jwt/create/ ---


def test_login_answers_access_and_refresh(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    response = log_in(client, account.username, PASSWORD)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(tokens) >= {"access", "refresh"}
    assert claims_of(tokens["access"])["token_type"] == "access"
    assert claims_of(tokens["refresh"])["token_type"] == "refresh"
    assert me(client, tokens["access"]).json()["id"] == account.id


def test_wrong_password_unknown_and_inactive_user_get_the_same_401(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    account = make_account()
    inactive = make_account()
    deactivate(container, inactive.id)
    same_id = {"X-Request-ID": "same-request-id"}
    answers = [
        log_in(client, account.username, "wrong password!", **same_id),
        log_in(client, unique("nobody"), PASSWORD, **same_id),
        log_in(client, inactive.username, PASSWORD, **same_id),
    ]
    for answer in answers:
        assert_problem(answer, 401)
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].headers.get("www-authenticate") == answers[2].headers.get("www-authenticate")


def test_login_with_missing_or_mistyped_fields_is_a_400(client: TestClient[Any]) -> None:
    def rejected(case: tuple[dict[str, Any], set[str]]) -> None:
        body, fields = case
        assert_problem(client.post("/auth/jwt/create/", json=body), 400, *fields)

    check_each(
        [
            ({}, {"username", "password"}),
            ({"username": "someone"}, {"password"}),
            ({"password": PASSWORD}, {"username"}),
            ({"username": 12, "password": ["x"]}, {"username", "password"}),
            ({"username": None, "password": None}, {"username", "password"}),
        ],
        rejected,
    )


def test_token_endpoints_answer_garbage_json_with_400(client: TestClient[Any]) -> None:
    def rejected(path: str) -> None:
        response = client.post(
            path, content=b'{"username": "x", ', headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 400)

    check_each(["/auth/jwt/create/", "/auth/jwt/refresh/", "/auth/jwt/verify/"], rejected)


def test_ten_failures_for_a_username_throttle_it_even_with_the_right_password(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for attempt in range(10):
        # each failure from another address: only the per-username counter reaches 10
        answer = log_in(client, account.username, "wrong password!", **{PEER: f"10.0.1.{attempt}"})
        assert_problem(answer, 401)
    throttled = log_in(client, account.username, PASSWORD, **{PEER: "10.0.2.1"})
    assert_problem(throttled, 429)
    assert int(throttled.headers["Retry-After"]) > 0
    # another user from that fresh address is not affected
    other = make_account()
    assert log_in(client, other.username, PASSWORD, **{PEER: "10.0.2.1"}).status_code == 200


def test_ten_failures_from_one_address_throttle_it(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for _ in range(10):
        assert_problem(
            log_in(client, unique("nobody"), "wrong password!", **{PEER: "10.0.3.1"}), 401
        )
    throttled = log_in(client, account.username, PASSWORD, **{PEER: "10.0.3.1"})
    assert_problem(throttled, 429)
    assert int(throttled.headers["Retry-After"]) > 0
    assert log_in(client, account.username, PASSWORD, **{PEER: "10.0.3.2"}).status_code == 200


def test_successful_logins_are_not_counted(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for _ in range(12):
        assert log_in(client, account.username, PASSWORD).status_code == 200
    for _ in range(9):
        assert_problem(log_in(client, account.username, "wrong password!"), 401)
    assert log_in(client, account.username, PASSWORD).status_code == 200


@pytest.mark.settings(login_max_failures=3)
def test_the_failure_limit_is_configurable(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for _ in range(3):
        assert_problem(log_in(client, account.username, "wrong password!"), 401)
    assert_problem(log_in(client, account.username, PASSWORD), 429)


# --- /auth/jwt/refresh/ ---


def test_refresh_gives_a_working_access_token(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    account = make_account()
    clock.advance(minutes=1)  # a new iat, so the new token differs from the old one
    response = client.post("/auth/jwt/refresh/", json={"refresh": account.refresh})
    assert response.status_code == 200, response.text
    access = response.json()["access"]
    assert claims_of(access)["token_type"] == "access"
    assert me(client, access).json()["id"] == account.id


def test_refresh_rejects_an_access_token(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    assert_problem(client.post("/auth/jwt/refresh/", json={"refresh": account.access}), 401)


def test_refresh_rejects_garbage(client: TestClient[Any]) -> None:
    check_each(
        ["garbage", "", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"],
        lambda token: assert_problem(
            client.post("/auth/jwt/refresh/", json={"refresh": token}), 401
        ),
    )


def test_refresh_rejects_an_expired_refresh_token(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    account = make_account()
    clock.advance(days=8)
    assert_problem(client.post("/auth/jwt/refresh/", json={"refresh": account.refresh}), 401)


def test_refresh_requires_the_field(client: TestClient[Any]) -> None:
    assert_problem(client.post("/auth/jwt/refresh/", json={}), 400, "refresh")


# --- /auth/jwt/verify/ ---


def test_verify_accepts_access_and_refresh_tokens(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for token in (account.access, account.refresh):
        response = client.post("/auth/jwt/verify/", json={"token": token})
        assert response.status_code == 200, response.text
        assert response.json() == {}


def test_verify_rejects_tampered_garbage_and_expired_tokens(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    account = make_account()
    for token in (tampered(account.access), "garbage", account.access + "x"):
        assert_problem(client.post("/auth/jwt/verify/", json={"token": token}), 401)
    clock.advance(days=8)
    for token in (account.access, account.refresh):
        assert_problem(client.post("/auth/jwt/verify/", json={"token": token}), 401)


def test_verify_requires_the_field(client: TestClient[Any]) -> None:
    assert_problem(client.post("/auth/jwt/verify/", json={"token": 5}), 400, "token")


# --- /auth/users/me/ and tokens ---


def test_me_answers_the_current_user(client: TestClient[Any], make_account: MakeAccount) -> None:
    account = make_account("Анна", "Смирнова")
    response = client.get("/auth/users/me/", headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": account.id,
        "username": account.username,
        "email": f"{account.username}@example.com",
        "first_name": "Анна",
        "last_name": "Смирнова",
        "email_verified": True,
    }


def test_tokens_carry_the_contract_claims(make_account: MakeAccount, container: Container) -> None:
    account = make_account()
    secret = container.signing_key()
    access = jwt.decode(account.access, secret, algorithms=["HS256"], audience=AUDIENCE)
    refresh = jwt.decode(account.refresh, secret, algorithms=["HS256"], audience=AUDIENCE)
    for claims, kind in ((access, "access"), (refresh, "refresh")):
        assert set(claims) >= {"exp", "iat", "jti", "sub", "token_type", "iss", "aud"}
        assert (claims["iss"], claims["aud"]) == (ISSUER, AUDIENCE)
        assert claims["token_type"] == kind
        assert claims["sub"] == str(account.id)
    assert access["exp"] - access["iat"] == timedelta(minutes=15).total_seconds()
    assert refresh["exp"] - refresh["iat"] == timedelta(days=7).total_seconds()
    assert access["jti"] != refresh["jti"]
    assert jwt.get_unverified_header(account.access)["alg"] == "HS256"


def test_me_without_a_token_is_a_401(client: TestClient[Any]) -> None:
    assert_problem(client.get("/auth/users/me/"), 401)
    assert_problem(client.get("/auth/users/me/", headers={"Authorization": "Bearer"}), 401)
    assert_problem(client.get("/auth/users/me/", headers={"Authorization": "Basic eDp5"}), 401)


def test_me_rejects_a_refresh_token(client: TestClient[Any], make_account: MakeAccount) -> None:
    assert_problem(me(client, make_account().refresh), 401)


def test_me_rejects_a_tampered_token(client: TestClient[Any], make_account: MakeAccount) -> None:
    account = make_account()
    make_account()  # so that the forged user id may well exist
    assert_problem(me(client, tampered(account.access)), 401)


def test_me_rejects_an_alg_none_token(client: TestClient[Any], make_account: MakeAccount) -> None:
    claims = claims_of(make_account().access)
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert_problem(me(client, unsigned), 401)


def test_me_rejects_a_token_signed_with_another_key(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    claims = claims_of(make_account().access)
    forged = jwt.encode(claims, "another-secret-key-of-a-reasonable-length!", algorithm="HS256")
    assert_problem(me(client, forged), 401)


def test_me_rejects_an_expired_access_token(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    account = make_account()
    assert me(client, account.access).status_code == 200  # remembered as verified: still checked
    clock.advance(minutes=16)
    assert_problem(me(client, account.access), 401)


def test_me_rejects_garbage_tokens(client: TestClient[Any]) -> None:
    for token in ("garbage", "a.b.c", "x" * 5000, "ünïcödé"):
        response = client.get(
            "/auth/users/me/", headers={b"Authorization": f"Bearer {token}".encode()}
        )
        assert_problem(response, 401)


def test_me_of_a_deactivated_user_is_a_401(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    account = make_account()
    deactivate(container, account.id)
    assert_problem(me(client, account.access), 401)
    assert_problem(client.post("/auth/jwt/refresh/", json={"refresh": account.refresh}), 401)
