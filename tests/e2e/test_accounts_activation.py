"""Activation: the e-mail with its link, the link used once, resending, and notifications that
wait for a verified address."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.container import Container
from fundraising.settings import Settings
from tests.e2e.account_helpers import (
    ACTIVATION,
    activate,
    emailed,
    finished,
    link_of,
    log_in,
    me,
    sign_up,
    uid_and_token,
)
from tests.e2e.conftest import (
    PEER_HEADER,
    assert_problem,
    create_collect,
    mails,
    text_of,
    wait_for,
)
from tests.fakes import FixedClock

ACTIVATION_PATH = "/auth/users/activation/"
RESEND = "/auth/users/resend_activation/"


def test_registration_e_mails_a_link_that_verifies_the_address_once(
    client: TestClient[Any], settings: Settings
) -> None:
    person = sign_up(client)
    assert me(client, person).json()["email_verified"] is False
    [message] = emailed(settings.mail_dir, ACTIVATION, person.email)
    assert message["Subject"] == "Подтвердите адрес электронной почты"
    assert link_of(message).startswith("http://testserver.local/activate/")
    assert f"({person.email})" in text_of(message)
    html = message.get_body(preferencelist=("html",))
    assert html is not None and f'href="{link_of(message)}"' in str(html.get_content())

    link = uid_and_token(message)
    assert client.post(ACTIVATION_PATH, json=link).status_code == 204
    assert me(client, person).json()["email_verified"] is True
    assert_problem(client.post(ACTIVATION_PATH, json=link), 400, "token")


@pytest.mark.settings(frontend_url="https://app.example/")
def test_links_lead_to_the_front_end(client: TestClient[Any], settings: Settings) -> None:
    person = sign_up(client)
    [message] = emailed(settings.mail_dir, ACTIVATION, person.email)
    assert link_of(message).startswith("https://app.example/activate/")


def test_an_activation_link_expires_after_24_hours(
    client: TestClient[Any], settings: Settings, clock: FixedClock
) -> None:
    person = sign_up(client)
    [message] = emailed(settings.mail_dir, ACTIVATION, person.email)
    clock.advance(hours=24, seconds=1)
    assert_problem(client.post(ACTIVATION_PATH, json=uid_and_token(message)), 400, "token")
    again = log_in(client, person.id, person.username, person.email)
    assert me(client, again).json()["email_verified"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"uid": "OTk5OTk5OTk5", "token": "x"}, "uid"),  # no such user
        ({"uid": "not base64 at all", "token": "x"}, "uid"),
        ({"token": "x"}, "uid"),
        ({"uid": "MQ"}, "token"),
        ({"uid": 1, "token": "x"}, "uid"),
    ],
)
def test_a_bad_uid_or_token_is_a_400_naming_it(
    client: TestClient[Any], body: dict[str, Any], field: str
) -> None:
    assert_problem(client.post(ACTIVATION_PATH, json=body), 400, field)


def test_a_token_of_one_account_does_not_activate_another(
    client: TestClient[Any], settings: Settings
) -> None:
    anna, boris = sign_up(client), sign_up(client)
    [message] = emailed(settings.mail_dir, ACTIVATION, anna.email)
    other = {
        **uid_and_token(message),
        "uid": uid_and_token(emailed(settings.mail_dir, ACTIVATION, boris.email)[0])["uid"],
    }
    assert_problem(client.post(ACTIVATION_PATH, json=other), 400, "token")
    assert me(client, boris).json()["email_verified"] is False


def test_resending_answers_the_same_whoever_the_address_belongs_to(
    client: TestClient[Any], settings: Settings
) -> None:
    waiting, verified = sign_up(client), sign_up(client)
    activate(client, settings.mail_dir, verified)
    answers = [
        client.post(RESEND, json={"email": email})
        for email in (waiting.email, verified.email, "nobody-at-all@example.com")
    ]
    assert [(a.status_code, a.content) for a in answers] == [(204, b"")] * 3
    assert len(emailed(settings.mail_dir, ACTIVATION, waiting.email, count=2)) == 2
    assert len(mails(settings.mail_dir, ACTIVATION, verified.email)) == 1
    assert mails(settings.mail_dir, ACTIVATION, "nobody-at-all@example.com") == []


def test_resending_is_limited_per_e_mail_and_per_client_address(
    client: TestClient[Any],
) -> None:
    person = sign_up(client)
    for _ in range(5):
        assert client.post(RESEND, json={"email": person.email}).status_code == 204
    throttled = client.post(
        RESEND, json={"email": person.email}, headers={PEER_HEADER.decode(): "198.51.100.9"}
    )
    assert_problem(throttled, 429)
    assert int(throttled.headers["retry-after"]) > 0
    other = client.post(RESEND, json={"email": "someone-else@example.com"})
    assert_problem(other, 429)  # the same client address


@pytest.mark.parametrize("body", [{"email": "not-an-address"}, {}, {"email": ["a@b.c"]}])
def test_a_malformed_e_mail_is_a_400(client: TestClient[Any], body: dict[str, Any]) -> None:
    assert_problem(client.post(RESEND, json=body), 400, "email")


def test_notifications_wait_for_a_verified_address(
    client: TestClient[Any], settings: Settings, container: Container
) -> None:
    person = sign_up(client)
    before = create_collect(client, person, title="До подтверждения")
    assert wait_for(lambda: finished(container, SendEmail(EmailKind.COLLECT_CREATED, before)))
    activate(client, settings.mail_dir, person)
    create_collect(client, person, title="После подтверждения")

    [created] = emailed(settings.mail_dir, "collect_created", person.email)
    assert "После подтверждения" in str(created["Subject"])
    assert len(mails(settings.mail_dir, "collect_created", person.email)) == 1
