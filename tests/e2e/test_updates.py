"""A collect's updates over HTTP: read by whoever sees the collect, posted by those who run it
(e-mailed to the members who paid), deleted by their writer or the author."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from fundraising.settings import Settings
from tests.e2e.conftest import (
    Account,
    assert_problem,
    create_collect,
    donate,
    mails,
    text_of,
    wait_for,
)

MakeAccount = Callable[..., Account]


def _updates(collect_id: int) -> str:
    return f"/api/v1/collects/{collect_id}/updates/"


def _post(client: TestClient[Any], who: Account, collect_id: int, **body: Any) -> Any:
    return client.post(_updates(collect_id), json=body, headers=who.headers)


@pytest.fixture
def gift(client: TestClient[Any], make_account: MakeAccount) -> dict[str, Any]:
    """A private collect hidden from Anna: its author Olga, an organiser Petr who paid, a
    participant Ivan who paid, a participant Maria who did not, an outsider."""
    cast = {
        name: make_account(first, "")
        for name, first in (
            ("olga", "Ольга"),
            ("petr", "Пётр"),
            ("ivan", "Иван"),
            ("maria", "Мария"),
            ("anna", "Анна"),
            ("outsider", "Семён"),
        )
    }
    collect_id = create_collect(
        client,
        cast["olga"],
        title="Подарок Анне",
        visibility="private",
        hidden_from=[cast["anna"].id],
    )
    invite = f"/api/v1/collects/{collect_id}/participants/"
    for name in ("petr", "ivan", "maria"):
        invited = client.post(invite, json={"user": cast[name].id}, headers=cast["olga"].headers)
        assert invited.status_code == 201, invited.text
    promoted = client.post(
        f"/api/v1/collects/{collect_id}/organisers/",
        json={"user": cast["petr"].id},
        headers=cast["olga"].headers,
    )
    assert promoted.status_code == 201, promoted.text
    for name in ("petr", "ivan"):
        assert donate(client, cast[name], collect_id, "500.00").status_code == 201
    return {"id": collect_id, **cast}


def test_an_organiser_posts_and_every_member_reads_newest_first(
    client: TestClient[Any], gift: dict[str, Any]
) -> None:
    first = _post(client, gift["petr"], gift["id"], text="Купили сертификат", notify=False)
    second = _post(client, gift["olga"], gift["id"], text="Вручаем в пятницу", notify=False)

    assert first.status_code == second.status_code == 201, (first.text, second.text)
    body = second.json()
    assert set(body) == {"id", "text", "author_name", "created_at"}
    assert (body["text"], body["author_name"]) == ("Вручаем в пятницу", "Ольга")
    for reader in ("maria", "ivan", "olga"):
        page = client.get(_updates(gift["id"]), headers=gift[reader].headers).json()
        assert page["count"] == 2
        assert [(u["text"], u["author_name"]) for u in page["results"]] == [
            ("Вручаем в пятницу", "Ольга"),
            ("Купили сертификат", "Пётр"),
        ]


def test_the_hidden_user_and_outsiders_find_no_updates(
    client: TestClient[Any], gift: dict[str, Any]
) -> None:
    posted = _post(client, gift["olga"], gift["id"], text="Секрет", notify=False).json()
    for who in ("anna", "outsider"):
        headers = gift[who].headers
        assert_problem(client.get(_updates(gift["id"]), headers=headers), 404)
        assert_problem(client.post(_updates(gift["id"]), json={"text": "x"}, headers=headers), 404)
        gone = client.delete(f"{_updates(gift['id'])}{posted['id']}/", headers=headers)
        assert_problem(gone, 404)
    assert_problem(client.get(_updates(gift["id"])), 401)


def test_only_those_who_run_the_collect_post_and_the_text_is_checked(
    client: TestClient[Any], gift: dict[str, Any]
) -> None:
    assert_problem(_post(client, gift["ivan"], gift["id"], text="Привет"), 403)
    assert_problem(_post(client, gift["ivan"], gift["id"], text=""), 403)  # 403 before 400
    assert_problem(_post(client, gift["olga"], gift["id"], text=""), 400, "text")
    assert_problem(_post(client, gift["olga"], gift["id"], text="   "), 400, "text")
    assert_problem(_post(client, gift["olga"], gift["id"], text="я" * 5001), 400, "text")
    assert_problem(_post(client, gift["olga"], gift["id"]), 400, "text")
    assert_problem(_post(client, gift["olga"], gift["id"], text="ok", notify="yes"), 400, "notify")
    assert _post(client, gift["olga"], gift["id"], text="я" * 5000, notify=False).status_code == 201
    page = client.get(_updates(gift["id"]), headers=gift["olga"].headers).json()
    assert page["count"] == 1


def test_its_writer_and_the_author_delete_an_update_and_nobody_else(
    client: TestClient[Any], gift: dict[str, Any]
) -> None:
    by_petr = _post(client, gift["petr"], gift["id"], text="Первое", notify=False).json()
    by_olga = _post(client, gift["olga"], gift["id"], text="Второе", notify=False).json()
    by_petr_too = _post(client, gift["petr"], gift["id"], text="Третье", notify=False).json()
    path = _updates(gift["id"])

    assert_problem(client.delete(f"{path}{by_olga['id']}/", headers=gift["petr"].headers), 403)
    assert_problem(client.delete(f"{path}{by_petr['id']}/", headers=gift["ivan"].headers), 403)
    assert client.delete(f"{path}{by_petr['id']}/", headers=gift["petr"].headers).status_code == 204
    author = gift["olga"].headers
    assert client.delete(f"{path}{by_petr_too['id']}/", headers=author).status_code == 204
    assert_problem(client.delete(f"{path}{by_petr['id']}/", headers=author), 404)
    assert_problem(client.delete(f"{path}999999/", headers=author), 404)
    other = create_collect(client, gift["olga"])
    assert_problem(client.delete(f"{_updates(other)}{by_olga['id']}/", headers=author), 404)
    left = client.get(path, headers=author).json()
    assert [u["text"] for u in left["results"]] == ["Второе"]


def test_an_update_is_mailed_once_to_each_member_who_paid_but_its_writer(
    client: TestClient[Any], gift: dict[str, Any], settings: Settings
) -> None:
    posted = _post(client, gift["olga"], gift["id"], text="Купили велосипед!")
    assert posted.status_code == 201, posted.text

    def to(name: str) -> list[Any]:
        return mails(settings.mail_dir, "update_posted", to=f"{gift[name].username}@example.com")

    arrived = wait_for(lambda: to("petr") and to("ivan"))

    assert arrived, "the update e-mails did not arrive in time"
    assert "Купили велосипед!" in text_of(to("ivan")[0])
    assert "Ольга пишет участникам сбора «Подарок Анне»" in text_of(to("petr")[0])
    assert (len(to("petr")), len(to("ivan")), to("maria"), to("olga"), to("anna")) == (
        1,
        1,
        [],
        [],
        [],
    )
