"""A first end-to-end walk: register, log in, open a collect, donate, read it back; the root
leads to the documentation."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.e2e.conftest import Account


def test_a_donation_shows_in_the_collect(client: TestClient[Any], make_account: Any) -> None:
    author: Account = make_account("Иван", "Петров")
    donor: Account = make_account()
    created = client.post(
        "/api/v1/collects/",
        json={"title": "Подарок", "goal_amount": "1000"},
        headers=author.headers,
    )
    assert created.status_code == 201
    collect_id = created.json()["id"]
    paid = client.post(
        "/api/v1/payments/",
        json={"collect": collect_id, "amount": "250.50", "transaction_id": f"tx-{collect_id}"},
        headers=donor.headers,
    )
    assert paid.status_code == 201
    response = client.get(f"/api/v1/collects/{collect_id}/", headers=donor.headers)
    detail = response.json()
    assert detail["collected_amount"] == "250.50"
    assert detail["progress"] == 25.1
    assert detail["author_name"] == "Иван Петров"
    assert detail["payments"][0]["donor_name"] == donor.username


def test_the_root_leads_a_browser_to_the_documentation(client: TestClient[Any]) -> None:
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "/docs/"
    docs = client.get("/", follow_redirects=True)
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
