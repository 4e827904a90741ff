"""The signing key and the tokens it signs: a random key of the installation's own when none
is configured (never a constant of the source), PyJWT's minimum length, `iss` and `aud`."""

from __future__ import annotations

import multiprocessing
import stat
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from fundraising.adapters.security.keys import key_from_file
from fundraising.adapters.security.tokens import AUDIENCE, ISSUER, JwtTokens
from fundraising.application.errors import AuthenticationFailed
from tests.fakes import FixedClock


def tokens(secret: str) -> JwtTokens:
    return JwtTokens(
        secret=secret,
        clock=FixedClock(),
        access_lifetime=timedelta(minutes=15),
        refresh_lifetime=timedelta(days=7),
    )


def test_a_missing_key_is_made_random_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = key_from_file(path)
    again = key_from_file(path)
    other = key_from_file(tmp_path / "elsewhere" / "secret_key")

    assert first == again
    assert first != other
    assert len(first.encode()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == ["secret_key"], "no leftovers"


def _key_in_another_process(path: str, out: multiprocessing.Queue[str]) -> None:
    out.put(key_from_file(Path(path)))


def test_processes_starting_at_once_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    context = multiprocessing.get_context("spawn")
    found: multiprocessing.Queue[str] = context.Queue()
    starting = [
        context.Process(target=_key_in_another_process, args=(str(path), found)) for _ in range(4)
    ]
    for process in starting:
        process.start()
    keys = {found.get(timeout=30) for _ in starting}
    for process in starting:
        process.join(timeout=30)
    assert keys == {path.read_text().strip()}


def test_a_key_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        tokens("k" * 31)


def test_tokens_name_their_issuer_and_audience_and_need_them() -> None:
    secret = "s" * 40
    issued = tokens(secret).issue(7)
    claims = jwt.decode(
        issued.pair.access,
        secret,
        algorithms=["HS256"],
        audience=AUDIENCE,
        options={"verify_exp": False},  # signed at the fake clock's time
    )
    assert (claims["iss"], claims["aud"]) == (ISSUER, AUDIENCE)
    assert tokens(secret).verify(issued.pair.access).user_id == 7
    refresh = tokens(secret).verify(issued.pair.refresh)
    assert (refresh.jti, refresh.family) == (issued.refresh.jti, issued.refresh.family)

    for missing in ("iss", "aud"):
        forged = jwt.encode({k: v for k, v in claims.items() if k != missing}, secret, "HS256")
        with pytest.raises(AuthenticationFailed):
            tokens(secret).verify(forged)
    elsewhere = jwt.encode({**claims, "aud": "another-service"}, secret, "HS256")
    with pytest.raises(AuthenticationFailed):
        tokens(secret).verify(elsewhere)
