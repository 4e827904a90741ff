"""Tokens of users that were deleted or deactivated cannot write, refresh, patch or delete."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from sqlalchemy import text

from fundraising.container import Container
from tests.e2e.attack_helpers import COLLECTS, PAYMENTS, MakeAccount, assert_unauthorized
from tests.e2e.conftest import (
    PASSWORD,
    Account,
    assert_problem,
    check_each,
    create_collect,
    transaction_id,
)


def delete_user(container: Container, user_id: int) -> None:
    with container.engine().begin() as connection:
        connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})


def deactivate(container: Container, user_id: int) -> None:
    with container.engine().begin() as connection:
        connection.execute(
            text("UPDATE users SET is_active = :active WHERE id = :id"),
            {"active": False, "id": user_id},
        )


def writes_are_refused(client: TestClient[Any], account: Account, collect_id: int) -> None:
    donation = {"collect": collect_id, "amount": "5", "transaction_id": transaction_id()}
    check_each(
        [
            ("GET", "/auth/users/me/", None),
            ("POST", COLLECTS, {"title": "from a ghost"}),
            ("POST", PAYMENTS, donation),
        ],
        lambda case: assert_unauthorized(
            client.request(case[0], case[1], json=case[2], headers=account.headers)
        ),
    )
    assert_unauthorized(client.post("/auth/jwt/refresh/", json={"refresh": account.refresh}))
    assert_problem(
        client.post("/auth/jwt/create/", json={"username": account.username, "password": PASSWORD}),
        401,
    )


def test_a_deleted_users_tokens_cannot_write_or_refresh(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    other = make_account()
    collect_id = create_collect(client, other)
    ghost = make_account()
    assert client.get("/auth/users/me/", headers=ghost.headers).status_code == 200  # remembered
    delete_user(container, ghost.id)
    writes_are_refused(client, ghost, collect_id)
    detail = client.get(f"{COLLECTS}{collect_id}/", headers=other.headers).json()
    assert (detail["donations_count"], detail["collected_amount"]) == (0, "0.00")


def test_a_deactivated_users_tokens_cannot_write_or_refresh(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    other = make_account()
    collect_id = create_collect(client, other)
    inactive = make_account()
    deactivate(container, inactive.id)
    writes_are_refused(client, inactive, collect_id)
    detail = client.get(f"{COLLECTS}{collect_id}/", headers=other.headers).json()
    assert detail["donations_count"] == 0


def test_a_deleted_user_cannot_patch_or_delete(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    other = make_account()
    collect_id = create_collect(client, other)
    ghost = make_account()
    delete_user(container, ghost.id)
    path = f"{COLLECTS}{collect_id}/"
    check_each(
        [("PATCH", {"title": "ghost"}), ("DELETE", None)],
        lambda case: assert_unauthorized(
            client.request(case[0], path, json=case[1], headers=ghost.headers)
        ),
    )


def test_a_deactivated_author_cannot_patch_or_delete_their_collect(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    author = make_account()
    collect_id = create_collect(client, author, title="before")
    deactivate(container, author.id)
    path = f"{COLLECTS}{collect_id}/"
    check_each(
        [("PATCH", {"title": "after deactivation"}), ("DELETE", None)],
        lambda case: assert_unauthorized(
            client.request(case[0], path, json=case[1], headers=author.headers)
        ),
    )
