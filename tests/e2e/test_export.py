"""The CSV export of a collect's payments: who may read it, its exact shape, the real donor
names whatever the feed shows, refunded payments included, no formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from fundraising.entrypoints.http.csv_export import safe_cell
from tests.e2e.conftest import Account, assert_problem, create_collect, donate

MakeAccount = Callable[..., Account]
HEADER = [
    "id",
    "payment_date",
    "status",
    "amount",
    "donor_username",
    "donor_name",
    "visibility",
    "comment",
    "transaction_id",
]


def _export(client: TestClient[Any], who: Account, collect_id: int) -> Any:
    return client.get(f"/api/v1/collects/{collect_id}/export/", headers=who.headers)


def test_the_export_lists_every_payment_oldest_first_with_real_names(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, olga, petr = make_account("Анна", ""), make_account("Ольга", "Ли"), make_account()
    collect_id = create_collect(client, author)
    first = donate(client, olga, collect_id, "500.00", visibility="anonymous", comment="Ура")
    second = donate(client, petr, collect_id, "70.10", visibility="hide_amount")
    third = donate(client, olga, collect_id, "1.00", transaction_id="sber-3")
    refunded = client.post(
        f"/api/v1/payments/{second.json()['id']}/refund/", headers=author.headers
    )
    assert refunded.status_code == 200, refunded.text

    answer = _export(client, author, collect_id)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="collect-{collect_id}-payments.csv"'
    )
    assert answer.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0] == HEADER
    ids = [str(p.json()["id"]) for p in (first, second, third)]
    assert [row[0] for row in table[1:]] == ids
    assert [row[2:8] for row in table[1:]] == [
        ["completed", "500.00", olga.username, "Ольга Ли", "anonymous", "Ура"],
        ["refunded", "70.10", petr.username, petr.username, "hide_amount", ""],
        ["completed", "1.00", olga.username, "Ольга Ли", "public", ""],
    ]
    assert table[3][8] == "sber-3"
    assert table[1][1] == first.json()["payment_date"]


def test_only_those_who_run_the_collect_may_export_it(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, donor, anna, outsider = (make_account() for _ in range(4))
    public = create_collect(client, author)
    secret = create_collect(client, author, visibility="private", hidden_from=[anna.id])
    assert donate(client, donor, public, "10.00").status_code == 201

    assert_problem(_export(client, donor, public), 403)
    assert_problem(_export(client, outsider, public), 403)
    assert_problem(_export(client, outsider, secret), 404)
    assert_problem(_export(client, anna, secret), 404)
    assert_problem(client.get(f"/api/v1/collects/{public}/export/"), 401)
    assert_problem(_export(client, author, 999_999_999), 404)
    promoted = client.post(
        f"/api/v1/collects/{public}/organisers/", json={"user": donor.id}, headers=author.headers
    )
    assert promoted.status_code == 201, promoted.text
    assert _export(client, donor, public).status_code == 200


def test_cells_that_would_start_a_formula_are_written_as_text(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, donor = make_account(), make_account('=HYPERLINK("http://x")', "")
    collect_id = create_collect(client, author)
    wishes = ["=1+1", "+7 999", "-5", "@SUM(A1)", "\tTab", "Обычное пожелание"]
    for wish in wishes:
        assert donate(client, donor, collect_id, "10.00", comment=wish).status_code == 201

    table = list(
        csv.reader(io.StringIO(_export(client, author, collect_id).content.decode("utf-8-sig")))
    )

    assert [row[7] for row in table[1:]] == [
        "'=1+1",
        "'+7 999",
        "'-5",
        "'@SUM(A1)",
        "'\tTab",
        "Обычное пожелание",
    ]
    assert {row[5] for row in table[1:]} == {'\'=HYPERLINK("http://x")'}


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("=A1", "'=A1"), ("\rX", "'\rX"), ("", ""), ("a=b", "a=b"), ("Иван", "Иван")],
)
def test_safe_cell(cell: str, shown: str) -> None:
    assert safe_cell(cell) == shown
