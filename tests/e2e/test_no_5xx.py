"""Bad input of every kind, sent to every endpoint, is never answered with a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.e2e.conftest import PASSWORD, Account, create_collect, transaction_id

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"
PAYMENTS = "/api/v1/payments/"

# Python values, sent as JSON.
WEIRD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    -0.0,
    10**30,
    -(10**30),
    2**63,
    2**64,
    "",
    " ",
    "\x00",
    "nul\x00byte",
    "\t\n\r",
    "😀" * 50,
    "\u202e\u0000\ufeff",
    "Ж" * 300,
    "x" * 20_000,
    "' OR 1=1 --",
    "%_\\",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "0x10",
    "1_000",
    "２０",  # full-width digits
    "2026-13-45T99:99:99Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00",
    "2030-01-01",
    "2030-01-01T00:00:00+25:00",
    {},
    {"a": "b"},
    {"$gt": ""},
    [],
    [1, 2],
    [[[]]],
    [None],
]

# Raw JSON number literals no Python float can hold, put into a field as they are.
RAW_NUMBERS = [
    "1e400",
    "-1e400",
    "1e-400",
    "100000000000000000000000000000000000000",
    "-0",
    "0.1e1",
    "1E+2",
    "123456789012345678901234567890.123456789",
    "1e400000",
    "-1e1000000",
    "1e999999999999999999999",
    "1e-999999999999999999999",
    "9" * 5_000,
]


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# Whole bodies that are not what any endpoint expects.
RAW_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b"0",
    b'"text"',
    b"{",
    b"}",
    b'{"a":}',
    b'{"a": 1,}',
    b"{'single': 'quotes'}",
    b"\x00\x01\x02",
    b"\xff\xfe\xfd",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e400}',
    b'{"title": "t", "title": 5}',
    deep(100).encode(),
    ('{"metadata": ' + deep(200) + "}").encode(),
    ('{"a": ' * 100 + "1" + "}" * 100).encode(),
    b'{"' + b"k" * 60_000 + b'": 1}',
]


class Probe:
    """Sends requests and keeps every one answered with a 5xx (or raising)."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.failures: list[str] = []
        self.sent = 0

    def send(self, method: str, path: str, label: object, **kwargs: Any) -> None:
        self.sent += 1
        try:
            response = self.client.request(method, path, **kwargs)
        except Exception as error:  # the app raised through the test client
            self.failures.append(f"{method} {path} {label!r}: raised {error!r}"[:300])
            return
        if response.status_code >= 500:
            self.failures.append(
                f"{method} {path} {label!r}: {response.status_code} {response.text[:120]}"[:300]
            )

    def json_fields(
        self,
        method: str,
        path: str,
        base: dict[str, Any],
        headers: dict[str, str],
        values: list[Any] = WEIRD_VALUES,
    ) -> None:
        """Each field replaced by each weird value and by raw numbers, and each field missing."""
        for name in base:
            for value in values:
                self.send(method, path, (name, value), json={**base, name: value}, headers=headers)
            for raw in RAW_NUMBERS:
                body = json.dumps({**base, name: "__RAW__"}).replace('"__RAW__"', raw)
                self.send(
                    method,
                    path,
                    (name, raw),
                    content=body.encode(),
                    headers={**headers, "Content-Type": "application/json"},
                )
            missing = {key: value for key, value in base.items() if key != name}
            self.send(method, path, ("missing", name), json=missing, headers=headers)
        for value in WEIRD_VALUES[:12]:
            everything = dict.fromkeys(base, value)
            self.send(method, path, ("all fields", value), json=everything, headers=headers)

    def raw_bodies(self, method: str, path: str, headers: dict[str, str]) -> None:
        for number, body in enumerate(RAW_BODIES):
            other_type = ("text/plain", "application/problem+json", "")[number % 3]
            for content_type in ("application/json", other_type):
                self.send(
                    method,
                    path,
                    (body[:30], content_type),
                    content=body,
                    headers={**headers, "Content-Type": content_type},
                )

    def assert_clean(self) -> None:
        assert self.sent > 0
        assert not self.failures, f"{len(self.failures)} of {self.sent} requests got a 5xx:\n" + (
            "\n".join(self.failures[:40])
        )


@pytest.fixture
def probe(client: TestClient[Any]) -> Probe:
    return Probe(client)


def query_values() -> Iterable[str]:
    for value in WEIRD_VALUES:
        if isinstance(value, str):
            yield value
        else:
            yield json.dumps(value)
    yield "9" * 400
    yield "-9" * 200
    yield "1" * 20


def test_registration_and_tokens(probe: Probe, make_account: MakeAccount) -> None:
    account = make_account()
    probe.json_fields(
        "POST",
        "/auth/users/",
        {
            "username": "probe_user",
            "email": "probe@example.com",
            "password": PASSWORD,
            "first_name": "A",
            "last_name": "B",
        },
        {},
    )
    probe.json_fields(
        "POST", "/auth/jwt/create/", {"username": account.username, "password": PASSWORD}, {}
    )
    probe.json_fields("POST", "/auth/jwt/refresh/", {"refresh": account.refresh}, {})
    probe.json_fields("POST", "/auth/jwt/verify/", {"token": account.access}, {})
    for path in ("/auth/users/", "/auth/jwt/create/", "/auth/jwt/refresh/", "/auth/jwt/verify/"):
        probe.raw_bodies("POST", path, {})
    probe.assert_clean()


def test_authorization_headers(probe: Probe, make_account: MakeAccount) -> None:
    account = make_account()
    header_values = [
        "",
        "Bearer",
        "Bearer ",
        "bearer " + account.access,
        "Bearer " + account.access + " extra",
        "Bearer " + account.refresh,
        "Bearer " + "x" * 10_000,
        "Bearer " + "a.b.c",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiItMSJ9.x",
        "Bearer eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.x",
        "Basic dXNlcjpwYXNz",
        "Token abc",
    ]
    for value in header_values:
        for method, path in [
            ("GET", "/auth/users/me/"),
            ("GET", COLLECTS),
            ("POST", PAYMENTS),
            ("GET", f"{COLLECTS}1/payments/"),
        ]:
            probe.send(method, path, value[:40], headers={"Authorization": value}, json={})
    for raw in (b"Bearer \xff\xfe", "Bearer ключ".encode(), b"Bearer \x01"):
        probe.send("GET", "/auth/users/me/", raw, headers={"Authorization": raw})
    probe.assert_clean()


def test_collect_bodies(probe: Probe, make_account: MakeAccount, client: TestClient[Any]) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    base = {
        "title": "t",
        "occasion": "birthday",
        "description": "d",
        "goal_amount": "100.00",
        "end_date": "2099-01-01T00:00:00Z",
    }
    probe.json_fields("POST", COLLECTS, base, account.headers)
    patch = f"{COLLECTS}{collect_id}/"
    # PATCH parses the same field types as POST: half the values there, all for its own fields
    probe.json_fields("PATCH", patch, base, account.headers, values=WEIRD_VALUES[::2])
    probe.json_fields("PATCH", patch, {"is_active": True, "cover": None}, account.headers)
    probe.raw_bodies("POST", COLLECTS, account.headers)
    probe.raw_bodies("PATCH", f"{COLLECTS}{collect_id}/", account.headers)
    probe.assert_clean()


def test_collect_forms(probe: Probe, make_account: MakeAccount, client: TestClient[Any]) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    base = {"title": "t", "occasion": "other", "goal_amount": "5", "end_date": "", "is_active": "1"}
    values = [
        "",
        " ",
        "null",
        "true",
        "0",
        "-1",
        "1.001",
        "1e400",
        "NaN",
        "9" * 40,
        "😀" * 20,
        "x" * 20_000,
        "2026-13-45T99:99:99Z",
        "9999-12-31T23:59:59Z",
        "[]",
        "{}",
        "%_\\",
    ]
    for method, path in (("POST", COLLECTS), ("PATCH", f"{COLLECTS}{collect_id}/")):
        for name in [*base, "cover", "description"]:
            for value in values:
                probe.send(
                    method,
                    path,
                    (name, value[:30]),
                    data={**base, name: value},
                    files={"attachment": ("a.txt", b"x", "text/plain")},
                    headers=account.headers,
                )
        for name, content in [
            ("cover", b""),
            ("cover", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
            ("cover", b"GIF89a" + b"\x00" * 50),
            ("title", b"file as title"),
            # a file as goal_amount, end_date or occasion: test_a_file_in_a_value_field_is_a_400
        ]:
            probe.send(
                method,
                path,
                ("file", name),
                data={"title": "t"},
                files={name: ("f.png", content, "image/png")},
                headers=account.headers,
            )
        broken_forms: list[tuple[bytes, str]] = [
            (b"not a multipart body", "multipart/form-data; boundary=xyz"),
            (
                b"--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xyz--\r\n",
                "multipart/form-data; boundary=xyz",
            ),
            (b"--xyz\r\n\r\n--xyz--", "multipart/form-data; boundary=xyz"),
            (
                b'--xyz\r\nContent-Disposition: form-data; name="title"\r\n\r\nt',
                "multipart/form-data; boundary=xyz",
            ),
            (b"anything", "multipart/form-data"),
            (b"anything", "multipart/form-data; boundary="),
            (b"title=t&goal_amount=abc", "application/x-www-form-urlencoded"),
        ]
        for content, content_type in broken_forms:
            probe.send(
                method,
                path,
                (content[:30], content_type),
                content=content,
                headers={**account.headers, "Content-Type": content_type},
            )
    probe.assert_clean()


def test_payment_bodies(probe: Probe, make_account: MakeAccount, client: TestClient[Any]) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    base = {
        "collect": collect_id,
        "amount": "10.00",
        "transaction_id": "probe-tx",
        "is_anonymous": False,
        "comment": "c",
        "metadata": {"k": "v"},
    }
    probe.json_fields("POST", PAYMENTS, base, account.headers)
    for metadata in [
        {"n": 10**30},
        {"n": -(10**30)},
        {"f": 1e308},
        {"nested": {"a": [1, {"b": [None, True, "\x00"]}]}},
        {"\x00": "nul key"},
        {"😀": "😀" * 500},
        {str(i): i for i in range(500)},
    ]:
        probe.send(
            "POST",
            PAYMENTS,
            ("metadata", str(metadata)[:30]),
            json={**base, "transaction_id": transaction_id(), "metadata": metadata},
            headers=account.headers,
        )
    for raw in ("1e400", "-1e400", "1e308", "123456789012345678901234567890"):
        body = json.dumps({**base, "transaction_id": transaction_id()})[:-1] + (
            f', "metadata": {{"x": {raw}}}}}'
        )
        probe.send(
            "POST",
            PAYMENTS,
            ("raw metadata", raw),
            content=body.encode(),
            headers={**account.headers, "Content-Type": "application/json"},
        )
    probe.raw_bodies("POST", PAYMENTS, account.headers)
    probe.assert_clean()


def test_query_parameters(probe: Probe, make_account: MakeAccount, client: TestClient[Any]) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    values = list(query_values())
    for name in ("occasion", "is_active", "author", "search", "ordering", "page", "page_size"):
        for value in values:
            if name == "author" and value.isdigit() and int(value) >= 2**63:
                continue  # see test_an_author_id_beyond_64_bits_is_no_5xx
            probe.send(
                "GET", COLLECTS, (name, value[:30]), params={name: value}, headers=account.headers
            )
        probe.send(
            "GET",
            COLLECTS,
            (name, "repeated"),
            params=[(name, "1"), (name, "2")],
            headers=account.headers,
        )
    for name in ("page", "page_size"):
        for value in values:
            for path in (f"{COLLECTS}{collect_id}/payments/", PAYMENTS):
                probe.send(
                    "GET", path, (name, value[:30]), params={name: value}, headers=account.headers
                )
    probe.send(
        "GET", f"{COLLECTS}?%ff=%fe&search=%ff%00", "bad percent-encoding", headers=account.headers
    )
    probe.assert_clean()


def test_path_ids(probe: Probe, make_account: MakeAccount) -> None:
    account = make_account()
    # "+1" and "１": see test_a_signed_or_non_ascii_path_id_is_no_5xx
    ids = [
        "0",
        "-0",
        "-1",
        "1.0",
        "1e3",
        "0x1",
        "abc",
        "%00",
        "%20",
        "1%2F2",
        str(2**63 - 1),
        str(2**63),
        str(2**64),
        "9" * 400,
        "ж",
        "null",
        "[]",
        "1;DROP",
    ]
    for value in ids:
        for method, path in [
            ("GET", f"{COLLECTS}{value}/"),
            ("PATCH", f"{COLLECTS}{value}/"),
            ("DELETE", f"{COLLECTS}{value}/"),
            ("GET", f"{COLLECTS}{value}/payments/"),
            ("GET", f"{PAYMENTS}{value}/"),
            ("PUT", f"{PAYMENTS}{value}/"),
        ]:
            probe.send(method, path, value, json={"title": "t"}, headers=account.headers)
    probe.assert_clean()


def test_unusual_methods_and_headers(probe: Probe, make_account: MakeAccount) -> None:
    account = make_account()
    paths = [
        "/auth/users/",
        "/auth/jwt/create/",
        "/auth/users/me/",
        COLLECTS,
        f"{COLLECTS}1/",
        PAYMENTS,
        f"{PAYMENTS}1/",
        "/health/live",
        "/nothing/",
    ]
    for path in paths:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"):
            probe.send(method, path, method, headers=account.headers)
        for headers in [
            {"If-None-Match": "\x01garbage"},
            {"If-None-Match": "," * 1000},
            {"Content-Type": "application/json; charset=latin-1"},
            {"Content-Type": "application/json; charset=nonsense"},
            {"Content-Type": ";;;"},
            {"Content-Length": "0"},
            {"X-Request-ID": "\x7f" * 5},
            {"Accept": "text/html"},
            {"Accept-Encoding": "gzip, br, zstd"},
        ]:
            probe.send("GET", path, headers, headers={**account.headers, **headers})
            probe.send(
                "POST",
                path,
                headers,
                headers={**account.headers, **headers},
                content=b'{"title": "t"}',
            )
    probe.assert_clean()


# --- 5xx answers found by the sweeps above, one test each ---

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
