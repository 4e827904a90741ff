"""/api/v1/payments/: donations (validation, state, idempotency), my payments, one payment."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient

from fundraising.settings import Settings
from tests.e2e.conftest import (
    Account,
    assert_problem,
    check_each,
    create_collect,
    donate,
    iso,
    mails,
    text_of,
    transaction_id,
    utc,
    wait_for,
)
from tests.fakes import FixedClock

MakeAccount = Callable[..., Account]
BASE = "http://testserver.local"
PAYMENTS = "/api/v1/payments/"
PAYMENT_FIELDS = {
    "id",
    "collect",
    "amount",
    "status",
    "transaction_id",
    "payment_date",
    "visibility",
    "is_anonymous",
    "comment",
    "metadata",
    "refunded_at",
}
REPLAYED = "Idempotent-Replayed"


def collect_of(client: TestClient[Any], account: Account, collect_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/collects/{collect_id}/", headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def totals(client: TestClient[Any], account: Account, collect_id: int) -> tuple[str, int, int]:
    detail = collect_of(client, account, collect_id)
    return detail["collected_amount"], detail["donations_count"], detail["donors_count"]


def nested(levels: int) -> dict[str, Any]:
    """A JSON object nested `levels` deep (the outer object is level 1)."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def compact_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# --- donate ---


def test_a_donation_answers_201_with_the_payment(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author)
    tx = transaction_id()
    response = client.post(
        PAYMENTS,
        json={
            "collect": collect_id,
            "amount": "150.5",
            "transaction_id": tx,
            "comment": "С днём рождения!",
            "metadata": {"source": "app", "nested": {"n": [1, 2.5, None, True]}},
        },
        headers=donor.headers,
    )
    assert response.status_code == 201, response.text
    assert REPLAYED.lower() not in {name.lower() for name in response.headers}
    payment = response.json()
    assert set(payment) == PAYMENT_FIELDS
    assert isinstance(payment["id"], int) and payment["id"] > 0
    assert payment["collect"] == collect_id
    assert payment["amount"] == "150.50"
    assert payment["status"] == "completed"
    assert payment["transaction_id"] == tx
    assert payment["is_anonymous"] is False
    assert payment["comment"] == "С днём рождения!"
    assert payment["metadata"] == {"source": "app", "nested": {"n": [1, 2.5, None, True]}}
    utc(payment["payment_date"])


def test_optional_fields_default_to_null_and_false(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    payment = donate(client, author, create_collect(client, author), 10).json()
    assert (payment["comment"], payment["metadata"], payment["is_anonymous"]) == (None, None, False)
    assert payment["visibility"] == "public"
    assert payment["amount"] == "10.00"


def test_donations_update_the_totals(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    first = make_account()
    second = make_account()
    hidden = make_account()
    collect_id = create_collect(client, author, goal_amount="1000")
    assert totals(client, author, collect_id) == ("0.00", 0, 0)
    assert donate(client, first, collect_id, "100.10").status_code == 201
    assert totals(client, author, collect_id) == ("100.10", 1, 1)
    assert donate(client, first, collect_id, 50).status_code == 201
    assert totals(client, author, collect_id) == ("150.10", 2, 1)
    assert donate(client, second, collect_id, "1.00").status_code == 201
    assert totals(client, author, collect_id) == ("151.10", 3, 2)
    assert donate(client, hidden, collect_id, "48.90", is_anonymous=True).status_code == 201
    assert totals(client, author, collect_id) == ("200.00", 4, 3)  # anonymous donors count
    assert donate(client, second, collect_id, "1.00", is_anonymous=True).status_code == 201
    assert totals(client, author, collect_id) == ("201.00", 5, 3)
    assert collect_of(client, author, collect_id)["progress"] == 20.1


def test_amount_limits_are_inclusive(client: TestClient[Any], make_account: MakeAccount) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    for amount, stored in [
        ("1.00", "1.00"),
        (1, "1.00"),
        ("10000000.00", "10000000.00"),
        (10000000, "10000000.00"),
    ]:
        response = donate(client, author, collect_id, amount)
        assert response.status_code == 201, (amount, response.text)
        assert response.json()["amount"] == stored


INVALID_DONATIONS: list[tuple[dict[str, Any], str]] = [
    ({"amount": "0.99"}, "amount"),
    ({"amount": 0.99}, "amount"),
    ({"amount": "10000000.01"}, "amount"),
    ({"amount": 10000000.01}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"amount": 1.001}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": False}, "amount"),
    ({"amount": None}, "amount"),
    ({"amount": 0}, "amount"),
    ({"amount": -5}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": ["10"]}, "amount"),
    ({"transaction_id": "with space"}, "transaction_id"),
    ({"transaction_id": "x" * 256}, "transaction_id"),
    ({"transaction_id": ""}, "transaction_id"),
    ({"transaction_id": "tab\there"}, "transaction_id"),
    ({"transaction_id": "кириллица"}, "transaction_id"),
    ({"transaction_id": "nul\x00"}, "transaction_id"),
    ({"transaction_id": 12345}, "transaction_id"),
    ({"transaction_id": None}, "transaction_id"),
    ({"comment": "x" * 501}, "comment"),
    ({"comment": 5}, "comment"),
    ({"is_anonymous": "yes"}, "is_anonymous"),
    ({"is_anonymous": None}, "is_anonymous"),
    ({"visibility": "secret"}, "visibility"),
    ({"visibility": None}, "visibility"),
    ({"visibility": "ANONYMOUS"}, "visibility"),
    ({"visibility": "anonymous", "is_anonymous": False}, "visibility"),
    ({"visibility": "public", "is_anonymous": True}, "visibility"),
    ({"visibility": "hide_amount", "is_anonymous": True}, "visibility"),
    ({"metadata": [1, 2]}, "metadata"),
    ({"metadata": "text"}, "metadata"),
    ({"metadata": 5}, "metadata"),
    ({"metadata": {"k": "x" * 4089}}, "metadata"),  # 4,097 bytes compact
    ({"metadata": {"k": "я" * 2045}}, "metadata"),  # 2,053 characters but 4,098 bytes
    ({"metadata": nested(33)}, "metadata"),
    (
        {"metadata": {"list": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},
        "metadata",
    ),
]


def test_each_invalid_donation_field_is_a_400_naming_it(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)

    def rejected(case: tuple[dict[str, Any], str]) -> None:
        fields, name = case
        body = {"collect": collect_id, "amount": "10", "transaction_id": transaction_id(), **fields}
        assert_problem(client.post(PAYMENTS, json=body, headers=author.headers), 400, name)

    check_each(INVALID_DONATIONS, rejected)
    assert totals(client, author, collect_id) == ("0.00", 0, 0)


def test_limits_of_the_optional_fields_are_inclusive(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    exactly_4096 = {"k": "я" * 2044}
    assert compact_size(exactly_4096) == 4096
    assert compact_size(nested(32)) < 4096

    def accepted(fields: dict[str, Any]) -> None:
        response = donate(client, author, collect_id, "1", **fields)
        assert response.status_code == 201, response.text

    check_each(
        [
            {"transaction_id": "x" * 255},
            {"transaction_id": "!~" + "".join(chr(c) for c in range(0x21, 0x7F))},
            {"comment": "ж" * 500},
            {"comment": None},
            {"metadata": exactly_4096},
            {"metadata": nested(31)},
            {"metadata": {}},
            {"metadata": None},
        ],
        accepted,
    )


def test_metadata_nested_32_levels_is_accepted(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    response = donate(client, author, collect_id, "1", metadata=nested(32))
    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == nested(32)


def test_required_fields_are_named_together(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    response = client.post(PAYMENTS, json={}, headers=make_account().headers)
    assert_problem(response, 400, "collect", "amount", "transaction_id")
    response = client.post(
        PAYMENTS,
        json={"collect": 2**62, "amount": "0.5", "transaction_id": "a b", "comment": "x" * 501},
        headers=make_account().headers,
    )
    assert_problem(response, 400, "collect", "amount", "transaction_id", "comment")


def test_an_unknown_collect_is_a_400_on_field_collect(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    donor = make_account()
    deleted = create_collect(client, donor)
    assert client.delete(f"/api/v1/collects/{deleted}/", headers=donor.headers).status_code == 204

    def rejected(collect: Any) -> None:
        assert_problem(donate(client, donor, collect, "10"), 400, "collect")

    check_each([deleted, 2**62, 2**63 - 1, 2**64, 0, -1, "abc", "1", None, 1.5, [1]], rejected)


def test_an_inactive_collect_refuses_donations(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    patched = client.patch(
        f"/api/v1/collects/{collect_id}/", json={"is_active": False}, headers=author.headers
    )
    assert patched.status_code == 200
    assert_problem(donate(client, make_account(), collect_id, "10"), 409)
    assert totals(client, author, collect_id) == ("0.00", 0, 0)


def test_a_collect_accepts_donations_until_its_end_date_exclusive(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author, end_date=iso(clock.now() + timedelta(minutes=10)))
    clock.advance(minutes=10, microseconds=-1)  # access tokens live 15 minutes
    assert donate(client, donor, collect_id, "10").status_code == 201
    clock.advance(microseconds=1)  # now == end_date
    assert_problem(donate(client, donor, collect_id, "10"), 409)
    clock.advance(minutes=4)
    assert_problem(donate(client, donor, collect_id, "10"), 409)
    assert totals(client, author, collect_id) == ("10.00", 1, 1)


def test_a_retry_replays_the_original_payment(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author)
    tx = transaction_id()
    first = donate(client, donor, collect_id, "10", transaction_id=tx, comment="first")
    assert first.status_code == 201
    for amount in (10, "10.00", "10", 10.0, "10.0"):
        retry = donate(
            client,
            donor,
            collect_id,
            amount,
            transaction_id=tx,
            comment="a retry may differ",
            metadata={"retry": True},
            is_anonymous=True,
        )
        assert retry.status_code == 200, (amount, retry.text)
        assert retry.headers[REPLAYED] == "true"
        assert retry.json() == first.json()
    assert totals(client, author, collect_id) == ("10.00", 1, 1)


def test_a_retry_is_replayed_after_the_collect_closed(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author, end_date=iso(clock.now() + timedelta(minutes=5)))
    tx = transaction_id()
    first = donate(client, donor, collect_id, "25", transaction_id=tx)
    assert first.status_code == 201
    client.patch(
        f"/api/v1/collects/{collect_id}/", json={"is_active": False}, headers=author.headers
    )
    clock.advance(minutes=6)
    retry = donate(client, donor, collect_id, "25.00", transaction_id=tx)
    assert retry.status_code == 200, retry.text
    assert retry.headers[REPLAYED] == "true"
    assert retry.json()["id"] == first.json()["id"]


def test_another_reuse_of_a_transaction_id_is_a_409(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account()
    collect_id = create_collect(client, author)
    other_collect = create_collect(client, author)
    tx = transaction_id()
    assert donate(client, donor, collect_id, "10", transaction_id=tx).status_code == 201

    def conflict(case: tuple[Account, int, str]) -> None:
        payer, collect, amount = case
        problem = assert_problem(donate(client, payer, collect, amount, transaction_id=tx), 409)
        assert "transaction_id" in problem["detail"]

    check_each(
        [
            (donor, collect_id, "10.01"),  # another amount
            (donor, other_collect, "10"),  # another collect
            (make_account(), collect_id, "10"),  # another user
            (author, other_collect, "99"),
        ],
        conflict,
    )
    assert totals(client, author, collect_id) == ("10.00", 1, 1)
    assert totals(client, author, other_collect) == ("0.00", 0, 0)
    mine = client.get(PAYMENTS, headers=donor.headers).json()
    assert mine["count"] == 1


def test_transaction_ids_are_case_sensitive(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    tx = transaction_id()
    assert donate(client, author, collect_id, "1", transaction_id=f"A{tx}").status_code == 201
    assert donate(client, author, collect_id, "1", transaction_id=f"a{tx}").status_code == 201
    assert totals(client, author, collect_id) == ("2.00", 2, 1)


def test_a_donation_mails_the_payer_and_the_author(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    author = make_account()
    donor = make_account("Пётр", "")
    collect_id = create_collect(client, author, title="Юбилей")
    assert donate(client, donor, collect_id, "1234.50").status_code == 201
    donor_address = f"{donor.username}@example.com"
    author_address = f"{author.username}@example.com"
    thanks = wait_for(lambda: mails(settings.mail_dir, "donation_thanks", to=donor_address))
    received = wait_for(lambda: mails(settings.mail_dir, "donation_received", to=author_address))
    assert thanks and received, "the donation e-mails did not arrive in time"
    assert len(thanks) == len(received) == 1
    for message in (thanks[0], received[0]):
        assert "Юбилей" in message["Subject"]
        assert "1\u00a0234,50" in text_of(message)


# --- my payments ---


def test_my_payments_are_mine_only_newest_first_and_paginated(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    me = make_account()
    other = make_account()
    first_collect = create_collect(client, author)
    second_collect = create_collect(client, author)
    ids = [
        donate(client, me, collect, amount).json()["id"]
        for collect, amount in [(first_collect, "1"), (second_collect, "2"), (first_collect, "3")]
    ]
    assert donate(client, other, first_collect, "4").status_code == 201
    response = client.get(PAYMENTS, headers=me.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["count"] == 3
    assert [p["id"] for p in page["results"]] == ids[::-1]
    assert set(page["results"][0]) == PAYMENT_FIELDS
    assert (page["next"], page["previous"]) == (None, None)

    first = client.get(PAYMENTS, params={"page_size": 2}, headers=me.headers).json()
    assert [p["id"] for p in first["results"]] == ids[:0:-1]
    assert first["next"].startswith(f"{BASE}/api/v1/payments")
    second = client.get(first["next"].removeprefix(BASE), headers=me.headers).json()
    assert [p["id"] for p in second["results"]] == ids[:1]
    assert second["next"] is None
    assert second["previous"] is not None
    assert_problem(
        client.get(PAYMENTS, params={"page": 3, "page_size": 2}, headers=me.headers), 404
    )
    assert_problem(client.get(PAYMENTS, params={"page": 0}, headers=me.headers), 404)
    assert_problem(client.get(PAYMENTS, params={"page": "x"}, headers=me.headers), 400, "page")
    assert_problem(
        client.get(PAYMENTS, params={"page_size": "x"}, headers=me.headers), 400, "page_size"
    )


def test_my_payments_start_empty(client: TestClient[Any], make_account: MakeAccount) -> None:
    response = client.get(PAYMENTS, headers=make_account().headers)
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


# --- one payment ---


def test_a_payment_is_visible_to_its_payer_and_the_collect_author_only(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account()
    stranger = make_account()
    collect_id = create_collect(client, author)
    payment = donate(client, donor, collect_id, "42", metadata={"k": "v"}).json()
    path = f"{PAYMENTS}{payment['id']}/"
    for viewer in (donor, author):
        response = client.get(path, headers=viewer.headers)
        assert response.status_code == 200, response.text
        assert response.json() == payment
    hidden = assert_problem(client.get(path, headers=stranger.headers), 404)
    missing = assert_problem(client.get(f"{PAYMENTS}{2**62}/", headers=stranger.headers), 404)
    assert hidden["detail"] == missing["detail"]


def test_a_missing_payment_is_a_404(client: TestClient[Any], make_account: MakeAccount) -> None:
    headers = make_account().headers
    check_each(
        ["0", "-1", "abc", str(2**64), str(2**63 - 1), "1.5"],
        lambda i: assert_problem(client.get(f"{PAYMENTS}{i}/", headers=headers), 404),
    )


def test_other_methods_are_405(client: TestClient[Any], make_account: MakeAccount) -> None:
    account = make_account()
    payment = donate(client, account, create_collect(client, account), "5").json()

    def not_allowed(case: tuple[str, str]) -> None:
        method, path = case
        response = client.request(method, path, json={"amount": "1"}, headers=account.headers)
        assert_problem(response, 405)

    one = f"{PAYMENTS}{payment['id']}/"
    check_each(
        [
            ("PUT", PAYMENTS),
            ("PATCH", PAYMENTS),
            ("DELETE", PAYMENTS),
            ("PUT", one),
            ("PATCH", one),
            ("DELETE", one),
            ("POST", one),
        ],
        not_allowed,
    )
    assert client.get(one, headers=account.headers).json() == payment


def test_payment_endpoints_require_a_token(client: TestClient[Any]) -> None:
    assert_problem(client.get(PAYMENTS), 401)
    assert_problem(client.post(PAYMENTS, json={}), 401)
    assert_problem(client.get(f"{PAYMENTS}1/"), 401)


def test_an_id_written_as_a_whole_number_with_a_fraction_or_exponent_is_that_id(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    # JSON Schema's `integer` admits 7.0 and 7e0 (the OpenAPI document's `collect` is one).
    author = make_account()
    collect_id = create_collect(client, author)
    for number, written in enumerate((f"{collect_id}.0", f"{collect_id}e0", f"{collect_id}.00")):
        body = f'{{"collect": {written}, "amount": "10.00", "transaction_id": "whole-{number}"}}'
        answer = client.post(
            PAYMENTS,
            content=body.encode(),
            headers={**author.headers, "content-type": "application/json"},
        )
        assert answer.status_code == 201, (written, answer.text)
        assert answer.json()["collect"] == collect_id
    fraction = f'{{"collect": {collect_id}.5, "amount": "10.00", "transaction_id": "whole-x"}}'
    refused = client.post(
        PAYMENTS,
        content=fraction.encode(),
        headers={**author.headers, "content-type": "application/json"},
    )
    assert_problem(refused, 400, "collect")
