"""POST /api/v1/collects/{id}/cancel/ over HTTP: only the author cancels (202 with the detail,
`status: "cancelled"` at once, a warm cache included); 401, 404 for who may not see it, 403 for
the other viewers, 409 when cancelled already or blocked; no donation and no reopening after
the 202; the background refunds bring the counters to 0, empty the feed, mark each payment
`refunded` and e-mail each payer exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select

from fundraising.adapters.sql.tables import outbox
from fundraising.adapters.task_codec import decode_task
from fundraising.application.ports.tasks import EmailKind, RefundCollect, SendEmail
from fundraising.application.use_cases.collects import Moderation
from fundraising.container import Container
from tests.e2e.account_helpers import emailed
from tests.e2e.conftest import (
    Account,
    assert_problem,
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
COLLECTS = "/api/v1/collects/"
PAYMENTS = "/api/v1/payments/"
MISSING = 2**62  # a valid id that names no collect
CANCELLED = EmailKind.COLLECT_CANCELLED
SETTLE_SECONDS = 20.0  # the outbox relay, the worker's refund task, then the e-mail tasks


# --- helpers ---


def _cancel(client: TestClient[Any], who: Account | None, collect_id: Any) -> Any:
    return client.post(f"{COLLECTS}{collect_id}/cancel/", headers=who.headers if who else {})


def _cancelled(client: TestClient[Any], author: Account, collect_id: int) -> dict[str, Any]:
    answer = _cancel(client, author, collect_id)
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def _detail(client: TestClient[Any], who: Account, collect_id: int) -> Any:
    response = client.get(f"{COLLECTS}{collect_id}/", headers=who.headers)
    assert response.status_code == 200, response.text
    return response


def _status(client: TestClient[Any], who: Account, collect_id: int) -> str:
    return str(_detail(client, who, collect_id).json()["status"])


def _totals(client: TestClient[Any], who: Account, collect_id: int) -> tuple[str, int, int]:
    body = _detail(client, who, collect_id).json()
    return body["collected_amount"], body["donations_count"], body["donors_count"]


def _paid(
    client: TestClient[Any], who: Account, collect_id: int, amount: str, **fields: Any
) -> Any:
    response = donate(client, who, collect_id, amount, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def _join(client: TestClient[Any], who: Account, collect_id: int, key: str | None = None) -> None:
    body = {} if key is None else {"key": key}
    joined = client.post(f"{COLLECTS}{collect_id}/join/", json=body, headers=who.headers)
    assert joined.status_code == 200, joined.text


def _promote(client: TestClient[Any], author: Account, member: Account, collect_id: int) -> None:
    promoted = client.post(
        f"{COLLECTS}{collect_id}/organisers/", json={"user": member.id}, headers=author.headers
    )
    assert promoted.status_code == 201, promoted.text


def _moderate(container: Container, collect_id: int, action: str) -> None:
    container.moderate_collect()(Moderation(collect_id, action, "Сбор на чужую карту"))


def _address(who: Account) -> str:
    return f"{who.username}@example.com"


def _tasks(container: Container) -> list[Any]:
    with container.engine().connect() as connection:
        return [decode_task(task) for task in connection.scalars(select(outbox.c.task))]


def _done(container: Container, task: Any) -> bool:
    """Whether the outbox row of `task` was done."""
    with container.engine().connect() as connection:
        rows = connection.execute(select(outbox.c.task, outbox.c.finished_at)).all()
    return any(decode_task(row.task) == task and row.finished_at is not None for row in rows)


def _cancel_mails_queued(container: Container, collect_id: int) -> list[int | None]:
    """The recipients of the "cancelled" e-mails put in the outbox for the collect."""
    return sorted(
        (
            task.recipient_id
            for task in _tasks(container)
            if isinstance(task, SendEmail)
            and task.kind is CANCELLED
            and task.subject_id == collect_id
        ),
        key=lambda recipient: recipient or 0,
    )


def _settled(client: TestClient[Any], who: Account, collect_id: int) -> tuple[str, int, int]:
    """The collect's totals once the background refunds have brought them to 0 (or the last
    seen, when they did not in time)."""
    zero = ("0.00", 0, 0)
    return wait_for(
        lambda: (totals := _totals(client, who, collect_id)) == zero and totals,
        timeout=SETTLE_SECONDS,
    ) or _totals(client, who, collect_id)


# --- the 202, and every read after it ---


def test_the_author_cancels_and_every_read_says_cancelled_at_once_with_a_warm_cache(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, viewer = make_account("Олег"), make_account()
    collect_id = create_collect(client, author, title="Отменяемый", goal_amount="1000")
    mine = f"{COLLECTS}?author=me"
    before = _detail(client, viewer, collect_id)
    warm = _detail(client, viewer, collect_id)
    assert (warm.headers["X-Cache"], warm.json()["status"]) == ("HIT", "open")
    client.get(mine, headers=author.headers)
    listed = client.get(mine, headers=author.headers)
    assert listed.headers["X-Cache"] == "HIT"
    assert [c["status"] for c in listed.json()["results"]] == ["open"]

    answer = _cancel(client, author, collect_id)

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["id"], body["status"], body["title"]) == (collect_id, "cancelled", "Отменяемый")
    assert set(body) == set(before.json())  # the collect detail, as GET answers it
    for who in (viewer, author):
        assert _status(client, who, collect_id) == "cancelled", who
    again = _detail(client, viewer, collect_id)
    assert (again.headers["X-Cache"], again.json()["status"]) == ("HIT", "cancelled")
    assert again.headers["etag"] != warm.headers["etag"]
    assert [c["status"] for c in client.get(mine, headers=author.headers).json()["results"]] == [
        "cancelled"
    ]
    assert_problem(donate(client, viewer, collect_id, "10"), 409)
    assert _totals(client, author, collect_id) == ("0.00", 0, 0)
    assert _status(client, viewer, collect_id) == "cancelled"


def test_no_donation_is_taken_after_the_202(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, donor, newcomer = make_account(), make_account(), make_account()
    collect_id = create_collect(client, author)
    tx = transaction_id()
    paid = _paid(client, donor, collect_id, "100", transaction_id=tx)

    _cancelled(client, author, collect_id)

    for who in (donor, newcomer, author):
        assert_problem(donate(client, who, collect_id, "5"), 409)
    assert_problem(donate(client, donor, collect_id, "101", transaction_id=tx), 409)
    assert_problem(client.post(f"{COLLECTS}{collect_id}/join/", headers=newcomer.headers), 409)
    assert _settled(client, author, collect_id) == ("0.00", 0, 0)
    assert client.get(PAYMENTS, headers=newcomer.headers).json()["count"] == 0
    (refunded,) = client.get(PAYMENTS, headers=donor.headers).json()["results"]
    assert (refunded["id"], refunded["status"]) == (paid["id"], "refunded")
    replay = donate(client, donor, collect_id, "100", transaction_id=tx)  # not a new donation
    assert (replay.status_code, replay.json()) == (200, refunded)
    again = client.post(f"{PAYMENTS}{paid['id']}/refund/", headers=author.headers)
    assert (again.status_code, again.json()) == (200, refunded)
    assert _totals(client, author, collect_id) == ("0.00", 0, 0)


# --- the background refunds ---


def test_the_refunds_zero_the_collect_and_each_payer_is_mailed_exactly_once(
    client: TestClient[Any],
    container: Container,
    make_account: MakeAccount,
    clock: FixedClock,
) -> None:
    author, organiser = make_account("Олег"), make_account("Мария")
    olga, petr, ivan = make_account("Ольга", "Ли"), make_account("Пётр"), make_account("Иван")
    idle, refunded_before = make_account("Нина"), make_account("Фёдор")
    unverified = make_account("Глеб", verified=False)  # refunded, but e-mailed nothing
    title = "Подарок «Ромашке»"
    collect_id = create_collect(client, author, title=title, goal_amount="5000")
    _paid(client, organiser, collect_id, "300")
    _promote(client, author, organiser, collect_id)  # an organiser who paid, made after paying
    _join(client, idle, collect_id)  # takes part, pays nothing
    payers = (organiser, olga, petr, ivan, author)
    mine: dict[Account, list[Any]] = {who: [] for who in payers}
    mine[organiser] = client.get(PAYMENTS, headers=organiser.headers).json()["results"]
    for amount, comment in (("100", "раз"), ("50.25", "два"), ("1000", "три")):
        clock.advance(seconds=1)
        mine[olga].append(_paid(client, olga, collect_id, amount, comment=comment))
    mine[petr].append(_paid(client, petr, collect_id, "70", visibility="anonymous"))
    mine[ivan].append(_paid(client, ivan, collect_id, "30", visibility="hide_amount"))
    mine[author].append(_paid(client, author, collect_id, "1"))
    mine[unverified] = [_paid(client, unverified, collect_id, "2")]
    early = _paid(client, refunded_before, collect_id, "40")
    refund = client.post(f"{PAYMENTS}{early['id']}/refund/", headers=author.headers)
    assert refund.status_code == 200, refund.text
    early_refund = refund.json()["refunded_at"]
    feed = f"{COLLECTS}{collect_id}/payments/"
    client.get(feed, headers=idle.headers)
    assert client.get(feed, headers=idle.headers).json()["count"] == 8  # warm, and complete
    assert _totals(client, idle, collect_id) == ("1553.25", 8, 6)

    clock.advance(minutes=1)
    cancelled_at = clock.now()
    body = _cancelled(client, author, collect_id)
    assert body["status"] == "cancelled"

    assert _settled(client, idle, collect_id) == ("0.00", 0, 0)
    detail = _detail(client, idle, collect_id).json()
    assert (detail["status"], detail["payments"], detail["progress"]) == ("cancelled", [], 0.0)
    emptied = client.get(feed, headers=idle.headers).json()
    assert (emptied["count"], emptied["results"]) == (0, [])
    assert [len(mine[who]) for who in (*payers, unverified)] == [1, 3, 1, 1, 1, 1]
    for who, paid in mine.items():
        own = client.get(PAYMENTS, headers=who.headers)
        assert own.status_code == 200, own.text
        listed = {p["id"]: p for p in own.json()["results"]}
        assert set(listed) == {p["id"] for p in paid}, who
        for before in paid:
            after = listed[before["id"]]
            assert (after["status"], utc(after["refunded_at"])) == ("refunded", cancelled_at)
            assert after["amount"] == before["amount"]
    kept = client.get(f"{PAYMENTS}{early['id']}/", headers=refunded_before.headers).json()
    assert (kept["status"], kept["refunded_at"]) == ("refunded", early_refund)

    participants = client.get(
        f"{COLLECTS}{collect_id}/participants/?page_size=100", headers=author.headers
    )
    assert participants.status_code == 200, participants.text
    entries = participants.json()["results"]
    assert {e["user"] for e in entries} >= {w.id for w in (*payers, idle, unverified)}
    assert [(e["user"], e["paid_amount"]) for e in entries if e["paid_amount"] != "0.00"] == []
    assert all(e["donations_count"] == 0 for e in entries), entries

    mail_dir = container.settings().mail_dir
    for who in payers:
        task = SendEmail(CANCELLED, collect_id, who.id)
        assert wait_for(lambda task=task: _done(container, task), timeout=SETTLE_SECONDS), who
        (message,) = emailed(mail_dir, CANCELLED, _address(who))
        assert message["Subject"] == f"Сбор «{title}» отменён"
        text = text_of(message)
        assert f"Организатор отменил сбор «{title}»" in text
        assert "возвращены" in text
    assert wait_for(
        lambda: _done(container, SendEmail(CANCELLED, collect_id, unverified.id)),
        timeout=SETTLE_SECONDS,
    )
    queued = sorted(w.id for w in (*payers, unverified))
    assert _cancel_mails_queued(container, collect_id) == queued
    for who in (idle, refunded_before, unverified):
        assert mails(mail_dir, CANCELLED, _address(who)) == []
    assert [t for t in _tasks(container) if t == RefundCollect(collect_id)] == [
        RefundCollect(collect_id)
    ]


def test_only_the_author_cancels_everyone_else_gets_403_or_404(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, organiser, joined_organiser = make_account(), make_account(), make_account()
    participant, donor, stranger = make_account(), make_account(), make_account()
    collect_id = create_collect(client, author)
    _paid(client, organiser, collect_id, "20")
    _promote(client, author, organiser, collect_id)  # made an organiser after donating
    _join(client, joined_organiser, collect_id)
    _promote(client, author, joined_organiser, collect_id)  # ... and after joining
    _join(client, participant, collect_id)
    _paid(client, donor, collect_id, "10")

    for who in (organiser, joined_organiser, participant, donor, stranger):
        assert_problem(_cancel(client, who, collect_id), 403)
    assert_problem(_cancel(client, None, collect_id), 401)
    assert_problem(_cancel(client, None, MISSING), 401)
    bad = Account(author.id, author.username, "not.a.token", author.refresh)
    assert_problem(_cancel(client, bad, collect_id), 401)
    refresh_as_access = Account(author.id, author.username, author.refresh, author.refresh)
    assert_problem(_cancel(client, refresh_as_access, collect_id), 401)
    for path_id in (MISSING, "0", "-1", str(2**64), "abc"):
        assert_problem(_cancel(client, author, path_id), 404)

    assert _status(client, stranger, collect_id) == "open"
    assert _totals(client, author, collect_id) == ("30.00", 2, 2)
    assert donate(client, stranger, collect_id, "5").status_code == 201
    assert _cancelled(client, author, collect_id)["status"] == "cancelled"


def test_who_may_not_see_the_collect_gets_404_as_for_a_missing_one(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, anna, outsider, colleague = (make_account() for _ in range(4))
    private = create_collect(client, author, visibility="private", hidden_from=[anna.id])
    link = create_collect(client, author, visibility="link", hidden_from=[anna.id])
    key = client.get(f"{COLLECTS}{link}/share/", headers=author.headers).json()["key"]
    _join(client, colleague, link, key)
    missing = assert_problem(_cancel(client, outsider, MISSING), 404)

    for who, collect_id in ((outsider, private), (outsider, link), (anna, private), (anna, link)):
        hidden = assert_problem(_cancel(client, who, collect_id), 404)
        assert hidden["detail"] == missing["detail"]
    assert_problem(_cancel(client, colleague, link), 403)  # a member who joined with the key

    for collect_id in (private, link):
        assert _cancelled(client, author, collect_id)["status"] == "cancelled"
    assert_problem(_cancel(client, anna, link), 404)  # still 404 after the cancel
    assert_problem(_cancel(client, outsider, private), 404)
    assert_problem(_cancel(client, colleague, link), 403)  # 403 before the 409
    assert _status(client, colleague, link) == "cancelled"


def test_cancelling_again_is_a_409_and_a_collect_nobody_paid_mails_nobody(
    client: TestClient[Any], container: Container, make_account: MakeAccount
) -> None:
    author, member = make_account(), make_account()
    collect_id = create_collect(client, author)
    _join(client, member, collect_id)
    first = _cancelled(client, author, collect_id)

    assert_problem(_cancel(client, author, collect_id), 409)

    assert wait_for(lambda: _done(container, RefundCollect(collect_id)), timeout=SETTLE_SECONDS)
    assert_problem(_cancel(client, author, collect_id), 409)
    assert_problem(_cancel(client, member, collect_id), 403)  # 403 before the 409
    later = _detail(client, member, collect_id).json()
    assert (later["status"], later["updated_at"]) == ("cancelled", first["updated_at"])
    assert [t for t in _tasks(container) if t == RefundCollect(collect_id)] == [
        RefundCollect(collect_id)
    ]
    assert _cancel_mails_queued(container, collect_id) == []


def test_a_blocked_collect_is_not_cancelled_and_blocked_comes_before_cancelled(
    client: TestClient[Any], container: Container, make_account: MakeAccount
) -> None:
    author, donor, participant = make_account(), make_account(), make_account()
    collect_id = create_collect(client, author)
    path = f"{COLLECTS}{collect_id}/"
    _paid(client, donor, collect_id, "40")
    _join(client, participant, collect_id)
    assert _status(client, donor, collect_id) == "open"  # cached
    _moderate(container, collect_id, "block")

    assert_problem(_cancel(client, author, collect_id), 409)
    assert_problem(_cancel(client, participant, collect_id), 403)  # 403 before the 409
    assert _status(client, donor, collect_id) == "blocked"
    assert _totals(client, author, collect_id) == ("40.00", 1, 1)
    assert RefundCollect(collect_id) not in _tasks(container)

    _moderate(container, collect_id, "unblock")
    assert _cancelled(client, author, collect_id)["status"] == "cancelled"
    assert _settled(client, author, collect_id) == ("0.00", 0, 0)
    assert _status(client, donor, collect_id) == "cancelled"  # warms the cache

    _moderate(container, collect_id, "block")
    assert _status(client, donor, collect_id) == "blocked"
    assert_problem(_cancel(client, author, collect_id), 409)
    assert_problem(client.patch(path, json={"title": "x"}, headers=author.headers), 409)

    _moderate(container, collect_id, "unblock")
    assert _status(client, donor, collect_id) == "cancelled"
    assert_problem(donate(client, donor, collect_id, "5"), 409)


def test_a_cancelled_collect_is_neither_reopened_nor_closed_but_may_be_renamed(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, viewer = make_account(), make_account()
    collect_id = create_collect(client, author, title="Было")
    path = f"{COLLECTS}{collect_id}/"
    before = _cancelled(client, author, collect_id)

    for change in (
        {"is_active": True},
        {"is_active": False},
        {"is_active": before["is_active"]},
        {"is_active": False, "title": "Не сохранится"},
    ):
        assert_problem(client.patch(path, json=change, headers=author.headers), 409)
    assert _detail(client, viewer, collect_id).json()["title"] == "Было"
    assert_problem(client.patch(path, json={"title": ""}, headers=author.headers), 400, "title")

    renamed = client.patch(path, json={"title": "Стало"}, headers=author.headers)

    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["title"], renamed.json()["status"]) == ("Стало", "cancelled")
    seen = _detail(client, viewer, collect_id).json()
    assert (seen["title"], seen["status"], seen["is_active"]) == (
        "Стало",
        "cancelled",
        before["is_active"],
    )
    assert_problem(donate(client, viewer, collect_id, "5"), 409)


def test_a_closed_or_ended_collect_may_still_be_cancelled(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author, donor = make_account(), make_account()
    closed = create_collect(client, author)
    ending = create_collect(client, author, end_date=iso(clock.now() + timedelta(minutes=1)))
    _paid(client, donor, closed, "15")
    _paid(client, donor, ending, "16")
    shut = client.patch(f"{COLLECTS}{closed}/", json={"is_active": False}, headers=author.headers)
    assert shut.json()["status"] == "closed"
    clock.advance(minutes=2)
    assert _status(client, donor, ending) == "ended"

    for collect_id in (closed, ending):
        assert _cancelled(client, author, collect_id)["status"] == "cancelled"
        assert _status(client, donor, collect_id) == "cancelled"
    for collect_id in (closed, ending):
        assert _settled(client, author, collect_id) == ("0.00", 0, 0)
    statuses = [p["status"] for p in client.get(PAYMENTS, headers=donor.headers).json()["results"]]
    assert statuses == ["refunded", "refunded"]
