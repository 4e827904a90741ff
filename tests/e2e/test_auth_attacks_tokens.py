"""Forged, tampered, expired and misused tokens: refused everywhere, and nothing changes."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from attrs import evolve, frozen
from litestar.testing import TestClient

from fundraising.container import Container
from tests.e2e.attack_helpers import (
    COLLECTS,
    PAYMENTS,
    MakeAccount,
    assert_unauthorized,
    b64,
    claims_of,
    hs256,
    rs256,
    rsa_key,
    segment,
    with_claims,
)
from tests.e2e.conftest import Account, check_each, create_collect, donate, transaction_id
from tests.fakes import FixedClock

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
