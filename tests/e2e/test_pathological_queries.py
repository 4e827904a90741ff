"""Pathological query strings on the lists: huge and negative pages, SQL and LIKE
metacharacters, odd Unicode, injection attempts in every filter, repeated parameters.

Every answer is a 2xx or a 4xx problem document (never a 5xx); a 400 names the offending
parameter in `errors[].field`; a search finds exactly what contains its text; and the
database is still there afterwards.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import text

from fundraising.container import Container
from tests.e2e.conftest import (
    PASSWORD,
    Account,
    assert_problem,
    check_each,
    create_collect,
    donate,
)

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"
PAYMENTS = "/api/v1/payments/"


def lists(client: TestClient[Any], account: Account) -> list[tuple[str, dict[str, str]]]:
    """The three paginated lists (path and base query), each holding one item."""
    collect_id = create_collect(client, account)
    assert donate(client, account, collect_id, "5").status_code == 201
    return [
        (COLLECTS, {"author": "me"}),
        (f"{COLLECTS}{collect_id}/payments/", {}),
        (PAYMENTS, {}),
    ]


def answer(client: TestClient[Any], account: Account | None, path: str, query: Any) -> Any:
    headers = account.headers if account else {}
    response = client.get(path, params=query, headers=headers)
    assert response.status_code < 500, response.text
    return response


# (parameter, value, status): 404 for a page that does not exist, 400 for what is no integer
PAGE_VALUES: list[tuple[str, str, int]] = [
    ("page", str(10**12), 404),
    ("page", str(2**63 - 1), 404),
    ("page", str(2**63), 404),
    ("page", str(10**30), 404),
    ("page", "-5", 404),
    ("page", "0", 404),
    ("page", "-" + "9" * 30, 404),
    ("page", "abc", 400),
    ("page", "2.5", 400),
    ("page", "", 400),
    ("page", "0x10", 400),
    ("page", "1_000", 400),
    ("page", "١", 400),  # an Arabic-Indic digit one: not ASCII digits
    ("page", "١٢", 400),
    ("page", "1; DROP TABLE users", 400),
    ("page_size", str(10**9), 200),
    ("page_size", str(2**64), 200),
    ("page_size", "100", 200),
    ("page_size", "101", 200),
    ("page_size", "0", 400),
    ("page_size", "-1", 400),
    ("page_size", "-" + "9" * 30, 400),
    ("page_size", "abc", 400),
    ("page_size", "", 400),
    ("page_size", "2.5", 400),
    ("page_size", "NaN", 400),
    ("page_size", "Infinity", 400),
]


def test_page_and_page_size_values_on_every_list(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    cases = [(*target, *value) for target in lists(client, account) for value in PAGE_VALUES]

    def checked(case: tuple[str, dict[str, str], str, str, int]) -> None:
        path, query, parameter, value, status = case
        response = answer(client, account, path, {**query, parameter: value})
        if status == 400:
            assert_problem(response, 400, parameter)
        elif status == 404:
            assert_problem(response, 404)
        else:
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["count"] == 1 and len(page["results"]) == 1, page
            assert page["next"] is None and page["previous"] is None, page

    check_each(cases, checked)


def test_float_spellings_of_a_page_are_not_integers(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    cases = [
        (path, query, parameter, value)
        for path, query in lists(client, account)
        for parameter in ("page", "page_size")
        for value in ("1e3", "1.0", "1e0", "1E1", "10.000")
    ]

    def refused(case: tuple[str, dict[str, str], str, str]) -> None:
        path, query, parameter, value = case
        response = answer(client, account, path, {**query, parameter: value})
        assert_problem(response, 400, parameter)

    check_each(cases, refused)


# --- search ---


def titled(client: TestClient[Any], account: Account, titles: list[str]) -> dict[str, int]:
    return {title: create_collect(client, account, title=title) for title in titles}


def found(client: TestClient[Any], account: Account, search: str) -> set[int]:
    query = {"author": "me", "search": search, "page_size": "100"}
    response = answer(client, account, COLLECTS, query)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["count"] == len(page["results"]), page
    return {item["id"] for item in page["results"]}


def test_search_takes_sql_and_like_metacharacters_literally(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    specials = ["%", "_", "'", '"', "\\", "!", "!%", "!!", "\\%", "[a]", "^", "*", ";", "--", "/*"]
    ids = titled(client, account, [f"a{special}b" for special in specials] + ["axb", "ab"])

    def literal(special: str) -> None:
        expected = {ids[title] for title in ids if f"a{special}b" in title}
        assert found(client, account, f"a{special}b") == expected

    check_each(specials, literal)
    everything = set(ids.values())
    assert found(client, account, "%") == {ids["a%b"], ids["a!%b"], ids["a\\%b"]}
    assert found(client, account, "_") == {ids["a_b"]}
    assert found(client, account, "") == everything  # an empty search filters nothing


def test_search_with_hostile_text_is_answered(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    rtl, emoji = "مرحبا بالعالم", "🎂 торт 👨‍👩‍👧"
    ids = titled(client, account, [f"rtl {rtl}", f"emoji {emoji}", "plain"])
    for too_long in ("x" * 10 * 1024, "%" * 10 * 1024, "ж" * 256):
        response = client.get(COLLECTS, params={"search": too_long}, headers=account.headers)
        assert_problem(response, 400, "search")
    hostile = {
        "as long as a title": "x" * 255,
        "as many percents": "%" * 255,
        "as much Cyrillic": "ж" * 255,
        "quotes": "' OR '1'='1' -- \"",
        "statement": "'; DROP TABLE users; --",
        "union": "' UNION SELECT password_hash FROM users --",
        "backslashes": "\\" * 101,
        "RTL override": "\u202eevil\u202c",
        "zero-width": "\u200b\u200c\u200d\ufeff",
        "lone combining mark": "\u0301",
        "emoji sequence": "👨‍👩‍👧",
        "cake": "🎂",
        "RTL text": rtl,
        "upper Cyrillic": "ТОРТ",
    }
    for label, search in hostile.items():
        assert found(client, account, search) <= set(ids.values()), label
    assert found(client, account, rtl) == {ids[f"rtl {rtl}"]}
    assert found(client, account, "🎂") == {ids[f"emoji {emoji}"]}
    assert found(client, account, "👨‍👩‍👧") == {ids[f"emoji {emoji}"]}
    assert found(client, account, "ТОРТ") == {ids[f"emoji {emoji}"]}
    assert found(client, account, "x" * 255) == set()


def test_a_nul_in_search_matches_only_what_contains_it(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    titled(client, account, ["plain", "\u202eevil", "cafe\u0301"])
    for search in ("\x00", "a\x00", "\x00%"):
        response = answer(client, account, COLLECTS, {"author": "me", "search": search})
        if response.status_code == 400:
            assert_problem(response, 400, "search")
        else:
            assert response.json()["count"] == 0, (search, response.json()["results"])


def test_unicode_normalisation_in_search(
    client: TestClient[Any], make_account: MakeAccount, e2e_database: str
) -> None:
    """What the service does, recorded (the contract is silent; both forms must answer):

    - SQLite compares code points: "é" (U+00E9) and "e" + U+0301 never match each other;
    - MariaDB's utf8mb4_unicode_ci ignores accents: the one-code-point "é" also finds the
      decomposed form and a plain "e", while the decomposed query finds only itself.

    Neither normalises, so the forms that must match on both are the exact ones.
    """
    account = make_account()
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert unicodedata.normalize("NFC", decomposed) == composed
    ids = titled(client, account, [f"{composed} one", f"{decomposed} two", "cafe three"])
    by_composed = found(client, account, composed)
    by_decomposed = found(client, account, decomposed)
    assert ids[f"{composed} one"] in by_composed
    assert ids[f"{decomposed} two"] in by_decomposed
    if e2e_database.startswith("sqlite"):
        assert by_composed == {ids[f"{composed} one"]}
        assert by_decomposed == {ids[f"{decomposed} two"]}
    else:
        assert by_composed == set(ids.values())
        assert by_decomposed == {ids[f"{decomposed} two"]}


# --- filters and ordering that try to be SQL ---

INJECTIONS = [
    ("ordering", "created_at; DROP TABLE users"),
    ("ordering", "created_at--"),
    ("ordering", "-created_at,id"),
    ("ordering", "created_at desc"),
    ("ordering", "(SELECT 1)"),
    ("ordering", "id"),
    ("ordering", "password_hash"),
    ("ordering", "CREATED_AT"),
    ("ordering", " created_at"),
    ("ordering", "+created_at"),
    ("ordering", "--created_at"),
    ("ordering", ""),
    ("occasion", "birthday' OR '1'='1"),
    ("occasion", "birthday; DROP TABLE collects"),
    ("occasion", "BIRTHDAY"),
    ("occasion", ""),
    ("author", "1 OR 1=1"),
    ("author", "me' --"),
    ("author", "ME"),
    ("author", "0"),
    ("author", "-1"),
    ("author", ""),
    ("is_active", "true; DROP TABLE users"),
    ("is_active", "yes"),
    ("is_active", ""),
]


def test_injection_attempts_in_filters_are_400s_naming_them(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    account = make_account()
    create_collect(client, account)
    check_each(
        INJECTIONS,
        lambda case: assert_problem(
            answer(client, account, COLLECTS, {case[0]: case[1]}), 400, case[0]
        ),
    )
    with container.engine().connect() as connection:
        for table in ("users", "collects", "payments"):
            assert connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() >= 0
        assert connection.execute(text("SELECT COUNT(*) FROM users")).scalar_one() >= 1
    assert answer(client, account, COLLECTS, {"author": "me"}).json()["count"] == 1
    login = client.post(
        "/auth/jwt/create/", json={"username": account.username, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text


def test_author_me_without_a_valid_token_is_a_401(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    create_collect(client, account)
    assert answer(client, account, COLLECTS, {"author": "me"}).status_code == 200  # now cached

    def refused(headers: dict[str, str]) -> None:
        response = client.get(COLLECTS, params={"author": "me"}, headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].lower().startswith("bearer")

    check_each(
        [
            {},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer garbage"},
            {"Authorization": f"Bearer {account.refresh}"},
            {"Authorization": f"Basic {account.access}"},
        ],
        refused,
    )


# --- repeated parameters ---


def test_repeated_filters_answer_one_of_their_values(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    """`occasion=birthday&occasion=wedding`: the contract names one value per filter; the
    service takes the last one given (a 400 would do as well). Every answer is 2xx/4xx."""
    account = make_account()
    ids = {
        occasion: create_collect(client, account, title=occasion, occasion=occasion)
        for occasion in ("birthday", "wedding")
    }
    query = [("author", "me"), ("occasion", "birthday"), ("occasion", "wedding")]
    response = answer(client, account, COLLECTS, query)
    if response.status_code == 400:
        assert_problem(response, 400, "occasion")
    else:
        assert {item["id"] for item in response.json()["results"]} == {ids["wedding"]}
    for name, values in [
        ("ordering", ["end_date", "drop table"]),
        ("is_active", ["true", "false"]),
        ("author", ["me", "abc"]),
        ("page", ["1", "-1"]),
        ("page_size", ["5", "0"]),
        ("search", ["x", "\x00"]),
    ]:
        repeated = answer(client, account, COLLECTS, [(name, value) for value in values])
        if repeated.status_code >= 400:
            assert_problem(repeated, repeated.status_code)


def test_the_order_of_repeated_parameters_never_serves_another_answer(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    for occasion in ("birthday", "wedding"):
        create_collect(client, account, title=occasion, occasion=occasion)
    for name, first, second in [
        ("occasion", "birthday", "wedding"),
        ("ordering", "created_at", "-created_at"),
    ]:
        forward = [("author", "me"), (name, first), (name, second)]
        backward = [("author", "me"), (name, second), (name, first)]
        answer(client, account, COLLECTS, forward)  # fills the cache
        served = answer(client, account, COLLECTS, backward)
        # the same query spelled with its default page size: a key nobody filled yet
        fresh = answer(client, account, COLLECTS, [*backward, ("page_size", "10")])
        assert fresh.headers["x-cache"] != "HIT"
        assert served.json()["results"] == fresh.json()["results"], (name, served.headers)
