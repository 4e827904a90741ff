"""Accounts over the API, as a client and its user would go through them: register, open the
e-mailed link (an `.eml` file of embedded mode), log in."""

from __future__ import annotations

import itertools
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from attrs import frozen
from litestar.testing import TestClient
from sqlalchemy import select

from fundraising.adapters.sql.tables import outbox
from fundraising.adapters.task_codec import decode_task
from fundraising.application.ports.tasks import SendEmail
from fundraising.container import Container
from tests.e2e.conftest import PASSWORD, Account, mails, text_of, wait_for

NEW_PASSWORD = "amber-violet-harbour"
ACTIVATION, RESET = "account_activation", "password_reset"
_numbers = itertools.count(1)


@frozen
class Person(Account):
    """A registered user with the tokens of their last login, and their address."""

    email: str


def unique(prefix: str = "acc") -> str:
    return f"{prefix}{next(_numbers)}_{uuid.uuid4().hex[:8]}"


def sign_up(client: TestClient[Any], username: str | None = None, **fields: str) -> Person:
    """Register over the API (unverified; an activation e-mail is on its way) and log in."""
    name = username or unique()
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD, **fields}
    created = client.post("/auth/users/", json=body)
    assert created.status_code == 201, created.text
    return log_in(client, created.json()["id"], name, body["email"], body["password"])


def log_in(
    client: TestClient[Any], user_id: int, username: str, email: str, password: str = PASSWORD
) -> Person:
    tokens = client.post("/auth/jwt/create/", json={"username": username, "password": password})
    assert tokens.status_code == 200, tokens.text
    pair = tokens.json()
    return Person(user_id, username, pair["access"], pair["refresh"], email)


def emailed(mail_dir: Path, kind: str, to: str, count: int = 1) -> list[EmailMessage]:
    """The e-mails of `kind` to `to`, once at least `count` have been written."""
    return list(wait_for(lambda: len(found := mails(mail_dir, kind, to)) >= count and found) or [])


def link_of(message: EmailMessage) -> str:
    (line,) = [line for line in text_of(message).splitlines() if "://" in line]
    return line.strip()


def uid_and_token(message: EmailMessage) -> dict[str, str]:
    """The `uid` and `token` of an e-mailed link, as a front end posts them."""
    uid, token = link_of(message).split("/")[-2:]
    return {"uid": uid, "token": token}


def activate(client: TestClient[Any], mail_dir: Path, person: Person) -> None:
    """Follow the newest activation link e-mailed to the person."""
    *_, newest = emailed(mail_dir, ACTIVATION, person.email)
    response = client.post("/auth/users/activation/", json=uid_and_token(newest))
    assert response.status_code == 204, response.text


def finished(container: Container, task: SendEmail) -> bool:
    """Whether the outbox row of `task` was done (sent, or skipped)."""
    with container.engine().connect() as connection:
        rows = connection.execute(select(outbox.c.task, outbox.c.finished_at)).all()
    return any(decode_task(row.task) == task and row.finished_at is not None for row in rows)


def me(client: TestClient[Any], person: Person) -> Any:
    return client.get("/auth/users/me/", headers=person.headers)
