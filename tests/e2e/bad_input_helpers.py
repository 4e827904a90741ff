"""Bad input of every kind, and a probe that sends it and keeps every answer that is a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from litestar.testing import TestClient

from tests.e2e.conftest import Account

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


def query_values() -> Iterable[str]:
    for value in WEIRD_VALUES:
        if isinstance(value, str):
            yield value
        else:
            yield json.dumps(value)
    yield "9" * 400
    yield "-9" * 200
    yield "1" * 20
