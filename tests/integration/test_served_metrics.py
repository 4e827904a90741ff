"""Metrics and logs of the served processes: `fundraising serve --workers 2` adds up what both
workers counted at whichever answers /metrics, behind its token; `fundraising worker` serves
Dramatiq's task figures; every line logged is JSON in production, access lines without a
secret in them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.fixtures_services import free_port, wait_until
from tests.integration.processes import PASSWORD, Deployment, deployment

pytestmark = [pytest.mark.mysql, pytest.mark.redis]
TOKEN = "metrics-token-for-the-tests"
AMOUNTS = ("100.00", "250.50", "49.50")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(value for (n, got), value in found.items() if n == name and wanted <= got)


def scrape(deployed: Deployment) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = httpx.get(f"{deployed.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain"), answer.headers
    return samples(answer.text)


def test_both_workers_figures_are_served_behind_the_token_and_logged_as_json(
    tmp_path: Path,
) -> None:
    worker_metrics = f"127.0.0.1:{free_port()}"
    with deployment(
        tmp_path,
        FUNDRAISING_METRICS_TOKEN=TOKEN,
        FUNDRAISING_LOG_FORMAT="json",
        FUNDRAISING_WORKER_METRICS_ADDRESS=worker_metrics,
    ) as deployed:
        server = deployed.serve(workers=2)
        deployed.worker()
        api = deployed.api()
        try:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                refused = httpx.get(f"{deployed.url}/metrics", headers=headers)
                assert refused.status_code == 401, (headers, refused.text)

            author, donor = api.account("author"), api.account("donor")
            collect_id = api.collect(author, "Подарок")["id"]
            for number, amount in enumerate(AMOUNTS):
                paid = api.donate(donor, collect_id, amount, f"metrics-{number}")
                assert paid.status_code == 201, paid.text
            reads = [api.detail(collect_id, author) for _ in range(8)]
            assert {read.status_code for read in reads} == {200}
            hits = sum(read.headers["X-Cache"] == "HIT" for read in reads)
            assert hits, "some reads came from the cache"
            traced = api.http.get(
                f"/api/v1/collects/{collect_id}/?search=query-text",
                headers={**donor.headers, "X-Request-ID": "trace-me-42"},
            )
            assert traced.status_code == 200

            # Whichever worker answers, it tells what both did (the scrapes alternate).
            for _ in range(4):
                found = scrape(deployed)
                assert total(found, "fundraising_donations_total") == len(AMOUNTS)
                kopecks = sum(Decimal(amount) for amount in AMOUNTS) * 100
                assert total(found, "fundraising_donated_kopecks_total") == kopecks
                posted = total(
                    found,
                    "fundraising_http_requests_total",
                    method="POST",
                    route="/api/v1/payments",
                    status="201",
                )
                assert posted == len(AMOUNTS)
                detail = {"method": "GET", "route": "/api/v1/collects/{collect_id}"}
                assert total(found, "fundraising_http_requests_total", **detail) == len(reads) + 1
                assert total(found, "fundraising_cache_reads_total", result="hit") >= hits
                assert total(
                    found, "fundraising_http_request_duration_seconds_count", **detail
                ) == (len(reads) + 1)
                assert ("fundraising_outbox_waiting", frozenset()) in found

            def tasks_counted() -> float:
                try:
                    text = httpx.get(f"http://{worker_metrics}/metrics", timeout=2).text
                except httpx.TransportError:
                    return 0
                return total(samples(text), "dramatiq_messages_total")

            # Two e-mails per donation, and the registrations' (the worker's own figures).
            assert wait_until(lambda: tasks_counted() >= 2 * len(AMOUNTS), timeout=30)
        finally:
            api.close()

    log = server.log()  # the server stopped: what it held is written (access lines wait 0.2 s)
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert any(line["logger"].startswith("uvicorn") for line in lines), "uvicorn's too"
    assert not [line for line in lines if line["logger"] == "uvicorn.access"], "the app's only"
    access = [line for line in lines if line["logger"] == "fundraising.access"]
    traced_line = next(line for line in access if line["request_id"] == "trace-me-42")
    assert traced_line["route"] == "/api/v1/collects/{collect_id}"
    assert traced_line["status"] == 200 and traced_line["method"] == "GET"
    assert isinstance(traced_line["user_id"], int) and traced_line["duration_ms"] >= 0
    assert traced_line["time"].endswith("+00:00") and "T" in traced_line["time"]
    token = donor.headers["Authorization"].split()[1]
    for secret in (PASSWORD, donor.email, token, TOKEN, "query-text"):
        assert secret not in log, "a secret in the log"
