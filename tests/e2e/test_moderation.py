"""Administrators' decisions over HTTP: a blocked collect shows `status: "blocked"`, takes no
donation and no change by its author (409, after 403 and 400) until it is unblocked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient

from fundraising.application.use_cases.collects import Moderation
from fundraising.container import Container
from tests.e2e.conftest import Account, assert_problem, create_collect, donate

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"


def test_a_blocked_collect_takes_nothing_until_it_is_unblocked(
    client: TestClient[Any], container: Container, make_account: MakeAccount
) -> None:
    author, donor, other = make_account(), make_account(), make_account()
    collect_id = create_collect(client, author)
    detail = f"{COLLECTS}{collect_id}/"
    assert client.get(detail, headers=donor.headers).json()["status"] == "open"  # cached

    container.moderate_collect()(Moderation(collect_id, "block", "Сбор на чужую карту"))

    seen = client.get(detail, headers=donor.headers)
    assert (seen.headers["X-Cache"], seen.json()["status"]) == ("MISS", "blocked")
    assert_problem(donate(client, donor, collect_id), 409)
    assert_problem(client.patch(detail, json={"is_active": True}, headers=author.headers), 409)
    assert_problem(client.patch(detail, json={}, headers=author.headers), 409)
    assert_problem(client.patch(detail, json={"title": ""}, headers=author.headers), 400, "title")
    assert_problem(client.patch(detail, json={"title": "x"}, headers=other.headers), 403)

    container.moderate_collect()(Moderation(collect_id, "unblock"))

    assert client.get(detail, headers=donor.headers).json()["status"] == "open"
    assert donate(client, donor, collect_id).status_code == 201
    renamed = client.patch(detail, json={"title": "Снова открыт"}, headers=author.headers)
    assert renamed.status_code == 200, renamed.text


def test_a_closed_collect_says_closed_and_reopens(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    detail = f"{COLLECTS}{collect_id}/"
    closed = client.patch(detail, json={"is_active": False}, headers=author.headers)
    assert closed.json()["status"] == "closed"
    reopened = client.patch(detail, json={"is_active": True}, headers=author.headers)
    assert reopened.json()["status"] == "open"
