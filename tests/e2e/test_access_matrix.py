"""Who may do what: every endpoint and method of the contract, for each kind of caller.

One table, read row by row: an endpoint (with the state it needs and the body it is sent),
then the status each caller gets. The callers are

- owner: for a collect row the collect's author; for a payment row the payer; for an auth
  row the account whose credentials the body carries (sending its own token);
- other: another registered user, with a valid token of their own;
- author: (payment rows only) the author of the collect the payment went to;
- anonymous: no Authorization header at all.

The contract's order of checks is 401 → 404 → 403 → 400 → 409, so the rows that combine a
missing id, someone else's collect, an invalid body and a state conflict show which check
wins. Every case starts from fresh objects (a new collect, a new payment) of one app shared
by the module, and a refused write must leave the collect exactly as it was.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from attrs import frozen
from litestar.testing import TestClient

from fundraising.container import Container
from tests.e2e.conftest import (
    PASSWORD,
    Account,
    assert_problem,
    e2e_settings,
    start_client,
    transaction_id,
)

COLLECTS = "/api/v1/collects/"
PAYMENTS = "/api/v1/payments/"
MISSING = 2**62  # a valid id that names nothing

# --- the state a row needs, made fresh for every case ---
NONE = "none"  # nothing
OPEN = "open"  # a collect of the author's, without payments
PAID = "paid"  # a collect of the author's with one payment by the donor
CLOSED = "closed"  # a collect of the author's, deactivated

# --- placeholders, in paths and bodies ---
COLLECT = "{c}"  # the case's collect
PAYMENT = "{p}"  # the case's payment
MISSING_ID = "{x}"  # an id that names nothing
PAYMENT_TX = "{payment_tx}"  # the transaction id of the case's payment
TX = "{tx}"  # a fresh transaction id
NEW_NAME = "{new_name}"  # a fresh username (and e-mail)
OWNER_NAME = "{owner_name}"  # the owner's username
OWNER_ACCESS = "{owner_access}"  # the owner's access token
OWNER_REFRESH = "{owner_refresh}"  # a refresh token of the owner's, never used before

DONATION = {"collect": COLLECT, "amount": "10.00", "transaction_id": TX}
BODIES: dict[str, dict[str, Any] | None] = {
    "-": None,
    "new-user": {"username": NEW_NAME, "email": NEW_NAME, "password": PASSWORD},
    "login": {"username": OWNER_NAME, "password": PASSWORD},
    "login-wrong": {"username": OWNER_NAME, "password": "not it!"},
    "refresh": {"refresh": OWNER_REFRESH},
    "refresh-acc": {"refresh": OWNER_ACCESS},
    "verify": {"token": OWNER_ACCESS},
    "title": {"title": "changed"},
    "title-empty": {"title": ""},
    "empty": {},
    "goal-neg": {"goal_amount": "-1"},
    "deactivate": {"is_active": False},
    "donation": DONATION,
    "donation-x": {**DONATION, "collect": MISSING_ID},
    "donation-neg": {**DONATION, "amount": "-1"},
    "retry": {**DONATION, "transaction_id": PAYMENT_TX},
    "amount": {"amount": "1.00"},
}

# Paths without a leading slash are under /api/v1/. A method the route does not have is a
# 405 whoever asks; an anonymous caller may get the 401 first instead (DRF authenticates
# before it dispatches, Litestar routes first): both are sound, hence "401|405".
# "-": the caller does not apply to the row.
MATRIX = """
label                method path                   body         state  owner other author anon
# /auth/: the body says who the request is about; a bearer token changes nothing but /me
register             POST   /auth/users/           new-user     none   201   201   -      201
login                POST   /auth/jwt/create/      login        none   200   200   -      200
login-wrong          POST   /auth/jwt/create/      login-wrong  none   401   401   -      401
refresh              POST   /auth/jwt/refresh/     refresh      none   200   200   -      200
refresh-with-access  POST   /auth/jwt/refresh/     refresh-acc  none   401   401   -      401
verify               POST   /auth/jwt/verify/      verify       none   200   200   -      200
me                   GET    /auth/users/me/        -            none   200   200   -      401
# collects: any user reads and opens one; only its author changes or deletes it
collects-list        GET    collects/              -            open   200   200   -      401
collects-list-mine   GET    collects/?author=me    -            open   200   200   -      401
collect-create       POST   collects/              title        none   201   201   -      401
collect-create-bad   POST   collects/              title-empty  none   400   400   -      401
collect-get          GET    collects/{c}/          -            paid   200   200   -      401
collect-get-missing  GET    collects/{x}/          -            none   404   404   -      401
feed                 GET    collects/{c}/payments/ -            paid   200   200   -      401
feed-missing         GET    collects/{x}/payments/ -            none   404   404   -      401
patch                PATCH  collects/{c}/          title        open   200   403   -      401
patch-empty          PATCH  collects/{c}/          empty        open   200   403   -      401
patch-invalid        PATCH  collects/{c}/          goal-neg     open   400   403   -      401
patch-deactivate     PATCH  collects/{c}/          deactivate   paid   200   403   -      401
patch-missing        PATCH  collects/{x}/          title        none   404   404   -      401
patch-missing-bad    PATCH  collects/{x}/          goal-neg     none   404   404   -      401
delete               DELETE collects/{c}/          -            open   204   403   -      401
delete-with-payments DELETE collects/{c}/          -            paid   409   403   -      401
delete-missing       DELETE collects/{x}/          -            none   404   404   -      401
# payments: anyone donates; a payment is seen by its payer and by the collect's author
donate               POST   payments/              donation     open   201   201   201    401
donate-unknown       POST   payments/              donation-x   none   400   400   400    401
donate-closed        POST   payments/              donation     closed 409   409   409    401
donate-closed-bad    POST   payments/              donation-neg closed 400   400   400    401
donate-retry         POST   payments/              retry        paid   200   409   409    401
payments-list        GET    payments/              -            paid   200   200   200    401
payment-get          GET    payments/{p}/          -            paid   200   404   200    401
payment-get-missing  GET    payments/{x}/          -            none   404   404   404    401
payment-put          PUT    payments/{p}/          amount       paid   405   405   405    401|405
payment-patch        PATCH  payments/{p}/          amount       paid   405   405   405    401|405
payment-delete       DELETE payments/{p}/          -            paid   405   405   405    401|405
payment-post         POST   payments/{p}/          amount       paid   405   405   405    401|405
payments-put         PUT    payments/              amount       paid   405   405   405    401|405
payments-patch       PATCH  payments/              amount       paid   405   405   405    401|405
payments-delete      DELETE payments/              -            paid   405   405   405    401|405
"""
ACTORS = ("owner", "other", "author", "anonymous")


@frozen
class Case:
    label: str
    method: str
    path: str
    body: dict[str, Any] | None
    state: str
    actor: str
    expected: tuple[int, ...]

    @property
    def kind(self) -> str:
        if self.path.startswith("/auth/"):
            return "auth"
        return "payment" if self.path.startswith(PAYMENTS) else "collect"


def _rows(table: str) -> Iterator[list[str]]:
    lines = [line.split() for line in table.strip().splitlines()[1:]]
    return (line for line in lines if not line[0].startswith("#"))


def _cases() -> Iterator[Any]:
    for label, method, path, body, state, *statuses in _rows(MATRIX):
        full = path if path.startswith("/") else f"/api/v1/{path}"
        for actor, expected in zip(ACTORS, statuses, strict=True):
            if expected == "-":
                continue
            wanted = tuple(int(status) for status in expected.split("|"))
            case = Case(label, method, full, BODIES[body], state, actor, wanted)
            yield pytest.param(case, id=f"{label}-{actor}-{expected}")


_names = itertools.count(1)


@frozen
class World:
    """One app per backend, and the three users the rows speak of."""

    client: TestClient[Any]
    author: Account
    donor: Account
    stranger: Account

    def account(self, case: Case) -> Account | None:
        return {
            "owner": self.donor if case.kind == "payment" else self.author,
            "other": self.stranger,
            "author": self.author,
            "anonymous": None,
        }[case.actor]

    def headers(self, account: Account | None) -> dict[str, str]:
        return account.headers if account else {}

    def unused_refresh(self) -> str:
        """A refresh token of a new login: a rotated one would revoke its chain when reused."""
        login = {"username": self.author.username, "password": PASSWORD}
        tokens = self.client.post("/auth/jwt/create/", json=login)
        assert tokens.status_code == 200, tokens.text
        return str(tokens.json()["refresh"])


def _register(client: TestClient[Any], role: str) -> Account:
    name = f"matrix_{role}_{uuid.uuid4().hex[:10]}"
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    created = client.post("/auth/users/", json=body)
    assert created.status_code == 201, created.text
    tokens = client.post("/auth/jwt/create/", json={"username": name, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    pair = tokens.json()
    return Account(created.json()["id"], name, pair["access"], pair["refresh"])


@pytest.fixture(scope="module")
def world(
    e2e_database: str, tmp_path_factory: pytest.TempPathFactory, _shutdowns: Any
) -> Iterator[World]:
    container = Container(settings=e2e_settings(e2e_database, tmp_path_factory.mktemp("matrix")))
    client = start_client(container)
    try:
        yield World(
            client, _register(client, "author"), _register(client, "donor"), _register(client, "x")
        )
    finally:
        _shutdowns.start(client)


@frozen
class State:
    collect: int | None = None
    payment: int | None = None
    payment_tx: str | None = None


def _prepare(world: World, state: str) -> State:
    if state == NONE:
        return State()
    client, author = world.client, world.author
    created = client.post(COLLECTS, json={"title": f"matrix {state}"}, headers=author.headers)
    assert created.status_code == 201, created.text
    collect = int(created.json()["id"])
    if state == CLOSED:
        closed = client.patch(
            f"{COLLECTS}{collect}/", json={"is_active": False}, headers=author.headers
        )
        assert closed.status_code == 200, closed.text
    if state != PAID:
        return State(collect)
    tx = transaction_id()
    paid = client.post(
        PAYMENTS,
        json={"collect": collect, "amount": "10.00", "transaction_id": tx},
        headers=world.donor.headers,
    )
    assert paid.status_code == 201, paid.text
    return State(collect, int(paid.json()["id"]), tx)


def _fill(value: Any, world: World, state: State) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, world, state) for key, item in value.items()}
    if not isinstance(value, str):
        return value
    if value == NEW_NAME:
        return f"matrix_new_{next(_names)}_{uuid.uuid4().hex[:8]}"
    if value == OWNER_REFRESH:
        return world.unused_refresh()
    replacements = {
        COLLECT: state.collect,
        PAYMENT: state.payment,
        MISSING_ID: MISSING,
        PAYMENT_TX: state.payment_tx,
        TX: transaction_id(),
        OWNER_NAME: world.author.username,
        OWNER_ACCESS: world.author.access,
    }
    if value in replacements:
        return replacements[value]
    for placeholder, replacement in replacements.items():
        value = value.replace(placeholder, str(replacement))
    return value


def _body(case: Case, world: World, state: State) -> dict[str, Any] | None:
    body = _fill(case.body, world, state)
    if case.body is BODIES["new-user"]:
        body["email"] = f"{body['username']}@example.com"
    return body  # type: ignore[no-any-return]


def _detail(world: World, state: State) -> Any:
    if state.collect is None:
        return None
    response = world.client.get(f"{COLLECTS}{state.collect}/", headers=world.author.headers)
    return response.status_code, response.content


@pytest.mark.parametrize("case", list(_cases()))
def test_access(world: World, case: Case) -> None:
    state = _prepare(world, case.state)
    account = world.account(case)
    before = _detail(world, state)
    response = world.client.request(
        case.method,
        _fill(case.path, world, state),
        json=_body(case, world, state),
        headers=world.headers(account),
    )
    assert response.status_code in case.expected, response.text
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
    if response.status_code == 401:
        assert response.headers["www-authenticate"].lower().startswith("bearer")
    if response.status_code >= 400 and case.method != "GET":
        assert _detail(world, state) == before, "a refused request changed the collect"


# --- what a 200 shows: lists are the caller's own, /me is the caller ---

SHOWN = """
label               path                                state owner other author
my-payments         payments/?page_size=100             paid  yes   no    no
collects-author-me  collects/?author=me&page_size=100   open  yes   no    -
"""


def _shown_cases() -> Iterator[Any]:
    for label, path, state, *seen in _rows(SHOWN):
        for actor, expected in zip(ACTORS, seen, strict=False):
            if expected != "-":
                case = Case(label, "GET", f"/api/v1/{path}", None, state, actor, (200,))
                yield pytest.param(case, expected == "yes", id=f"{label}-{actor}-{expected}")


@pytest.mark.parametrize(("case", "listed"), list(_shown_cases()))
def test_lists_show_only_the_callers_own(world: World, case: Case, listed: bool) -> None:
    state = _prepare(world, case.state)
    wanted = state.payment if case.label == "my-payments" else state.collect
    response = world.client.get(case.path, headers=world.headers(world.account(case)))
    assert response.status_code == 200, response.text
    ids = {item["id"] for item in response.json()["results"]}
    assert (wanted in ids) is listed, (wanted, sorted(ids)[-5:])


def test_me_is_the_caller_whoever_the_token_belongs_to(world: World) -> None:
    for account in (world.author, world.donor, world.stranger):
        response = world.client.get("/auth/users/me/", headers=account.headers)
        assert response.status_code == 200, response.text
        assert (response.json()["id"], response.json()["username"]) == (
            account.id,
            account.username,
        )
