"""Group gifts over HTTP, who runs a collect: inviting and removing participants, naming and
demoting organisers, what an organiser may do, reminders to those who have not paid, the
invitation and reminder e-mails, the order of checks (401, 404, 403, 400, 409), and the person
the gift is for probing every new path with a warm cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from fundraising.adapters.sql.tables import outbox
from fundraising.adapters.task_codec import decode_task
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.container import Container
from tests.e2e.account_helpers import emailed
from tests.e2e.conftest import (
    Account,
    assert_problem,
    check_each,
    create_collect,
    donate,
    text_of,
    utc,
)
from tests.fakes import FixedClock

MakeAccount = Callable[..., Account]
Cast = dict[str, Account]
COLLECTS = "/api/v1/collects/"
MISSING = 2**62  # a valid id that names nothing
SUGGESTED = "750"
ENTRY_FIELDS = {
    "user",
    "name",
    "role",
    "joined_at",
    "paid_amount",
    "donations_count",
    "last_payment_at",
    "last_reminded_at",
}


@pytest.fixture
def cast(make_account: MakeAccount) -> Cast:
    """The author, a future organiser and participant (`_gift` invites them), an outsider, and
    Anna: the gift is for her, so the collect is hidden from her."""
    return {
        name: make_account(first, "")
        for name, first in (
            ("author", "Олег"),
            ("organiser", "Мария"),
            ("participant", "Пётр"),
            ("outsider", "Иван"),
            ("anna", "Анна"),
        )
    }


def _ends(clock: FixedClock) -> datetime:
    return (clock.now() + timedelta(days=10)).replace(second=0, microsecond=0)


def _gift(
    client: TestClient[Any], cast: Cast, clock: FixedClock, visibility: str = "private"
) -> int:
    """A collect hidden from Anna, run by the author and the organiser, with one participant."""
    collect_id = create_collect(
        client,
        cast["author"],
        title="Подарок Анне",
        visibility=visibility,
        hidden_from=[cast["anna"].id],
        suggested_amount=SUGGESTED,
        goal_amount="5000",
        end_date=_ends(clock).isoformat(),
    )
    for who in ("organiser", "participant"):
        invited = _invite(client, cast["author"], collect_id, user=cast[who].id)
        assert invited.status_code == 201, invited.text
    promoted = client.post(
        f"{COLLECTS}{collect_id}/organisers/",
        json={"user": cast["organiser"].id},
        headers=cast["author"].headers,
    )
    assert promoted.status_code == 201, promoted.text
    return collect_id


def _invite(client: TestClient[Any], who: Account, collect_id: int, **body: Any) -> Any:
    return client.post(f"{COLLECTS}{collect_id}/participants/", json=body, headers=who.headers)


def _entries(client: TestClient[Any], who: Account, collect_id: int) -> dict[int, Any]:
    """The participants list as `who` reads it, by user id."""
    listed = client.get(f"{COLLECTS}{collect_id}/participants/?page_size=100", headers=who.headers)
    assert listed.status_code == 200, listed.text
    return {entry["user"]: entry for entry in listed.json()["results"]}


def _roles(client: TestClient[Any], who: Account, collect_id: int) -> dict[int, str]:
    return {user: entry["role"] for user, entry in _entries(client, who, collect_id).items()}


def _detail(client: TestClient[Any], who: Account, collect_id: int) -> dict[str, Any]:
    answer = client.get(f"{COLLECTS}{collect_id}/", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _remind(client: TestClient[Any], who: Account, collect_id: int) -> Any:
    return client.post(f"{COLLECTS}{collect_id}/reminders/", headers=who.headers)


def _queued(container: Container, collect_id: int, kind: EmailKind) -> list[int]:
    """The recipients of the e-mails of `kind` about the collect put in the outbox so far
    (recorded with the write that asked for them, so nothing is left to wait for)."""
    with container.engine().connect() as connection:
        tasks = [decode_task(task) for task in connection.scalars(select(outbox.c.task))]
    return sorted(
        task.recipient_id or 0
        for task in tasks
        if isinstance(task, SendEmail) and task.kind is kind and task.subject_id == collect_id
    )


def _emailed(container: Container, kind: EmailKind, to: str, count: int = 1) -> list[EmailMessage]:
    """The e-mails of `kind` written to `to`, once `count` of them have arrived."""
    return emailed(container.settings().mail_dir, kind, to, count)


def _address(who: Account) -> str:
    return f"{who.username}@example.com"


def _share_url(client: TestClient[Any], who: Account, collect_id: int) -> str:
    shared = client.get(f"{COLLECTS}{collect_id}/share/", headers=who.headers)
    assert shared.status_code == 200, shared.text
    return str(shared.json()["url"])


def _assert_terms(message: EmailMessage, ends: datetime, url: str) -> None:
    """An invitation or a reminder names the collect, its end, the suggested share and the link."""
    text = text_of(message)
    html = message.get_body(("html",))
    assert html is not None
    assert "Подарок Анне" in str(message["Subject"])
    assert "Подарок Анне" in text
    assert f"до {ends:%d.%m.%Y %H:%M} UTC" in text
    assert "750,00" in text
    assert url in text.splitlines()
    assert url.replace("&", "&amp;") in html.get_content()


# --- inviting ---


def test_the_author_invites_by_id_or_e_mail_and_the_invitee_is_mailed_the_collect(
    client: TestClient[Any],
    container: Container,
    cast: Cast,
    clock: FixedClock,
    make_account: MakeAccount,
) -> None:
    collect_id = _gift(client, cast, clock)
    olga = make_account("Ольга", "Соколова")
    assert_problem(client.get(f"{COLLECTS}{collect_id}/", headers=olga.headers), 404)

    by_mail = _invite(client, cast["author"], collect_id, email=_address(olga))

    assert by_mail.status_code == 201, by_mail.text
    entry = by_mail.json()
    assert set(entry) == ENTRY_FIELDS
    assert (entry["user"], entry["name"], entry["role"]) == (
        olga.id,
        "Ольга Соколова",
        "participant",
    )
    assert (entry["paid_amount"], entry["donations_count"]) == ("0.00", 0)
    assert entry["last_payment_at"] is entry["last_reminded_at"] is None
    assert utc(entry["joined_at"]) == clock.now()
    assert _detail(client, olga, collect_id)["participants_count"] == 4  # members see it now
    mine = client.get(f"{COLLECTS}?mine=true", headers=olga.headers).json()["results"]
    assert [item["id"] for item in mine] == [collect_id]
    assert _roles(client, cast["author"], collect_id) == {
        cast["author"].id: "author",
        cast["organiser"].id: "organiser",
        cast["participant"].id: "participant",
        olga.id: "participant",
    }
    url = _share_url(client, cast["author"], collect_id)
    assert url.startswith(f"http://testserver.local/collects/{collect_id}?key=")
    (invitation,) = _emailed(container, EmailKind.INVITATION, _address(olga))
    _assert_terms(invitation, _ends(clock), url)
    assert "Ольга Соколова" in text_of(invitation)
    for who in ("organiser", "participant"):  # the cast's own invitations, by id
        assert _emailed(container, EmailKind.INVITATION, _address(cast[who]))
    assert _queued(container, collect_id, EmailKind.INVITATION) == sorted(
        [cast["organiser"].id, cast["participant"].id, olga.id]
    )
    assert _queued(container, collect_id, EmailKind.REMINDER) == []


def test_an_invitation_is_refused_401_then_404_then_403_then_400_then_409(
    client: TestClient[Any], container: Container, cast: Cast, clock: FixedClock
) -> None:
    collect_id = _gift(client, cast, clock)
    public_id = create_collect(client, cast["author"])
    author, participant, outsider, anna = (
        cast[who] for who in ("author", "participant", "outsider", "anna")
    )
    members = _roles(client, author, collect_id)

    assert_problem(client.post(f"{COLLECTS}{collect_id}/participants/", json={"user": "x"}), 401)
    assert_problem(client.post(f"{COLLECTS}{MISSING}/participants/", json={}), 401)
    assert_problem(_invite(client, author, MISSING, user="x"), 404)
    for stranger in (outsider, anna):  # may not see it: 404 whatever the body
        assert_problem(_invite(client, stranger, collect_id, user="x"), 404)
        assert_problem(_invite(client, stranger, collect_id, user=participant.id), 404)
        assert_problem(_invite(client, stranger, collect_id, user=stranger.id), 404)
    assert_problem(_invite(client, participant, collect_id, user="x"), 403)
    assert_problem(_invite(client, participant, collect_id, user=outsider.id), 403)
    assert_problem(_invite(client, participant, collect_id, user=author.id), 403)
    assert_problem(_invite(client, outsider, public_id, user=participant.id), 403)  # a viewer
    cases = [
        ({}, "user"),
        ({"user": None}, "user"),
        ({"user": "x"}, "user"),
        ({"user": 0}, "user"),
        ({"user": MISSING}, "user"),
        ({"user": anna.id}, "user"),  # the person the gift is for
        ({"email": _address(anna)}, "email"),
        ({"email": _address(anna).upper()}, "email"),
        ({"email": "nobody-at-all@example.com"}, "email"),
        ({"email": "not an address"}, "email"),
        ({"user": outsider.id, "email": _address(outsider)}, "email"),
        ({"user": participant.id, "email": _address(participant)}, "email"),  # 400 before 409
    ]
    check_each(
        cases,
        lambda case: assert_problem(_invite(client, author, collect_id, **case[0]), 400, case[1]),
    )
    for member in ("participant", "organiser", "author"):
        assert_problem(_invite(client, author, collect_id, user=cast[member].id), 409)
    assert_problem(_invite(client, author, collect_id, email=_address(participant)), 409)

    assert _roles(client, author, collect_id) == members
    assert _queued(container, collect_id, EmailKind.INVITATION) == sorted(
        [cast["organiser"].id, participant.id]
    )
    assert _detail(client, author, collect_id)["participants_count"] == 3


# --- removing participants ---


def test_a_removed_participant_leaves_their_payments_and_loses_sight_of_a_private_collect(
    client: TestClient[Any], cast: Cast, clock: FixedClock
) -> None:
    collect_id = _gift(client, cast, clock)
    author, participant = cast["author"], cast["participant"]
    paid = donate(client, participant, collect_id, "300", comment="С днём рождения!")
    assert paid.status_code == 201, paid.text
    path = f"{COLLECTS}{collect_id}/"
    _detail(client, participant, collect_id)
    assert client.get(path, headers=participant.headers).headers["x-cache"] == "HIT"
    before = _detail(client, author, collect_id)

    removed = client.delete(f"{path}participants/{participant.id}/", headers=author.headers)

    assert removed.status_code == 204, removed.text
    assert removed.content == b""
    after = _detail(client, author, collect_id)
    totals = ("collected_amount", "donations_count", "donors_count")
    assert [after[name] for name in totals] == [before[name] for name in totals] == ["300.00", 1, 1]
    assert (before["participants_count"], after["participants_count"]) == (3, 2)
    assert [entry["comment"] for entry in after["payments"]] == ["С днём рождения!"]
    assert participant.id not in _roles(client, author, collect_id)
    assert_problem(client.get(path, headers=participant.headers), 404)  # despite the warm cache
    assert_problem(client.get(f"{path}payments/", headers=participant.headers), 404)
    mine = client.get(f"{COLLECTS}?mine=true", headers=participant.headers).json()["results"]
    assert collect_id not in [item["id"] for item in mine]
    assert_problem(donate(client, participant, collect_id, "100"), 400, "collect")
    payment = f"/api/v1/payments/{paid.json()['id']}/"
    for reader in (participant, author):  # the payer's own payment, and the author's
        assert client.get(payment, headers=reader.headers).status_code == 200
    assert_problem(
        client.delete(f"{path}participants/{participant.id}/", headers=author.headers), 404
    )


def test_who_may_remove_whom(
    client: TestClient[Any], cast: Cast, clock: FixedClock, make_account: MakeAccount
) -> None:
    collect_id = _gift(client, cast, clock)
    author, organiser, participant = cast["author"], cast["organiser"], cast["participant"]
    second = make_account("Ольга", "")
    assert _invite(client, author, collect_id, user=second.id).status_code == 201
    organisers = f"{COLLECTS}{collect_id}/organisers/"
    promoted = client.post(organisers, json={"user": second.id}, headers=author.headers)
    assert promoted.status_code == 201, promoted.text

    def remove(who: Account, user_id: int | str) -> Any:
        return client.delete(f"{COLLECTS}{collect_id}/participants/{user_id}/", headers=who.headers)

    for target in (author, organiser, second, participant):  # a plain participant: 403 to all
        assert_problem(remove(participant, target.id), 403)
    for stranger in ("outsider", "anna"):
        assert_problem(remove(cast[stranger], participant.id), 404)
        assert_problem(remove(cast[stranger], author.id), 404)
    assert_problem(remove(organiser, second.id), 403)  # organisers are the author's to remove
    assert_problem(remove(organiser, author.id), 409)
    assert_problem(remove(author, author.id), 409)
    for nobody in (cast["outsider"].id, cast["anna"].id, MISSING, 0, -1, "x"):
        assert_problem(remove(author, nobody), 404)
    assert _roles(client, author, collect_id) == {
        author.id: "author",
        organiser.id: "organiser",
        participant.id: "participant",
        second.id: "organiser",
    }

    assert remove(organiser, participant.id).status_code == 204
    assert remove(author, second.id).status_code == 204

    assert _roles(client, author, collect_id) == {author.id: "author", organiser.id: "organiser"}
    assert_problem(client.get(f"{COLLECTS}{collect_id}/share/", headers=second.headers), 404)
    assert_problem(remove(second, organiser.id), 404)


def test_a_member_id_beyond_64_bits_is_a_404(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    """Path ids beyond 64 bits name nothing: a 404, never a 500 from the database."""
    author = make_account()
    collect_id = create_collect(client, author)
    for path in ("participants", "organisers"):
        for huge in (2**63, 2**64, 10**30):
            answer = client.delete(f"{COLLECTS}{collect_id}/{path}/{huge}/", headers=author.headers)
            assert_problem(answer, 404)


# --- organisers ---


def test_the_author_alone_makes_a_member_an_organiser(
    client: TestClient[Any], cast: Cast, clock: FixedClock, make_account: MakeAccount
) -> None:
    collect_id = _gift(client, cast, clock)
    author, organiser, participant = cast["author"], cast["organiser"], cast["participant"]
    olga = make_account("Ольга", "")
    assert _invite(client, author, collect_id, user=olga.id).status_code == 201
    path = f"{COLLECTS}{collect_id}/organisers/"

    def promote(who: Account, body: Any, collect: int = collect_id) -> Any:
        return client.post(f"{COLLECTS}{collect}/organisers/", json=body, headers=who.headers)

    assert_problem(client.post(path, json={"user": olga.id}), 401)
    assert_problem(promote(author, {"user": "x"}, MISSING), 404)
    for stranger in ("outsider", "anna"):
        assert_problem(promote(cast[stranger], {"user": olga.id}), 404)
        assert_problem(promote(cast[stranger], {}), 404)
    for runner_or_not in (organiser, participant, olga):  # 403 before 400
        assert_problem(promote(runner_or_not, {"user": olga.id}), 403)
        assert_problem(promote(runner_or_not, {}), 403)
    cases = [
        {},
        {"user": None},
        {"user": "x"},
        {"user": 0},
        {"user": MISSING},
        {"user": cast["outsider"].id},  # not a member
        {"user": cast["anna"].id},
        {"user": author.id},  # runs the collect already
    ]
    check_each(cases, lambda body: assert_problem(promote(author, body), 400, "user"))
    assert_problem(client.get(f"{COLLECTS}{collect_id}/share/", headers=olga.headers), 403)

    promoted = promote(author, {"user": olga.id})

    assert promoted.status_code == 201, promoted.text
    entry = promoted.json()
    assert set(entry) == ENTRY_FIELDS
    assert (entry["user"], entry["name"], entry["role"]) == (olga.id, "Ольга", "organiser")
    assert _roles(client, author, collect_id) == {
        author.id: "author",
        organiser.id: "organiser",
        participant.id: "participant",
        olga.id: "organiser",
    }
    assert client.get(f"{COLLECTS}{collect_id}/share/", headers=olga.headers).status_code == 200


def test_a_demoted_organiser_stays_a_participant(
    client: TestClient[Any], cast: Cast, clock: FixedClock
) -> None:
    collect_id = _gift(client, cast, clock)
    author, organiser, participant = cast["author"], cast["organiser"], cast["participant"]
    paid = donate(client, participant, collect_id, "200")
    assert paid.status_code == 201, paid.text
    payment = f"/api/v1/payments/{paid.json()['id']}/"
    assert client.get(payment, headers=organiser.headers).status_code == 200

    def demote(who: Account, user_id: int | str, collect: int = collect_id) -> Any:
        return client.delete(f"{COLLECTS}{collect}/organisers/{user_id}/", headers=who.headers)

    assert_problem(client.delete(f"{COLLECTS}{collect_id}/organisers/{organiser.id}/"), 401)
    assert_problem(demote(author, organiser.id, MISSING), 404)
    for stranger in ("outsider", "anna"):
        assert_problem(demote(cast[stranger], organiser.id), 404)
    assert_problem(demote(organiser, organiser.id), 403)  # not even themselves
    assert_problem(demote(organiser, author.id), 403)
    assert_problem(demote(participant, organiser.id), 403)
    for not_one in (participant.id, author.id, cast["outsider"].id, MISSING, 0, "x"):
        assert_problem(demote(author, not_one), 404)

    demoted = demote(author, organiser.id)

    assert demoted.status_code == 204, demoted.text
    assert _roles(client, author, collect_id) == {
        author.id: "author",
        organiser.id: "participant",
        participant.id: "participant",
    }
    assert _detail(client, organiser, collect_id)["participants_count"] == 3  # still a member
    assert_problem(client.get(f"{COLLECTS}{collect_id}/share/", headers=organiser.headers), 403)
    assert_problem(_invite(client, organiser, collect_id, user=cast["outsider"].id), 403)
    assert_problem(client.get(payment, headers=organiser.headers), 404)
    assert_problem(demote(author, organiser.id), 404)


def test_an_organiser_runs_the_collect_but_neither_deletes_it_nor_manages_organisers(
    client: TestClient[Any], cast: Cast, clock: FixedClock, make_account: MakeAccount
) -> None:
    collect_id = _gift(client, cast, clock)
    author, organiser, participant = cast["author"], cast["organiser"], cast["participant"]
    path = f"{COLLECTS}{collect_id}/"
    org = organiser.headers
    paid = donate(client, participant, collect_id, "200")
    assert paid.status_code == 201, paid.text
    payment = f"/api/v1/payments/{paid.json()['id']}/"
    old_key = client.get(f"{path}share/", headers=org).json()["key"]

    changed = client.patch(path, json={"title": "Подарок Анне от отдела"}, headers=org)
    rotated = client.post(f"{path}share/rotate/", headers=org)
    listed = client.get(f"{path}participants/?paid=true", headers=org)
    olga = make_account("Ольга", "")
    invited = _invite(client, organiser, collect_id, user=olga.id)
    reminded = client.post(f"{path}reminders/", headers=org)
    seen = client.get(payment, headers=org)

    assert changed.status_code == 200, changed.text
    assert _detail(client, author, collect_id)["title"] == "Подарок Анне от отдела"
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["key"] != old_key
    assert client.get(f"{path}share/", headers=author.headers).json() == rotated.json()
    assert listed.status_code == 200, listed.text
    assert [(e["user"], e["paid_amount"]) for e in listed.json()["results"]] == [
        (participant.id, "200.00")
    ]
    assert invited.status_code == 201, invited.text
    assert reminded.status_code == 202, reminded.text
    assert reminded.json() == {"reminded": 2, "skipped": 0}  # the author and Olga
    assert seen.status_code == 200, seen.text
    assert (seen.json()["collect"], seen.json()["amount"]) == (collect_id, "200.00")
    assert_problem(client.get(payment, headers=olga.headers), 404)  # a participant does not
    assert_problem(client.get(payment, headers=cast["outsider"].headers), 404)

    assert_problem(client.delete(path, headers=org), 403)
    assert_problem(client.post(f"{path}organisers/", json={"user": olga.id}, headers=org), 403)
    assert_problem(client.delete(f"{path}organisers/{organiser.id}/", headers=org), 403)
    assert_problem(client.delete(f"{path}participants/{author.id}/", headers=org), 409)
    assert _detail(client, author, collect_id)["participants_count"] == 4
    assert _roles(client, author, collect_id)[organiser.id] == "organiser"
    assert _roles(client, author, collect_id)[olga.id] == "participant"
    clock.advance(minutes=10)  # well within the default interval, a day
    by_author = client.post(f"{path}reminders/", headers=author.headers)
    # the organiser is reminded; Olga, reminded ten minutes ago, is not
    assert by_author.json() == {"reminded": 1, "skipped": 1}


# --- reminders ---


@pytest.mark.settings(reminder_interval_hours=0.1)
def test_reminders_go_to_every_unpaid_member_but_the_caller_once_per_interval(
    client: TestClient[Any],
    container: Container,
    cast: Cast,
    clock: FixedClock,
    make_account: MakeAccount,
) -> None:
    """FUNDRAISING_REMINDER_INTERVAL_HOURS is six minutes here (the default, a day, is in
    the organiser's test)."""
    collect_id = _gift(client, cast, clock)
    author, organiser, participant = cast["author"], cast["organiser"], cast["participant"]
    payer = make_account("Ольга", "")
    assert _invite(client, author, collect_id, user=payer.id).status_code == 201
    assert donate(client, payer, collect_id, "750", visibility="anonymous").status_code == 201

    first = _remind(client, author, collect_id)

    assert first.status_code == 202, first.text
    assert first.json() == {"reminded": 2, "skipped": 0}
    assert _queued(container, collect_id, EmailKind.REMINDER) == sorted(
        [organiser.id, participant.id]
    )
    url, ends = _share_url(client, author, collect_id), _ends(clock)
    for who in (organiser, participant):
        (reminder,) = _emailed(container, EmailKind.REMINDER, _address(who))
        _assert_terms(reminder, ends, url)
        assert "ещё не сделали взнос" in text_of(reminder)
    entries = _entries(client, author, collect_id)
    assert entries[author.id]["last_reminded_at"] is None  # the caller
    assert entries[payer.id]["last_reminded_at"] is None  # paid (anonymously)
    for who in (organiser, participant):
        assert utc(entries[who.id]["last_reminded_at"]) == clock.now()

    again = _remind(client, author, collect_id)
    assert (again.status_code, again.json()) == (202, {"reminded": 0, "skipped": 2})
    clock.advance(minutes=5)
    by_organiser = _remind(client, organiser, collect_id)  # the author now, not the organiser
    assert (by_organiser.status_code, by_organiser.json()) == (
        202,
        {"reminded": 1, "skipped": 1},
    )
    (to_author,) = _emailed(container, EmailKind.REMINDER, _address(author))
    _assert_terms(to_author, ends, url)
    clock.advance(minutes=2)  # seven minutes after the first reminders
    due = _remind(client, author, collect_id)

    assert (due.status_code, due.json()) == (202, {"reminded": 2, "skipped": 0})
    assert _queued(container, collect_id, EmailKind.REMINDER) == sorted(
        [author.id, organiser.id, organiser.id, participant.id, participant.id]
    )
    assert len(_emailed(container, EmailKind.REMINDER, _address(participant), count=2)) == 2
    entries = _entries(client, author, collect_id)
    assert utc(entries[participant.id]["last_reminded_at"]) == clock.now()
    assert utc(entries[author.id]["last_reminded_at"]) == clock.now() - timedelta(minutes=2)
    assert entries[payer.id]["last_reminded_at"] is None


def test_reminders_are_refused_401_then_404_then_403_then_409(
    client: TestClient[Any], container: Container, cast: Cast, clock: FixedClock
) -> None:
    collect_id = _gift(client, cast, clock)
    public_id = create_collect(client, cast["author"])
    author, organiser, participant = cast["author"], cast["organiser"], cast["participant"]
    ending = create_collect(
        client, author, end_date=(clock.now() + timedelta(minutes=5)).isoformat()
    )
    assert _invite(client, author, ending, user=participant.id).status_code == 201

    assert_problem(client.post(f"{COLLECTS}{collect_id}/reminders/"), 401)
    assert_problem(client.post(f"{COLLECTS}{MISSING}/reminders/"), 401)
    assert_problem(_remind(client, author, MISSING), 404)
    assert_problem(_remind(client, cast["outsider"], collect_id), 404)
    assert_problem(_remind(client, cast["anna"], collect_id), 404)
    assert_problem(_remind(client, participant, collect_id), 403)
    assert_problem(_remind(client, cast["outsider"], public_id), 403)  # a viewer
    closed = client.patch(
        f"{COLLECTS}{collect_id}/", json={"is_active": False}, headers=author.headers
    )
    assert closed.status_code == 200, closed.text

    assert_problem(_remind(client, author, collect_id), 409)
    assert_problem(_remind(client, organiser, collect_id), 409)
    assert_problem(_remind(client, participant, collect_id), 403)  # 403 before 409
    assert_problem(_remind(client, cast["anna"], collect_id), 404)
    clock.advance(minutes=6)  # past the end of the other collect
    assert_problem(_remind(client, author, ending), 409)
    assert_problem(_remind(client, participant, ending), 403)
    assert _queued(container, collect_id, EmailKind.REMINDER) == []
    assert _queued(container, ending, EmailKind.REMINDER) == []
    entries = _entries(client, author, collect_id)
    assert all(entry["last_reminded_at"] is None for entry in entries.values())


# --- the surprise guard, and authentication first ---


@pytest.mark.parametrize("visibility", ["private", "link"])
def test_the_person_the_gift_is_for_finds_none_of_the_new_paths_even_with_a_warm_cache(
    client: TestClient[Any], container: Container, cast: Cast, clock: FixedClock, visibility: str
) -> None:
    collect_id = _gift(client, cast, clock, visibility)
    author, organiser, participant, anna = (
        cast[who] for who in ("author", "organiser", "participant", "anna")
    )
    path = f"{COLLECTS}{collect_id}/"
    client.get(path, headers=author.headers)
    assert client.get(path, headers=author.headers).headers["x-cache"] == "HIT"
    members = _entries(client, author, collect_id)
    probes: list[tuple[str, str, Any]] = [
        ("GET", "participants/", None),
        ("GET", "participants/?paid=false", None),
        ("POST", "participants/", {"user": anna.id}),
        ("POST", "participants/", {"email": _address(anna)}),
        ("POST", "participants/", {"user": cast["outsider"].id}),
        ("POST", "participants/", {"user": participant.id}),
        ("POST", "participants/", {}),
        ("DELETE", f"participants/{participant.id}/", None),
        ("DELETE", f"participants/{author.id}/", None),
        ("DELETE", f"participants/{anna.id}/", None),
        ("POST", "organisers/", {"user": participant.id}),
        ("POST", "organisers/", {"user": "x"}),
        ("DELETE", f"organisers/{organiser.id}/", None),
        ("DELETE", f"organisers/{participant.id}/", None),
        ("POST", "reminders/", None),
    ]

    def probe(case: tuple[str, str, Any]) -> None:
        method, tail, body = case
        hidden = client.request(method, f"{path}{tail}", json=body, headers=anna.headers)
        missing = client.request(
            method, f"{COLLECTS}{MISSING}/{tail}", json=body, headers=anna.headers
        )
        answer, nothing = assert_problem(hidden, 404), assert_problem(missing, 404)
        assert (answer["title"], answer["detail"]) == (nothing["title"], nothing["detail"])

    check_each(probes, probe)

    assert_problem(client.get(path, headers=anna.headers), 404)
    assert _entries(client, author, collect_id) == members
    assert _detail(client, author, collect_id)["participants_count"] == 3
    assert _queued(container, collect_id, EmailKind.REMINDER) == []
    assert _queued(container, collect_id, EmailKind.INVITATION) == sorted(
        [organiser.id, participant.id]
    )


def test_every_new_path_asks_for_a_valid_token_first(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    collect_id = create_collect(client, author)
    writes: list[tuple[str, str, Any]] = [
        ("POST", "participants/", {"user": author.id}),
        ("DELETE", f"participants/{author.id}/", None),
        ("POST", "organisers/", {"user": author.id}),
        ("DELETE", f"organisers/{author.id}/", None),
        ("POST", "reminders/", None),
    ]
    refresh = {"Authorization": f"Bearer {author.refresh}"}

    def refused(case: tuple[str, str, Any]) -> None:
        method, tail, body = case
        for collect in (collect_id, MISSING):
            url = f"{COLLECTS}{collect}/{tail}"
            assert_problem(client.request(method, url, json=body), 401)
            assert_problem(client.request(method, url, json=body, headers=refresh), 401)

    check_each(writes, refused)
    assert [e["user"] for e in _entries(client, author, collect_id).values()] == [author.id]
