"""What the fault tests share: paths, how prompt a donation must be, reading answers and logs.

Each fault test runs the production topology as real processes it starts:
`fundraising serve --workers 2` and `fundraising worker` over a fresh MariaDB database, a cache
and a broker redis-server of the test's own, and an SMTP server; spoken to over sockets.
"""

from __future__ import annotations

from typing import Any

from tests.integration.processes import Process, Seen

# "Promptly": a donation never waits for the task queue. The web app's publisher is meant to
# give up on the broker after 1 s per message (two messages per donation).
PROMPT_SECONDS = 3.0


PAYMENTS = "/api/v1/payments/"
COLLECTS = "/api/v1/collects/"


def _donation(collect_id: int, amount: str, transaction_id: str) -> dict[str, Any]:
    return {"collect": collect_id, "amount": amount, "transaction_id": transaction_id}


def _unexpected_errors(process: Process) -> list[str]:
    """What the service logged as an unexpected failure (the 500 path) or uvicorn as a crash."""
    markers = ("unexpected error in", "Exception in ASGI application")
    return [line for line in process.log().splitlines() if any(m in line for m in markers)]


def _shown(seen: Seen, collect_id: int) -> tuple[int, str]:
    """(donations_count, collected_amount) of the collect in a detail or in a list page."""
    body = seen.body
    if "results" in body:
        [body] = [item for item in body["results"] if item["id"] == collect_id]
    return body["donations_count"], body["collected_amount"]
