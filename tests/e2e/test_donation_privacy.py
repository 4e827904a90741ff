"""Donations: what the feed shows of each (public, hide_amount, anonymous) and the donor's wish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from fundraising.settings import Settings
from tests.e2e.conftest import Account, create_collect, donate, mails, text_of, wait_for

MakeAccount = Callable[..., Account]


@pytest.mark.parametrize(
    ("given", "visibility", "is_anonymous"),
    [
        ({}, "public", False),
        ({"is_anonymous": True}, "anonymous", True),
        ({"is_anonymous": False}, "public", False),
        ({"visibility": "hide_amount"}, "hide_amount", False),
        ({"visibility": "hide_amount", "is_anonymous": False}, "hide_amount", False),
        ({"visibility": "anonymous"}, "anonymous", True),
        ({"visibility": "anonymous", "is_anonymous": True}, "anonymous", True),
    ],
)
def test_either_field_chooses_the_visibility_and_both_are_answered(
    client: TestClient[Any],
    make_account: MakeAccount,
    given: dict[str, Any],
    visibility: str,
    is_anonymous: bool,
) -> None:
    author = make_account()
    answer = donate(client, author, create_collect(client, author), 10, **given)

    assert answer.status_code == 201, answer.text
    payment = answer.json()
    assert (payment["visibility"], payment["is_anonymous"]) == (visibility, is_anonymous)
    stored = client.get(f"/api/v1/payments/{payment['id']}/", headers=author.headers).json()
    assert (stored["visibility"], stored["is_anonymous"]) == (visibility, is_anonymous)


def _feeds(client: TestClient[Any], viewer: Account, collect_id: int) -> list[list[Any]]:
    """The detail's feed and the paged feed, each as [donor_name, amount, comment] entries."""
    detail = client.get(f"/api/v1/collects/{collect_id}/", headers=viewer.headers).json()
    paged = client.get(f"/api/v1/collects/{collect_id}/payments/", headers=viewer.headers).json()
    return [
        [[e["donor_name"], e["amount"], e["comment"]] for e in entries]
        for entries in (detail["payments"], paged["results"])
    ]


def test_the_feed_shows_each_donation_as_its_donor_chose_to_every_viewer(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, viewer = make_account("Анна", "Смирнова"), make_account()
    olga, petr, ivan = make_account("Ольга", ""), make_account("Пётр", ""), make_account("Иван", "")
    collect_id = create_collect(client, author)
    donate(client, olga, collect_id, "500.00", visibility="hide_amount", comment="Счастья!")
    donate(client, petr, collect_id, "700.00", visibility="anonymous", comment="Здоровья!")
    donate(client, ivan, collect_id, "900.00")
    expected = [
        ["Иван", "900.00", None],
        ["Anonymous", "700.00", "Здоровья!"],
        ["Ольга", None, "Счастья!"],
    ]

    first = {who.username: _feeds(client, who, collect_id) for who in (author, viewer, olga)}
    again = client.get(f"/api/v1/collects/{collect_id}/", headers=viewer.headers)

    assert all(feeds == [expected, expected] for feeds in first.values()), first
    assert again.headers["x-cache"] == "HIT"
    assert [e["amount"] for e in again.json()["payments"]] == ["900.00", "700.00", None]
    detail = again.json()
    assert (detail["collected_amount"], detail["donations_count"]) == ("2100.00", 3)


def test_the_author_is_mailed_the_wish_and_the_donor_is_not_mailed_their_own(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    author, donor = make_account(), make_account("Пётр", "")
    collect_id = create_collect(client, author, title="Юбилей")
    wish = "Пусть сбудется всё задуманное!"
    assert donate(client, donor, collect_id, "150.00", comment=wish).status_code == 201

    received = wait_for(
        lambda: mails(settings.mail_dir, "donation_received", to=f"{author.username}@example.com")
    )
    thanks = wait_for(
        lambda: mails(settings.mail_dir, "donation_thanks", to=f"{donor.username}@example.com")
    )

    assert received and thanks, "the donation e-mails did not arrive in time"
    assert f"Пожелание: «{wish}»" in text_of(received[0])
    html = received[0].get_body(("html",))
    assert html is not None and "Пожелание: «Пусть сбудется" in html.get_content()
    assert wish not in text_of(thanks[0])
