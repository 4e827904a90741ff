"""JWT access and refresh tokens (HS256), with a small per-process cache of verified tokens."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import jwt

from fundraising.application.errors import AuthenticationFailed
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.security import (
    IssuedTokens,
    RefreshToken,
    TokenClaims,
    TokenPair,
    TokenType,
)
from fundraising.domain.ids import is_id

ALGORITHM = "HS256"
ISSUER = "fundraising"
AUDIENCE = "fundraising-api"
_REQUIRED_CLAIMS = ["exp", "iat", "jti", "sub", "token_type", "iss", "aud"]
INVALID = "Token is invalid or expired."
# A key shorter than HS256's digest is refused, not warned about: at start and on every use.
_HS256 = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
_JWT = jwt.PyJWT(options={"enforce_minimum_key_length": True})


class JwtTokens:
    """Signed with the service's secret; only HS256 is accepted, so `none` and key confusion fail;
    issued by and for this service (`iss`, `aud`).

    Verifying a signature costs more than the rest of a cached request, so verified tokens are
    remembered (bounded LRU); their expiry is still checked on every use.
    """

    def __init__(
        self,
        *,
        secret: str,
        clock: Clock,
        access_lifetime: timedelta,
        refresh_lifetime: timedelta,
        cache_size: int = 10_000,
    ) -> None:
        if too_short := _HS256.check_key_length(secret.encode()):
            raise ValueError(too_short)
        self._secret = secret
        self._clock = clock
        self._lifetimes = {TokenType.ACCESS: access_lifetime, TokenType.REFRESH: refresh_lifetime}
        self._verified: OrderedDict[str, tuple[TokenClaims, float]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def issue(self, user_id: int, *, family: str | None = None) -> IssuedTokens:
        now = self._clock.now()
        refresh = RefreshToken(
            jti=uuid.uuid4().hex,
            user_id=user_id,
            family=family or uuid.uuid4().hex,
            issued_at=now,
            expires_at=now + self._lifetimes[TokenType.REFRESH],
        )
        pair = TokenPair(
            access=self._sign(user_id, TokenType.ACCESS, uuid.uuid4().hex, now),
            refresh=self._sign(user_id, TokenType.REFRESH, refresh.jti, now, refresh.family),
        )
        return IssuedTokens(pair, refresh)

    def _sign(
        self,
        user_id: int,
        token_type: TokenType,
        jti: str,
        now: datetime,
        family: str | None = None,
    ) -> str:
        claims: dict[str, object] = {
            "sub": str(user_id),
            "token_type": token_type.value,
            "jti": jti,
            "iat": now.timestamp(),  # to the microsecond: a revocation in the same second counts
            "exp": (now + self._lifetimes[token_type]).timestamp(),
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        if family is not None:
            claims["fam"] = family
        return _JWT.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str, expected: TokenType | None = None) -> TokenClaims:
        claims, expires = self._remembered(token) or self._decode(token)
        if self._clock.now().timestamp() >= expires:
            raise AuthenticationFailed(INVALID)
        if expected is not None and claims.token_type is not expected:
            raise AuthenticationFailed(f"An {expected.value} token is required.")
        return claims

    def _remembered(self, token: str) -> tuple[TokenClaims, float] | None:
        with self._lock:
            found = self._verified.get(token)
            if found is not None:
                self._verified.move_to_end(token)
            return found

    def _decode(self, token: str) -> tuple[TokenClaims, float]:
        try:
            decoded = _JWT.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                audience=AUDIENCE,
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
            claims = TokenClaims(
                user_id=int(decoded["sub"]),
                token_type=TokenType(decoded["token_type"]),
                issued_at=datetime.fromtimestamp(float(decoded["iat"]), UTC),
                jti=str(decoded["jti"]),
                family=str(decoded["fam"]) if "fam" in decoded else None,
            )
            expires = float(decoded["exp"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError, OSError):
            raise AuthenticationFailed(INVALID) from None
        if not is_id(claims.user_id):
            raise AuthenticationFailed(INVALID)
        with self._lock:
            self._verified[token] = (claims, expires)
            if len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)
        return claims, expires
