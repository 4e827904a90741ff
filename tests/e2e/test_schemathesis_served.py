"""Schemathesis as an independent client runs it: the `st` command line against a served
`fundraising serve`, with every check and every phase — examples, coverage, fuzzing and
stateful (following the document's links: register → log in → open a collect → donate → read
it, see tests/e2e/test_openapi_links.py) — and a fixed seed, so that a failure reproduces.
Twice: the embedded profile over SQLite, as `make run` serves it, and the production profile
over MariaDB and Redis. 25 examples an operation by default, to keep CI short;
FUNDRAISING_SCHEMATHESIS_CLI_EXAMPLES=40 is the run the README shows, and finds nothing either.

`st` runs from the repository, so it reads schemathesis.toml: the operations whose contract
refuses some schema-valid requests with a 400 no schema can state (a wrong current password,
an end date in the past…), each named there with its reason. No check is turned off.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_served import serving
from tests.integration.processes import deployment

ROOT = Path(__file__).parents[2]
ST = Path(sys.executable).with_name("st")
EXAMPLES = int(os.environ.get("FUNDRAISING_SCHEMATHESIS_CLI_EXAMPLES", "25"))
SEED = 1
# Not the document's example password: its examples phase sends DELETE /auth/users/me with
# that example, which would delete the account the run is authenticated as.
PASSWORD = "fuzzing-the-contract-2026"
# Every request comes from one address: with the default limits, registering and logging in
# soon answer only 429s (which the checks accept), and the stateful phase gets no new user to
# carry through a scenario. The hundreds of accounts it makes are hashed at the test profile's
# Argon2 cost: the document is under test here, not the hashing.
LIMITS = {
    "FUNDRAISING_REGISTRATIONS_PER_HOUR": "100000",
    "FUNDRAISING_LOGIN_MAX_FAILURES": "100000",
    "FUNDRAISING_ARGON2_TIME_COST": "1",
    "FUNDRAISING_ARGON2_MEMORY_KIB": "256",
}


def _bearer(url: str) -> str:
    """A registered user's access token."""
    with httpx.Client(base_url=url, timeout=30) as http:
        account = {"username": "fuzzer", "email": "fuzzer@example.com", "password": PASSWORD}
        assert http.post("/auth/users/", json=account).status_code == 201
        tokens = http.post("/auth/jwt/create/", json={"username": "fuzzer", "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        return f"Bearer {tokens.json()['access']}"


def _schemathesis(url: str) -> str:
    """Run `st` against the service at `url`; its report, once it found nothing."""
    command = [
        str(ST),
        "run",
        f"{url}/docs/openapi.json",
        "--checks=all",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={EXAMPLES}",
        f"--seed={SEED}",
        f"--header=Authorization: {_bearer(url)}",
    ]
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900, check=False
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-30_000:]
    assert f"Configuration:    {ROOT / 'schemathesis.toml'}" in report, report[:3_000]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}\b", report), (phase, report[-5_000:])
    covered = re.search(r"API Links:\s+(\d+) covered", report)
    assert covered is not None and int(covered.group(1)) > 0, report[-5_000:]
    return report


@pytest.mark.slow
def test_the_embedded_profile_as_make_run_serves_it(tmp_path: Path) -> None:
    with serving(tmp_path, FUNDRAISING_ENV="development", **LIMITS) as served:
        _schemathesis(served.url)
        served.stop()


@pytest.mark.slow
@pytest.mark.mysql
@pytest.mark.redis
def test_the_production_profile_over_mariadb_and_redis(tmp_path: Path) -> None:
    production = {"FUNDRAISING_ENV": "production", "FUNDRAISING_SECRET_KEY": "k" * 48}
    with deployment(tmp_path, **production, **LIMITS) as deployed:
        deployed.serve(workers=2)
        _schemathesis(deployed.url)
