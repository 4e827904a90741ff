"""DELETE /api/v1/collects/{id}/, and the token every collect endpoint requires."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.e2e.collect_helpers import COLLECTS, MISSING_IDS, MakeAccount, collect_of, listing, url
from tests.e2e.conftest import assert_problem, check_each, create_collect, donate


def test_the_author_deletes_a_collect_without_payments(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    response = client.delete(url(collect_id), headers=author.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(client.get(url(collect_id), headers=author.headers), 404)
    assert listing(client, author, author="me")["count"] == 0
    assert_problem(client.delete(url(collect_id), headers=author.headers), 404)


def test_delete_by_another_user_is_a_403(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    assert_problem(client.delete(url(collect_id), headers=make_account().headers), 403)
    assert collect_of(client, author, collect_id)["id"] == collect_id


def test_delete_of_a_missing_collect_is_a_404(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    headers = make_account().headers
    check_each(MISSING_IDS, lambda i: assert_problem(client.delete(url(i), headers=headers), 404))


def test_a_collect_with_payments_cannot_be_deleted(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    assert donate(client, make_account(), collect_id, "10").status_code == 201
    problem = assert_problem(client.delete(url(collect_id), headers=author.headers), 409)
    assert "deactivat" in problem["detail"].lower()
    assert collect_of(client, author, collect_id)["donations_count"] == 1


def test_403_comes_before_409_on_delete(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    assert donate(client, make_account(), collect_id, "10").status_code == 201
    assert_problem(client.delete(url(collect_id), headers=make_account().headers), 403)


def test_collect_endpoints_require_a_token(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    collect_id = create_collect(client, make_account())
    for method, path in [
        ("GET", COLLECTS),
        ("POST", COLLECTS),
        ("GET", url(collect_id)),
        ("PATCH", url(collect_id)),
        ("DELETE", url(collect_id)),
        ("GET", f"{url(collect_id)}payments/"),
    ]:
        assert_problem(client.request(method, path, json={"title": "x"}), 401)
