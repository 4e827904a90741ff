"""Forged, tampered, expired and misused tokens, and password guessing, against the real app.

Tokens are built with PyJWT where it agrees to build them. Where it refuses by design, the
token is put together by hand from the same parts: RS256 (PyJWT needs `cryptography`, which
the service does not depend on, so the RSA key and its PKCS#1 v1.5 signature are computed
here), and HS256 keyed with a PEM public key (PyJWT will not use an asymmetric key as an
HMAC secret — the very confusion a careless verifier falls into).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import jwt
import pytest
from attrs import evolve, frozen
from litestar.testing import TestClient
from sqlalchemy import text

from fundraising.container import Container
from tests.e2e.conftest import (
    PASSWORD,
    PEER_HEADER,
    Account,
    assert_problem,
    check_each,
    create_collect,
    donate,
    transaction_id,
)
from tests.fakes import FixedClock

MakeAccount = Callable[..., Account]
PEER = PEER_HEADER.decode()
COLLECTS = "/api/v1/collects/"
PAYMENTS = "/api/v1/payments/"


# --- building tokens ---


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def segment(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def hs256(header: dict[str, Any], claims: Any, key: bytes) -> str:
    """An HS256 JWT signed with any key at all (PyJWT refuses PEM-looking keys)."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def with_claims(token: str, **changes: Any) -> str:
    """The token with its payload changed and its header and signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{segment({**claims_of(token), **changes})}.{signature}"


def _is_probable_prime(n: int, rng: random.Random) -> bool:
    if n < 2:
        return False
    for small in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47):
        if n % small == 0:
            return n == small
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(24):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


@frozen
class RsaKey:
    n: int
    e: int
    d: int

    def sign(self, message: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256, the signature of RS256."""
        digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
        digest_info += hashlib.sha256(message).digest()
        size = (self.n.bit_length() + 7) // 8
        encoded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
        signature = pow(int.from_bytes(encoded, "big"), self.d, self.n)
        assert pow(signature, self.e, self.n) == int.from_bytes(encoded, "big")
        return signature.to_bytes(size, "big")

    def public_pem(self) -> bytes:
        """The SubjectPublicKeyInfo of the key, as `openssl rsa -pubout` writes it."""

        def der(tag: int, body: bytes) -> bytes:
            size = len(body)
            if size < 0x80:
                return bytes([tag, size]) + body
            length = size.to_bytes((size.bit_length() + 7) // 8, "big")
            return bytes([tag, 0x80 | len(length)]) + length + body

        def integer(value: int) -> bytes:
            return der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))

        rsa_oid = der(0x06, bytes.fromhex("2a864886f70d010101")) + der(0x05, b"")
        public = der(0x30, integer(self.n) + integer(self.e))
        info = der(0x30, der(0x30, rsa_oid) + der(0x03, b"\x00" + public))
        body = base64.encodebytes(info).decode().replace("\n", "")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return (
            "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"
        ).encode()


@cache
def rsa_key() -> RsaKey:
    rng = random.Random(20261126)  # the same key on every run

    def prime() -> int:
        while True:
            candidate = rng.getrandbits(1024) | (3 << 1022) | 1
            if _is_probable_prime(candidate, rng):
                return candidate

    e = 65537
    while True:
        p, q = prime(), prime()
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            return RsaKey(p * q, e, pow(e, -1, phi))


def rs256(claims: dict[str, Any]) -> str:
    signing_input = f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(claims)}"
    return f"{signing_input}.{b64(rsa_key().sign(signing_input.encode()))}"


# --- the app, a victim with objects, and every endpoint that needs a token ---


DROP = object()  # a claim to leave out of a signed token


@frozen
class Victim:
    """An account with a collect that has a payment, one that has none, and its tokens."""

    account: Account
    paid_collect: int
    empty_collect: int
    payment: int
    secret: str

    def signed(self, **changes: Any) -> str:
        """A token signed with the service's own secret: the victim's access claims, changed."""
        claims = {**claims_of(self.account.access), **changes}
        for name in [name for name, value in changes.items() if value is DROP]:
            del claims[name]
        return jwt.encode(claims, self.secret, algorithm="HS256")


@pytest.fixture
def victim(client: TestClient[Any], make_account: MakeAccount, container: Container) -> Victim:
    account = make_account("Жертва", "Атаки")
    paid = create_collect(client, account, title="paid")
    empty = create_collect(client, account, title="empty")
    payment = donate(client, account, paid, "10")
    assert payment.status_code == 201, payment.text
    secret = container.signing_key()
    return Victim(account, paid, empty, int(payment.json()["id"]), secret)


def endpoints(victim: Victim) -> list[tuple[str, str, dict[str, Any] | None]]:
    paid, empty = victim.paid_collect, victim.empty_collect
    donation = {"collect": paid, "amount": "10", "transaction_id": transaction_id()}
    return [
        ("GET", "/auth/users/me/", None),
        ("GET", COLLECTS, None),
        ("GET", f"{COLLECTS}?author=me", None),
        ("GET", f"{COLLECTS}{paid}/", None),
        ("GET", f"{COLLECTS}{paid}/payments/", None),
        ("POST", COLLECTS, {"title": "forged"}),
        ("PATCH", f"{COLLECTS}{paid}/", {"title": "forged"}),
        ("DELETE", f"{COLLECTS}{empty}/", None),
        ("POST", PAYMENTS, donation),
        ("GET", PAYMENTS, None),
        ("GET", f"{PAYMENTS}{victim.payment}/", None),
    ]


def warm_the_cache(client: TestClient[Any], victim: Victim) -> None:
    """Valid reads first, so that a forged read would find a cached answer to steal."""
    for method, path, _ in endpoints(victim):
        if method == "GET":
            assert client.get(path, headers=victim.account.headers).status_code == 200


def assert_unauthorized(response: Any) -> None:
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer"), response.headers


def bearer(token: str) -> dict[bytes, bytes]:
    return {b"Authorization": f"Bearer {token}".encode()}


def test_the_forging_helpers_make_tokens_the_service_accepts(
    client: TestClient[Any], victim: Victim
) -> None:
    """Controls: built the same way with the right key and nothing changed, each helper's
    token is accepted, so the refusals below are about the change, not about the helper."""
    claims = claims_of(victim.account.access)
    controls = {
        "signed()": victim.signed(),
        "hs256() with the secret": hs256({"alg": "HS256"}, claims, victim.secret.encode()),
        "with_claims() unchanged": with_claims(victim.account.access),
    }

    def accepted(label: str) -> None:
        response = client.get("/auth/users/me/", headers=bearer(controls[label]))
        assert response.status_code == 200, response.text
        assert response.json()["id"] == victim.account.id

    check_each(list(controls), accepted)


def refused_everywhere(client: TestClient[Any], victim: Victim, tokens: dict[str, str]) -> None:
    """Each token gets a 401 on every endpoint, also on /auth/jwt/refresh/ and verify, and
    nothing of the victim's changed."""
    warm_the_cache(client, victim)
    before = snapshot(client, victim)
    cases = [
        (label, method, path, body) for label in tokens for method, path, body in endpoints(victim)
    ]

    def refused(case: tuple[str, str, str, dict[str, Any] | None]) -> None:
        label, method, path, body = case
        assert_unauthorized(client.request(method, path, json=body, headers=bearer(tokens[label])))

    check_each(cases, refused)
    check_each(
        [(label, path) for label in tokens for path in ("/auth/jwt/refresh/", "/auth/jwt/verify/")],
        lambda case: assert_unauthorized(
            client.post(case[1], json={"refresh": tokens[case[0]], "token": tokens[case[0]]})
        ),
    )
    assert snapshot(client, victim) == before


def snapshot(client: TestClient[Any], victim: Victim) -> list[Any]:
    headers = victim.account.headers
    mine = client.get(COLLECTS, params={"author": "me"}, headers=headers).json()
    mine_payments = client.get(PAYMENTS, headers=headers).json()
    return [
        [
            (c["id"], c["title"], c["collected_amount"], c["donations_count"])
            for c in mine["results"]
        ],
        mine_payments["count"],
    ]


# --- forged signatures ---


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512, test key
def test_unsigned_and_foreign_signed_tokens_are_refused_everywhere(
    client: TestClient[Any], victim: Victim
) -> None:
    claims = claims_of(victim.account.access)
    header, payload, signature = victim.account.access.split(".")
    pem = rsa_key().public_pem()
    tokens = {
        "alg none (PyJWT)": jwt.encode(claims, None, algorithm="none"),
        "alg none, signature kept": f"{segment({'alg': 'none'})}.{payload}.{signature}",
        "alg None": f"{segment({'alg': 'None'})}.{payload}.",
        "alg NONE": f"{segment({'alg': 'NONE'})}.{payload}.",
        "alg nOnE": f"{segment({'alg': 'nOnE'})}.{payload}.",
        "no alg at all": f"{segment({'typ': 'JWT'})}.{payload}.",
        "signature stripped": f"{header}.{payload}.",
        "two parts only": f"{header}.{payload}",
        "RS256, an attacker's RSA key": rs256(claims),
        "HS256 keyed with the RSA public key PEM": hs256(
            {"alg": "HS256", "typ": "JWT"}, claims, pem
        ),
        "HS256 keyed with an empty secret": hs256({"alg": "HS256"}, claims, b""),
        "HS256 keyed with another secret": jwt.encode(claims, "x" * 48, algorithm="HS256"),
        "HS256, kid pointing at /dev/null": hs256(
            {"alg": "HS256", "kid": "../../../../../../dev/null"}, claims, b""
        ),
        "HS256, an embedded jwk": hs256(
            {"alg": "HS256", "jwk": {"kty": "oct", "k": b64(b"attacker")}}, claims, b"attacker"
        ),
        "HS384 with the service's secret": jwt.encode(claims, victim.secret, algorithm="HS384"),
        "HS512 with the service's secret": jwt.encode(claims, victim.secret, algorithm="HS512"),
    }
    refused_everywhere(client, victim, tokens)


def test_tampered_tokens_are_refused_everywhere(
    client: TestClient[Any], victim: Victim, make_account: MakeAccount
) -> None:
    other = make_account()  # a user the forged `sub` names
    access, refresh = victim.account.access, victim.account.refresh
    exp = claims_of(access)["exp"]
    tokens = {
        "sub changed to another user": with_claims(access, sub=str(other.id)),
        "sub changed on a refresh token": with_claims(refresh, sub=str(other.id)),
        "refresh relabelled access": with_claims(refresh, token_type="access"),
        "exp pushed a year ahead": with_claims(access, exp=exp + 365 * 86400),
        "an extra claim added": with_claims(access, is_staff=True),
        "signature of another token": f"{access.rsplit('.', 1)[0]}.{other.access.split('.')[2]}",
        "one signature bit flipped": access[:-2] + ("A" if access[-2] != "A" else "B") + access[-1],
        "payload re-encoded with padding": access.replace(
            f".{access.split('.')[1]}.", f".{access.split('.')[1]}==."
        ),
        "header, payload and signature shuffled": ".".join(reversed(access.split("."))),
        "the token twice": f"{access}{access}",
        "a trailing dot": f"{access}.",
    }
    refused_everywhere(client, victim, tokens)
    assert client.get("/auth/users/me/", headers=other.headers).json()["id"] == other.id


def test_tokens_missing_a_claim_are_refused_everywhere(
    client: TestClient[Any], victim: Victim
) -> None:
    tokens = {
        f"no {name}": victim.signed(**{name: DROP})
        for name in ("exp", "jti", "sub", "token_type", "iat")
    }
    tokens["no claims at all"] = jwt.encode({}, victim.secret, algorithm="HS256")
    tokens["claims not an object"] = hs256({"alg": "HS256"}, [], victim.secret.encode())
    refused_everywhere(client, victim, tokens)


def test_wrong_token_types_are_refused_everywhere(client: TestClient[Any], victim: Victim) -> None:
    values: list[Any] = [
        "ACCESS",
        "Access",
        "access ",
        " access",
        "",
        "id",
        1,
        None,
        True,
        ["access"],
        {"access": True},
    ]
    tokens = {f"token_type={value!r}": victim.signed(token_type=value) for value in values}
    refused_everywhere(client, victim, tokens)


def test_odd_subjects_are_refused_everywhere(client: TestClient[Any], victim: Victim) -> None:
    values: list[Any] = [
        "abc",
        "0",
        "-1",
        "-0",
        "",
        " ",
        "1.5",
        "1e3",
        "0x1",
        "NaN",
        5,
        0,
        -1,
        None,
        [1],
        {"id": 1},
    ]
    tokens = {f"sub={value!r}": victim.signed(sub=value) for value in values}
    refused_everywhere(client, victim, tokens)


def test_a_subject_beyond_64_bits_names_nobody(client: TestClient[Any], victim: Victim) -> None:
    """Only the secret's holder can sign such a token, but ids are positive 64-bit integers:
    a larger `sub` names no user, so whatever needs the user is a 401 (or, for someone
    else's objects, 403/404), reads of public collects may answer, and nothing is a 5xx."""
    warm_the_cache(client, victim)
    public_reads = (COLLECTS, f"{COLLECTS}?author=me", PAYMENTS)
    cases = [
        (value, method, path, body)
        for value in (str(2**63 - 1), str(2**63), str(2**64), "9" * 40)
        for method, path, body in endpoints(victim)
    ]

    def answered(case: tuple[str, str, str, dict[str, Any] | None]) -> None:
        value, method, path, body = case
        response = client.request(method, path, json=body, headers=bearer(victim.signed(sub=value)))
        assert response.status_code < 500, response.text
        if path not in public_reads and not path.startswith(f"{COLLECTS}{victim.paid_collect}/"):
            assert response.status_code in (401, 403, 404), response.text
        if path == "/auth/users/me/" or method == "POST":
            assert_unauthorized(response)

    check_each(cases, answered)


# --- expiry and the token types ---


def test_an_expired_access_token_is_refused_everywhere(
    client: TestClient[Any], victim: Victim, clock: FixedClock
) -> None:
    clock.advance(minutes=14, seconds=59)
    for method, path, _ in endpoints(victim):
        if method == "GET":  # used while valid: remembered as verified
            assert client.get(path, headers=victim.account.headers).status_code == 200, path
    clock.advance(seconds=1)  # exactly 15 minutes: exp is exclusive
    expired = victim.account.access
    assert_unauthorized(client.get("/auth/users/me/", headers=bearer(expired)))
    renewed = client.post("/auth/jwt/refresh/", json={"refresh": victim.account.refresh})
    assert renewed.status_code == 200, renewed.text
    fresh = evolve(victim, account=evolve(victim.account, access=renewed.json()["access"]))
    assert client.get("/auth/users/me/", headers=fresh.account.headers).json()["id"] == (
        victim.account.id
    )
    refused_everywhere(client, fresh, {"expired access": expired})


def test_a_token_expired_by_its_own_claim_is_refused_everywhere(
    client: TestClient[Any], victim: Victim, clock: FixedClock
) -> None:
    now = int(clock.now().timestamp())
    tokens = {
        "exp one second ago": victim.signed(exp=now - 1),
        "exp now": victim.signed(exp=now),
        "exp at the epoch": victim.signed(exp=0),
        "exp negative": victim.signed(exp=-(10**10)),
        "exp not a number": victim.signed(exp="tomorrow"),
        "exp null": victim.signed(exp=None),
    }
    refused_everywhere(client, victim, tokens)


def test_a_refresh_token_is_no_access_token_anywhere(
    client: TestClient[Any], victim: Victim
) -> None:
    warm_the_cache(client, victim)
    before = snapshot(client, victim)
    check_each(
        endpoints(victim),
        lambda case: assert_unauthorized(
            client.request(case[0], case[1], json=case[2], headers=bearer(victim.account.refresh))
        ),
    )
    assert snapshot(client, victim) == before


# --- tokens of users that are gone or deactivated ---


def delete_user(container: Container, user_id: int) -> None:
    with container.engine().begin() as connection:
        connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})


def deactivate(container: Container, user_id: int) -> None:
    with container.engine().begin() as connection:
        connection.execute(
            text("UPDATE users SET is_active = :active WHERE id = :id"),
            {"active": False, "id": user_id},
        )


def writes_are_refused(client: TestClient[Any], account: Account, collect_id: int) -> None:
    donation = {"collect": collect_id, "amount": "5", "transaction_id": transaction_id()}
    check_each(
        [
            ("GET", "/auth/users/me/", None),
            ("POST", COLLECTS, {"title": "from a ghost"}),
            ("POST", PAYMENTS, donation),
        ],
        lambda case: assert_unauthorized(
            client.request(case[0], case[1], json=case[2], headers=account.headers)
        ),
    )
    assert_unauthorized(client.post("/auth/jwt/refresh/", json={"refresh": account.refresh}))
    assert_problem(
        client.post("/auth/jwt/create/", json={"username": account.username, "password": PASSWORD}),
        401,
    )


def test_a_deleted_users_tokens_cannot_write_or_refresh(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    other = make_account()
    collect_id = create_collect(client, other)
    ghost = make_account()
    assert client.get("/auth/users/me/", headers=ghost.headers).status_code == 200  # remembered
    delete_user(container, ghost.id)
    writes_are_refused(client, ghost, collect_id)
    detail = client.get(f"{COLLECTS}{collect_id}/", headers=other.headers).json()
    assert (detail["donations_count"], detail["collected_amount"]) == (0, "0.00")


def test_a_deactivated_users_tokens_cannot_write_or_refresh(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    other = make_account()
    collect_id = create_collect(client, other)
    inactive = make_account()
    deactivate(container, inactive.id)
    writes_are_refused(client, inactive, collect_id)
    detail = client.get(f"{COLLECTS}{collect_id}/", headers=other.headers).json()
    assert detail["donations_count"] == 0


def test_a_deleted_user_cannot_patch_or_delete(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    other = make_account()
    collect_id = create_collect(client, other)
    ghost = make_account()
    delete_user(container, ghost.id)
    path = f"{COLLECTS}{collect_id}/"
    check_each(
        [("PATCH", {"title": "ghost"}), ("DELETE", None)],
        lambda case: assert_unauthorized(
            client.request(case[0], path, json=case[1], headers=ghost.headers)
        ),
    )


def test_a_deactivated_author_cannot_patch_or_delete_their_collect(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    author = make_account()
    collect_id = create_collect(client, author, title="before")
    deactivate(container, author.id)
    path = f"{COLLECTS}{collect_id}/"
    check_each(
        [("PATCH", {"title": "after deactivation"}), ("DELETE", None)],
        lambda case: assert_unauthorized(
            client.request(case[0], path, json=case[1], headers=author.headers)
        ),
    )


# --- guessing passwords ---


def log_in(
    client: TestClient[Any], username: str, password: str, address: str, **headers: str
) -> Any:
    return client.post(
        "/auth/jwt/create/",
        json={"username": username, "password": password},
        headers={PEER: address, "X-Request-ID": "same-id", **headers},
    )


def unique_address() -> str:
    value = uuid.uuid4().int
    return f"10.{value % 250}.{value // 250 % 250}.{value // 62500 % 250 + 1}"


def assert_throttled(response: Any) -> dict[str, Any]:
    body = assert_problem(response, 429)
    assert 0 < int(response.headers["retry-after"]) <= 300, response.headers
    return body


def test_guessing_one_password_is_throttled_whatever_comes_next(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for attempt in range(10):  # from ten addresses: only the per-username count reaches 10
        failed = log_in(client, account.username, f"guess {attempt}!", unique_address())
        assert_unauthorized(failed)
    wrong = log_in(client, account.username, "guess 10!", unique_address())
    right = log_in(client, account.username, PASSWORD, unique_address())
    shouting = log_in(client, account.username.upper(), PASSWORD, unique_address())
    bodies = [assert_throttled(answer) for answer in (wrong, right, shouting)]
    # the right password is not revealed by a different answer while throttled
    assert bodies[0] == bodies[1], bodies
    assert wrong.headers.keys() == right.headers.keys()
    assert "access" not in right.text


def test_an_unknown_username_is_throttled_like_a_real_one(client: TestClient[Any]) -> None:
    nobody = f"nobody_{uuid.uuid4().hex[:10]}"
    answers = [log_in(client, nobody, "guess!", unique_address()) for _ in range(11)]
    for answer in answers[:10]:
        assert_unauthorized(answer)
    assert_throttled(answers[10])


def test_one_address_guessing_across_usernames_is_throttled(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    address = unique_address()
    for attempt in range(10):
        username = account.username if attempt % 3 == 0 else f"nobody_{uuid.uuid4().hex[:10]}"
        assert_unauthorized(log_in(client, username, "guess!", address))
    assert_throttled(log_in(client, account.username, PASSWORD, address))
    assert_throttled(log_in(client, f"nobody_{uuid.uuid4().hex[:10]}", "guess!", address))
    # headers a client sends about "its" address do not make it another client
    for spoofed in (
        {"X-Forwarded-For": unique_address()},
        {"X-Real-IP": unique_address()},
        {"Forwarded": f"for={unique_address()}"},
        {"X-Client-IP": unique_address(), "True-Client-IP": unique_address()},
    ):
        assert_throttled(log_in(client, account.username, PASSWORD, address, **spoofed))
    # the account itself (4 failures) and another address are not locked out
    assert log_in(client, account.username, PASSWORD, unique_address()).status_code == 200


@pytest.mark.settings(login_window_seconds=1, login_max_failures=3)
def test_the_throttle_lifts_when_the_window_passes(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    address = unique_address()
    for _ in range(3):
        assert_unauthorized(log_in(client, account.username, "guess!", address))
    assert_throttled(log_in(client, account.username, PASSWORD, address))
    time.sleep(1.2)
    assert log_in(client, account.username, PASSWORD, address).status_code == 200


@pytest.mark.settings(argon2_time_cost=2, argon2_memory_kib=19_456)  # production's hashing cost
def test_parallel_guesses_get_no_more_than_the_limit(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    """A burst of simultaneous guesses must not slip past the counter: at most 10 of them
    may be judged (401); the rest are 429."""
    account = make_account()
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def guess(number: int) -> None:
        start.wait()
        response = log_in(client, account.username, f"guess {number}!", unique_address())
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(number,)) for number in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) <= 10, sorted(statuses)
