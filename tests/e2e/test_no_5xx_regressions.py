"""The 5xx answers the bad-input sweeps found, one test each: now a 4xx, or a plain answer."""

from __future__ import annotations

import json
from typing import Any

from litestar.testing import TestClient

from tests.e2e.bad_input_helpers import COLLECTS, PAYMENTS, MakeAccount, deep
from tests.e2e.conftest import Account, create_collect, transaction_id

JSON_ENDPOINTS = [
    ("POST", "/auth/users/"),
    ("POST", "/auth/jwt/create/"),
    ("POST", "/auth/jwt/refresh/"),
    ("POST", "/auth/jwt/verify/"),
    ("POST", COLLECTS),
    ("POST", PAYMENTS),
]


def send_json_bodies(
    client: TestClient[Any], account: Account, bodies: list[bytes]
) -> list[tuple[str, bytes, int]]:
    answers = []
    for method, path in JSON_ENDPOINTS:
        for body in bodies:
            response = client.request(
                method,
                path,
                content=body,
                headers={**account.headers, "Content-Type": "application/json"},
            )
            answers.append((path, body[:20], response.status_code))
    return answers


def test_invalid_utf8_inside_a_json_string_is_a_400(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    bodies = [b'{"a": "\xff"}', b'{"username": "\xc3\x28", "password": "x"}']
    answers = send_json_bodies(client, make_account(), bodies)
    assert all(status == 400 for *_, status in answers), answers


def test_deeply_nested_json_is_a_400(client: TestClient[Any], make_account: MakeAccount) -> None:
    bodies = [
        deep(2_000).encode(),
        ('{"metadata": ' + deep(5_000) + "}").encode(),
        ('{"a": ' * 3_000 + "1" + "}" * 3_000).encode(),
    ]
    answers = send_json_bodies(client, make_account(), bodies)
    assert all(status == 400 for *_, status in answers), answers


def test_an_end_date_out_of_range_in_utc_is_a_400(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    answers = []
    for value in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        for method, path in (("POST", COLLECTS), ("PATCH", f"{COLLECTS}{collect_id}/")):
            response = client.request(
                method, path, json={"title": "t", "end_date": value}, headers=account.headers
            )
            fields = [e["field"] for e in response.json().get("errors", [])]
            answers.append((method, value, response.status_code, fields))
    assert all(status == 400 and fields == ["end_date"] for *_, status, fields in answers), answers


def test_a_file_in_a_value_field_is_a_400(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    answers = []
    cases = [
        (method, path, name)
        for name in ("goal_amount", "end_date", "title", "description", "occasion", "is_active")
        for method, path in (("POST", COLLECTS), ("PATCH", f"{COLLECTS}{collect_id}/"))
        if (method, name) != ("POST", "is_active")  # not writable on POST: ignored
    ]
    for method, path, name in cases:
        response = client.request(
            method,
            path,
            data={"title": "t"} if name != "title" else {},
            files={name: ("value.txt", b"100", "text/plain")},
            headers=account.headers,
        )
        fields = [e["field"] for e in response.json().get("errors", [])]
        answers.append((method, name, response.status_code, fields))
    assert all(status == 400 and name in fields for _, name, status, fields in answers), answers


def test_a_signed_or_non_ascii_path_id_is_no_5xx(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    create_collect(client, account)
    answers = []
    for value in ("+1", "１", "+０"):
        for suffix in ("", "payments/"):
            response = client.get(f"{COLLECTS}{value}/{suffix}", headers=account.headers)
            answers.append((value, suffix, response.status_code))
    assert all(status in (200, 404) for *_, status in answers), answers


def test_an_author_id_beyond_64_bits_is_no_5xx(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    answers = []
    for value in (str(2**63), str(2**64), "1" * 20, str(10**30)):
        response = client.get(COLLECTS, params={"author": value}, headers=account.headers)
        answers.append((value, response.status_code, response.text[:80]))
    assert all(status in (200, 400) for _, status, _ in answers), answers
    assert all(status != 200 or '"count":0' in text for _, status, text in answers), answers


HUGE_NUMBERS = ["1e400000", "1e1000000", "-1e999999999999999999999", "1" + "0" * 5_000]


def test_huge_numbers_are_a_400_on_their_field(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    """Outside money, a number is a safe integer or a finite double; in money, at most ten
    digits. Nothing is expanded into its digits (1e1000000 once held the event loop 33 s)."""
    account = make_account()
    collect_id = create_collect(client, account)

    def payment() -> dict[str, Any]:
        return {"collect": collect_id, "amount": "10", "transaction_id": transaction_id()}

    cases = [
        ("POST", PAYMENTS, payment, "metadata", '{"x": [1, {"y": %s}]}'),
        ("POST", PAYMENTS, payment, "amount", "%s"),
        ("POST", COLLECTS, lambda: {"title": "t"}, "goal_amount", "%s"),
        ("PATCH", f"{COLLECTS}{collect_id}/", dict, "goal_amount", "%s"),
    ]
    answers = []
    for method, path, base, field, template in cases:
        for number in HUGE_NUMBERS:
            text = json.dumps({**base(), field: "__RAW__"})
            response = client.request(
                method,
                path,
                content=text.replace('"__RAW__"', template % number).encode(),
                headers={**account.headers, "Content-Type": "application/json"},
            )
            fields = [e["field"] for e in response.json().get("errors", [])]
            answers.append((method, field, number[:12], response.status_code, fields))
    assert all(status == 400 and fields == [field] for _, field, _, status, fields in answers), (
        answers
    )


def test_metadata_numbers_beyond_a_double_or_a_safe_integer_are_refused(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    kept = {"int": 2**53 - 1, "small": -(2**53 - 1), "big": 1e300, "tiny": 1.5e-300}
    accepted = client.post(
        PAYMENTS,
        json={
            "collect": collect_id,
            "amount": "1",
            "transaction_id": transaction_id(),
            "metadata": kept,
        },
        headers=account.headers,
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["metadata"] == kept
    for refused in ("9007199254740992", "-9007199254740992", "1e309", "-1e400"):
        body = (
            f'{{"collect": {collect_id}, "amount": "1", "transaction_id": "{transaction_id()}",'
            f' "metadata": {{"n": {refused}}}}}'
        )
        response = client.post(
            PAYMENTS,
            content=body.encode(),
            headers={**account.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, (refused, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["metadata"], refused
