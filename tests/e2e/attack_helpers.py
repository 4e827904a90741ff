"""What the auth attack tests share: tokens built by hand, the API's paths, the 401 of a refusal.

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
from collections.abc import Callable
from functools import cache
from typing import Any

import jwt
from attrs import frozen

from tests.e2e.conftest import Account, assert_problem

MakeAccount = Callable[..., Account]


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


def assert_unauthorized(response: Any) -> None:
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer"), response.headers
