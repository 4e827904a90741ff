"""GET /metrics of one app (the figures of several processes are added up in
tests/integration/test_served_metrics.py), and its access lines."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from fundraising.entrypoints.logs import JsonLines, PlainLines, access_fields
from tests.e2e.conftest import PASSWORD, Account, create_collect, donate

TOKEN = "a-metrics-token"
AUTHORIZED = {"Authorization": f"Bearer {TOKEN}"}


def figure(client: TestClient[Any], name: str, **labels: str) -> float:
    answer = client.get("/metrics", headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_without_a_token_setting_there_are_no_metrics(client: TestClient[Any]) -> None:
    assert client.get("/metrics", headers=AUTHORIZED).status_code == 404


@pytest.mark.settings(metrics_token=TOKEN)
def test_metrics_want_the_token_and_leave_the_openapi_document_alone(
    client: TestClient[Any],
) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}):
        assert client.get("/metrics", headers=headers).status_code == 401, headers
    assert client.get("/metrics", headers=AUTHORIZED).status_code == 200
    assert "/metrics" not in client.get("/docs/openapi.json").json()["paths"]


@pytest.mark.settings(metrics_token=TOKEN)
def test_requests_donations_cache_reads_and_the_outbox_are_counted(
    client: TestClient[Any], make_account: Any
) -> None:
    author: Account = make_account()
    collect_id = create_collect(client, author)
    assert donate(client, author, collect_id, "12.34").status_code == 201
    assert donate(client, author, collect_id, "1.66").status_code == 201
    for _ in range(3):
        client.get(f"/api/v1/collects/{collect_id}/", headers=author.headers)
    client.get("/no/such/path")
    assert figure(client, "fundraising_donations_total") == 2
    assert figure(client, "fundraising_donated_kopecks_total") == 1400
    detail = {"method": "GET", "route": "/api/v1/collects/{collect_id}", "status": "200"}
    assert figure(client, "fundraising_http_requests_total", **detail) == 3
    assert figure(client, "fundraising_cache_reads_total", result="miss") >= 1
    assert figure(client, "fundraising_cache_reads_total", result="hit") >= 1
    assert figure(client, "fundraising_http_requests_total", route="unmatched") == 1
    assert figure(client, "fundraising_outbox_waiting") >= 0  # present, from the database


@pytest.mark.settings(metrics_token=TOKEN, login_max_failures=2)
def test_refused_logins_are_counted(client: TestClient[Any], make_account: Any) -> None:
    account: Account = make_account()
    wrong = {"username": account.username, "password": "not the password"}
    answers = [client.post("/auth/jwt/create/", json=wrong).status_code for _ in range(4)]
    assert answers.count(429) == 2, answers
    assert figure(client, "fundraising_throttled_total", limit="login") == 2


def test_access_lines_name_the_route_the_user_and_the_request_never_a_secret(
    client: TestClient[Any], make_account: Any, caplog: pytest.LogCaptureFixture
) -> None:
    account: Account = make_account()
    collect_id = create_collect(client, account)
    with caplog.at_level(logging.INFO, logger="fundraising.access"):
        client.get(
            f"/api/v1/collects/{collect_id}/?q=secret-search",
            headers={**account.headers, "X-Request-ID": "req-1"},
        )
        client.post("/auth/jwt/create/", json={"username": account.username, "password": PASSWORD})
    detail, login = [r for r in caplog.records if r.name == "fundraising.access"]
    fields = access_fields(detail)
    assert fields is not None
    assert (fields["request_id"], fields["route"], fields["status"], fields["user_id"]) == (
        "req-1",
        "/api/v1/collects/{collect_id}",
        200,
        account.id,
    )
    assert detail.getMessage().startswith("GET /api/v1/collects/{collect_id} 200 ")
    login_fields = access_fields(login)
    assert login_fields is not None
    assert (login_fields["route"], login_fields["user_id"]) == ("/auth/jwt/create", None)
    for formatter in (JsonLines(), PlainLines()):
        lines = "\n".join(formatter.format(record) for record in (detail, login))
        assert "req-1" in lines and "/api/v1/collects/{collect_id}" in lines
        for secret in (PASSWORD, account.access, "secret-search", account.username):
            assert secret not in lines, (secret, lines)


@pytest.mark.settings(access_log=False)
def test_the_access_log_can_be_turned_off(
    client: TestClient[Any], make_account: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fundraising.access"):
        client.get("/health/live")
    assert not [r for r in caplog.records if r.name == "fundraising.access"]
