"""What every answer carries whoever asks: nosniff, CORS only for configured origins, and
absolute URLs built from FUNDRAISING_PUBLIC_URL, never from the request's Host header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.e2e.conftest import Account, create_collect, image_bytes, wait_for

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"
PUBLIC = "http://testserver.local"


def test_every_kind_of_answer_says_nosniff(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    detail = f"{COLLECTS}{collect_id}/"
    answers = {
        "json": client.get("/auth/users/me/", headers=account.headers),
        "cache miss": client.get(detail, headers=account.headers),
        "cache hit": client.get(detail, headers=account.headers),
        "problem": client.get(f"{COLLECTS}999999999/", headers=account.headers),
        "no route": client.get("/nowhere"),
        "docs": client.get("/docs/"),
        "static": client.get("/docs/static/swagger-ui.css"),
        "health": client.get("/health/live"),
    }
    assert answers["cache hit"].headers["X-Cache"] == "HIT"
    missing = [
        name
        for name, answer in answers.items()
        if answer.headers.get("X-Content-Type-Options") != "nosniff"
    ]
    assert missing == []


def test_without_configured_origins_no_preflight_is_answered(client: TestClient[Any]) -> None:
    preflight = client.options(
        COLLECTS,
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.settings(cors_origins="https://app.example")
def test_preflights_are_answered_for_configured_origins_only(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    request = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = client.options(COLLECTS, headers={"Origin": "https://app.example", **request})
    refused = client.options(COLLECTS, headers={"Origin": "https://evil.example", **request})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in refused.headers

    account = make_account()
    collect_id = create_collect(client, account)
    detail = f"{COLLECTS}{collect_id}/"
    for _ in range(2):  # a miss, then what would be a hit: both carry the CORS headers
        read = client.get(detail, headers={**account.headers, "Origin": "https://app.example"})
        assert read.status_code == 200
        assert read.headers["access-control-allow-origin"] == "https://app.example"
        assert "X-Cache" in read.headers["access-control-expose-headers"]


def test_absolute_urls_come_from_the_public_url_not_the_host_header(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    spoofed = {**account.headers, "Host": "evil.example"}
    created = client.post(
        COLLECTS,
        data={"title": "С обложкой"},
        files={"cover": ("cover.png", image_bytes("PNG", (40, 30)), "image/png")},
        headers=spoofed,
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{PUBLIC}{COLLECTS}{created.json()['id']}/"
    create_collect(client, account)

    page = client.get(COLLECTS, params={"page_size": 1, "author": "me"}, headers=spoofed)
    assert page.json()["next"].startswith(f"{PUBLIC}{COLLECTS}?"), page.json()

    def ready() -> Any:
        found = client.get(f"{COLLECTS}{created.json()['id']}/", headers=spoofed).json()
        return found["cover_status"] == "ready" and found

    detail = wait_for(ready)
    assert detail, "the cover was not processed in time"
    assert detail["cover_url"].startswith(f"{PUBLIC}/media/")


def test_options_lists_every_method_the_document_gives_the_path(client: TestClient[Any]) -> None:
    paths = client.get("/docs/openapi.json").json()["paths"]
    wrong = {}
    for path, item in paths.items():
        documented = {method.upper() for method in item if method != "parameters"}
        concrete = path.replace("{collect_id}", "1").replace("{member_id}", "2")
        concrete = concrete.replace("{update_id}", "3").replace("{payment_id}", "4")
        concrete = concrete.replace("{webhook_id}", "5")
        answer = client.options(concrete)
        allowed = {method.strip() for method in answer.headers.get("allow", "").split(",")}
        if answer.status_code != 204 or allowed != documented | {"OPTIONS"}:
            wrong[path] = (answer.status_code, sorted(allowed), sorted(documented))
    assert not wrong, wrong
