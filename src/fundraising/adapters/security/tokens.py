"""JWT access and refresh tokens (HS256), with a small per-process cache of verified tokens."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from datetime import timedelta

import jwt

from fundraising.application.errors import AuthenticationFailed
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.security import TokenPair, TokenType
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
        self._verified: OrderedDict[str, tuple[int, TokenType, float]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def issue(self, user_id: int) -> TokenPair:
        return TokenPair(
            access=self._sign(user_id, TokenType.ACCESS),
            refresh=self._sign(user_id, TokenType.REFRESH),
        )

    def _sign(self, user_id: int, token_type: TokenType) -> str:
        now = self._clock.now()
        claims = {
            "sub": str(user_id),
            "token_type": token_type.value,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + self._lifetimes[token_type],
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        return _JWT.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str, expected: TokenType | None = None) -> int:
        user_id, token_type, expires = self._remembered(token) or self._decode(token)
        if self._clock.now().timestamp() >= expires:
            raise AuthenticationFailed(INVALID)
        if expected is not None and token_type is not expected:
            raise AuthenticationFailed(f"An {expected.value} token is required.")
        return user_id

    def _remembered(self, token: str) -> tuple[int, TokenType, float] | None:
        with self._lock:
            found = self._verified.get(token)
            if found is not None:
                self._verified.move_to_end(token)
            return found

    def _decode(self, token: str) -> tuple[int, TokenType, float]:
        try:
            claims = _JWT.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                audience=AUDIENCE,
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
            user_id = int(claims["sub"])
            token_type = TokenType(claims["token_type"])
            expires = float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise AuthenticationFailed(INVALID) from None
        if not is_id(user_id):
            raise AuthenticationFailed(INVALID)
        with self._lock:
            self._verified[token] = (user_id, token_type, expires)
            if len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)
        return user_id, token_type, expires
