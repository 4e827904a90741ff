"""POST /api/v1/payments/{id}/refund/ over HTTP: the author and organisers give a payment back
(200, `status: "refunded"`, again: no change), everyone else gets 404 as for a missing payment;
the order of checks (401, 404, 400 on `reason`, 409 on a blocked collect or a payment never
completed); the totals, feed, participants list and the payer's own list afterwards, fresh with
a warm cache; a replay of the refunded transaction id; the payer's one "refunded" e-mail."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import insert, select

from fundraising.adapters.sql import rows
from fundraising.adapters.sql.tables import outbox, payments
from fundraising.adapters.task_codec import decode_task
from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.use_cases.collects import Moderation
from fundraising.container import Container
from fundraising.domain.money import Money
from fundraising.domain.payment import Payment, PaymentStatus
from tests.e2e.account_helpers import finished
from tests.e2e.conftest import (
    Account,
    assert_problem,
    create_collect,
    donate,
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
REPLAYED = "Idempotent-Replayed"
MISSING = 2**62  # a valid id that names nothing


# --- helpers ---


def _refund(client: TestClient[Any], who: Account | None, payment_id: Any, body: Any = None) -> Any:
    """POST the refund with `body` as JSON; without one, with no body at all."""
    headers = who.headers if who else {}
    path = f"{PAYMENTS}{payment_id}/refund/"
    if body is None:
        return client.post(path, headers=headers)
    return client.post(path, json=body, headers=headers)


def _paid(
    client: TestClient[Any], who: Account, collect_id: int, amount: str, **fields: Any
) -> Any:
    response = donate(client, who, collect_id, amount, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def _detail(client: TestClient[Any], who: Account, collect_id: int) -> Any:
    response = client.get(f"{COLLECTS}{collect_id}/", headers=who.headers)
    assert response.status_code == 200, response.text
    return response


def _totals(client: TestClient[Any], who: Account, collect_id: int) -> tuple[str, int, int]:
    body = _detail(client, who, collect_id).json()
    return body["collected_amount"], body["donations_count"], body["donors_count"]


def _feed(client: TestClient[Any], who: Account, collect_id: int) -> Any:
    response = client.get(f"{COLLECTS}{collect_id}/payments/", headers=who.headers)
    assert response.status_code == 200, response.text
    return response


def _participants(client: TestClient[Any], who: Account, collect_id: int) -> Any:
    response = client.get(
        f"{COLLECTS}{collect_id}/participants/?page_size=100", headers=who.headers
    )
    assert response.status_code == 200, response.text
    return response


def _paid_by(client: TestClient[Any], who: Account, collect_id: int) -> dict[int, tuple[str, int]]:
    entries = _participants(client, who, collect_id).json()["results"]
    return {e["user"]: (e["paid_amount"], e["donations_count"]) for e in entries}


def _organiser(client: TestClient[Any], author: Account, member: Account, collect_id: int) -> None:
    """`member` joins the public collect and the author makes them an organiser."""
    joined = client.post(f"{COLLECTS}{collect_id}/join/", json={}, headers=member.headers)
    assert joined.status_code == 200, joined.text
    promoted = client.post(
        f"{COLLECTS}{collect_id}/organisers/", json={"user": member.id}, headers=author.headers
    )
    assert promoted.status_code == 201, promoted.text


def _refund_emails_queued(container: Container, payment_id: int) -> int:
    """How many "refunded" e-mails about the payment were put in the outbox (recorded with the
    refund itself, so nothing is left to wait for)."""
    with container.engine().connect() as connection:
        tasks = [decode_task(task) for task in connection.scalars(select(outbox.c.task))]
    return sum(
        1
        for task in tasks
        if isinstance(task, SendEmail)
        and task.kind is EmailKind.PAYMENT_REFUNDED
        and task.subject_id == payment_id
    )


def _address(who: Account) -> str:
    return f"{who.username}@example.com"


def _refund_email(container: Container, who: Account) -> EmailMessage:
    """The one "refunded" e-mail written to `who` (the embedded worker may be slow under load)."""
    mail_dir = container.settings().mail_dir
    found = wait_for(lambda: mails(mail_dir, "payment_refunded", _address(who)), timeout=30)
    assert found and len(found) == 1, found
    return found[0]


def _block(container: Container, collect_id: int, action: str = "block") -> None:
    container.moderate_collect()(Moderation(collect_id, action, "Сбор на чужую карту"))


# --- who refunds, and what follows ---


def test_the_author_and_an_organiser_refund_and_every_read_follows(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author, organiser = make_account("Олег"), make_account("Мария")
    donor, other = make_account("Ольга", "Ли"), make_account("Пётр")
    collect_id = create_collect(client, author, goal_amount="1000")
    _organiser(client, author, organiser, collect_id)
    first = _paid(client, donor, collect_id, "100", comment="первое")
    clock.advance(seconds=1)
    second = _paid(client, donor, collect_id, "50.25", comment="второе", is_anonymous=True)
    clock.advance(seconds=1)
    kept = _paid(client, other, collect_id, "30", comment="остаётся")
    assert _totals(client, author, collect_id) == ("180.25", 3, 2)

    clock.advance(minutes=5)
    by_author = _refund(client, author, first["id"], {"reason": "Подарок уже куплен"})

    assert by_author.status_code == 200, by_author.text
    refunded = by_author.json()
    assert (refunded["status"], utc(refunded["refunded_at"])) == ("refunded", clock.now())
    unchanged = {k: v for k, v in refunded.items() if k not in ("status", "refunded_at")}
    assert unchanged == {k: v for k, v in first.items() if k not in ("status", "refunded_at")}
    assert first["refunded_at"] is None
    assert _totals(client, author, collect_id) == ("80.25", 2, 2)  # she paid twice

    clock.advance(minutes=1)
    by_organiser = _refund(client, organiser, f"{second['id']}")  # no body at all
    assert by_organiser.status_code == 200, by_organiser.text
    assert (by_organiser.json()["status"], utc(by_organiser.json()["refunded_at"])) == (
        "refunded",
        clock.now(),
    )
    assert _totals(client, organiser, collect_id) == ("30.00", 1, 1)
    detail = _detail(client, other, collect_id).json()
    assert detail["progress"] == 3.0

    feed_entries = _feed(client, other, collect_id).json()
    assert feed_entries["count"] == 1
    assert [e["comment"] for e in feed_entries["results"]] == ["остаётся"]
    assert [e["comment"] for e in detail["payments"]] == ["остаётся"]
    paid_by = _paid_by(client, organiser, collect_id)
    assert paid_by[donor.id] == ("0.00", 0)
    assert paid_by[other.id] == ("30.00", 1)
    unpaid = client.get(f"{COLLECTS}{collect_id}/participants/?paid=false", headers=author.headers)
    assert donor.id in {e["user"] for e in unpaid.json()["results"]}

    mine = client.get(PAYMENTS, headers=donor.headers).json()
    assert mine["count"] == 2
    assert [(p["id"], p["status"]) for p in mine["results"]] == [
        (second["id"], "refunded"),
        (first["id"], "refunded"),
    ]
    assert mine["results"][1] == refunded
    for viewer in (donor, author, organiser):
        one = client.get(f"{PAYMENTS}{first['id']}/", headers=viewer.headers)
        assert one.json() == refunded
    theirs = client.get(f"{PAYMENTS}{kept['id']}/", headers=other.headers).json()
    assert (theirs["status"], theirs["refunded_at"]) == ("completed", None)


def test_refunding_again_changes_nothing_and_the_payer_is_mailed_once(
    client: TestClient[Any],
    container: Container,
    make_account: MakeAccount,
    clock: FixedClock,
) -> None:
    author, organiser, donor = make_account(), make_account(), make_account("Ольга", "Ли")
    quiet = make_account()
    collect_id = create_collect(client, author, title="Юбилей «Ромашки»")
    _organiser(client, author, organiser, collect_id)
    paid = _paid(client, donor, collect_id, "1234.50")
    _paid(client, donor, collect_id, "1")
    unexplained = _paid(client, quiet, collect_id, "10", comment="моё пожелание")
    assert _refund(client, organiser, unexplained["id"], {"reason": None}).status_code == 200

    first = _refund(client, author, paid["id"], {"reason": "Ошиблись суммой"})
    assert first.status_code == 200, first.text
    # Moving the clock while an e-mail is being sent would expire its claim and let the relay
    # send it again: both are let finish first.
    for payment in (paid, unexplained):
        task = SendEmail(EmailKind.PAYMENT_REFUNDED, payment["id"])
        assert wait_for(lambda task=task: finished(container, task), timeout=30), task
    clock.advance(minutes=10)  # within the tokens' 15 minutes
    for who, body in ((author, {}), (organiser, {"reason": "другая причина"}), (author, None)):
        again = _refund(client, who, paid["id"], body)
        assert again.status_code == 200, again.text
        assert again.json() == first.json()  # refunded_at too, read back from the database
    assert _totals(client, author, collect_id) == ("1.00", 1, 1)

    message = _refund_email(container, donor)
    assert message["Subject"] == "Возврат пожертвования в сбор «Юбилей «Ромашки»»"
    text = text_of(message)
    assert "Ольга Ли" in text
    assert "1\u00a0234,50\u00a0₽" in text
    assert "Причина: «Ошиблись суммой»" in text
    assert f"/collects/{collect_id}" in text
    assert _refund_emails_queued(container, paid["id"]) == 1

    message = _refund_email(container, quiet)
    text = text_of(message)
    assert "10,00\u00a0₽" in text
    assert "Причина" not in text
    assert "моё пожелание" not in text  # the donor's own wish is not a reason
    for who in (author, organiser):  # only the payer hears of it
        assert mails(container.settings().mail_dir, "payment_refunded", _address(who)) == []


# --- the order of checks ---


def test_everyone_else_gets_404_as_for_a_missing_payment_after_the_401(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, organiser, donor = make_account(), make_account(), make_account()
    participant, stranger, other_author = make_account(), make_account(), make_account()
    collect_id = create_collect(client, author)
    _organiser(client, author, organiser, collect_id)
    joined = client.post(f"{COLLECTS}{collect_id}/join/", headers=participant.headers)
    assert joined.status_code == 200, joined.text
    create_collect(client, other_author)  # runs a collect, just not this one
    paid = _paid(client, donor, collect_id, "40")
    too_long = "x" * 501

    assert_problem(_refund(client, None, paid["id"]), 401)
    assert_problem(_refund(client, None, paid["id"], {"reason": too_long}), 401)
    bad = Account(author.id, author.username, "not.a.token", author.refresh)
    assert_problem(_refund(client, bad, paid["id"], {"reason": too_long}), 401)
    refresh_as_access = Account(author.id, author.username, author.refresh, author.refresh)
    assert_problem(_refund(client, refresh_as_access, paid["id"]), 401)

    missing = assert_problem(_refund(client, author, MISSING), 404)
    for who in (donor, participant, stranger, other_author):
        for body in ({}, {"reason": too_long}, {"reason": 7}):
            hidden = assert_problem(_refund(client, who, paid["id"], body), 404)
            assert hidden["detail"] == missing["detail"]
    for path_id in ("0", "-1", str(2**64), "abc"):
        assert_problem(_refund(client, author, path_id), 404)

    assert_problem(_refund(client, author, paid["id"], {"reason": too_long}), 400, "reason")
    assert_problem(_refund(client, organiser, paid["id"], {"reason": ["a"]}), 400, "reason")
    assert_problem(_refund(client, author, MISSING, {"reason": too_long}), 404)
    assert _totals(client, author, collect_id) == ("40.00", 1, 1)
    assert client.get(f"{PAYMENTS}{paid['id']}/", headers=donor.headers).json() == paid

    exactly = "я😀" * 250  # 500 characters, 1,500 bytes
    answer = _refund(client, organiser, paid["id"], {"reason": exactly, "unknown": "ignored"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "refunded"
    assert _totals(client, author, collect_id) == ("0.00", 0, 0)


def test_a_blocked_collect_refunds_nothing_until_it_is_unblocked(
    client: TestClient[Any], container: Container, make_account: MakeAccount
) -> None:
    author, organiser, donor = make_account(), make_account(), make_account()
    collect_id = create_collect(client, author)
    _organiser(client, author, organiser, collect_id)
    paid = _paid(client, donor, collect_id, "40")
    _block(container, collect_id)

    for who in (author, organiser):
        assert_problem(_refund(client, who, paid["id"], {"reason": "вернуть"}), 409)
    assert_problem(_refund(client, author, paid["id"], {"reason": "x" * 501}), 400, "reason")
    assert_problem(_refund(client, donor, paid["id"]), 404)
    assert _totals(client, author, collect_id) == ("40.00", 1, 1)
    assert client.get(f"{PAYMENTS}{paid['id']}/", headers=donor.headers).json() == paid
    assert _refund_emails_queued(container, paid["id"]) == 0

    _block(container, collect_id, "unblock")
    answer = _refund(client, organiser, paid["id"])
    assert answer.status_code == 200, answer.text
    assert _totals(client, author, collect_id) == ("0.00", 0, 0)


def test_a_closed_collect_still_refunds_also_without_the_trailing_slash(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, donor = make_account(), make_account()
    collect_id = create_collect(client, author)
    paid = _paid(client, donor, collect_id, "12")
    closed = client.patch(
        f"{COLLECTS}{collect_id}/", json={"is_active": False}, headers=author.headers
    )
    assert closed.status_code == 200, closed.text
    answer = client.post(
        f"{PAYMENTS}{paid['id']}/refund",
        json={"reason": "сбор закрыт"},
        headers=author.headers,
        follow_redirects=True,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "refunded"
    assert _totals(client, author, collect_id) == ("0.00", 0, 0)


def test_a_payment_never_completed_is_a_409(
    client: TestClient[Any],
    container: Container,
    make_account: MakeAccount,
    clock: FixedClock,
) -> None:
    author, donor = make_account(), make_account()
    collect_id = create_collect(client, author)
    _paid(client, donor, collect_id, "10")
    for status in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        row = Payment(
            id=None,
            collect_id=collect_id,
            payer_id=donor.id,
            amount=Money.of("99.00"),
            status=status,
            transaction_id=transaction_id(),
            payment_date=clock.now(),
        )
        with container.engine().begin() as connection:
            inserted = connection.execute(insert(payments), rows.payment_values(row))
            payment_id = inserted.inserted_primary_key[0]
        assert_problem(_refund(client, author, payment_id, {"reason": "нет"}), 409)
        seen = client.get(f"{PAYMENTS}{payment_id}/", headers=donor.headers).json()
        assert (seen["status"], seen["refunded_at"]) == (status.value, None)
        assert _refund_emails_queued(container, payment_id) == 0
    assert _totals(client, author, collect_id) == ("10.00", 1, 1)


# --- a replay, and the cache ---


def test_a_replay_after_the_refund_answers_the_refunded_payment(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    author, donor = make_account(), make_account()
    collect_id = create_collect(client, author)
    tx = transaction_id()
    paid = _paid(client, donor, collect_id, "25", transaction_id=tx)
    refunded = _refund(client, author, paid["id"], {"reason": "вернули"}).json()
    clock.advance(minutes=3)

    replay = donate(client, donor, collect_id, "25.00", transaction_id=tx, comment="ещё раз")

    assert replay.status_code == 200, replay.text
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == refunded
    assert _totals(client, author, collect_id) == ("0.00", 0, 0)
    assert_problem(donate(client, donor, collect_id, "26", transaction_id=tx), 409)
    assert_problem(donate(client, author, collect_id, "25", transaction_id=tx), 409)
    assert client.get(PAYMENTS, headers=donor.headers).json()["count"] == 1

    assert donate(client, donor, collect_id, "7").status_code == 201  # a new donation counts
    assert _totals(client, author, collect_id) == ("7.00", 1, 1)


def test_a_warm_cache_shows_the_refund_at_once(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author, donor, other = make_account(), make_account(), make_account()
    collect_id = create_collect(client, author, goal_amount="200")
    paid = _paid(client, donor, collect_id, "150", comment="уйдёт")
    _paid(client, other, collect_id, "20", comment="останется")
    reads = {
        "detail": lambda: _detail(client, other, collect_id),
        "feed": lambda: _feed(client, other, collect_id),
        "participants": lambda: _participants(client, author, collect_id),
        "list": lambda: client.get(f"{COLLECTS}?author=me", headers=author.headers),
    }
    warm = {}
    for name, read in reads.items():
        read()
        warm[name] = read()
        if name != "participants":  # content for those who run it: not cached
            assert warm[name].headers["X-Cache"] == "HIT", name

    assert _refund(client, author, paid["id"]).status_code == 200

    detail = reads["detail"]().json()
    assert (detail["collected_amount"], detail["donations_count"], detail["donors_count"]) == (
        "20.00",
        1,
        1,
    )
    assert detail["progress"] == 10.0
    assert [e["comment"] for e in detail["payments"]] == ["останется"]
    assert [e["comment"] for e in reads["feed"]().json()["results"]] == ["останется"]
    participants = {e["user"]: e for e in reads["participants"]().json()["results"]}
    assert participants[donor.id]["paid_amount"] == "0.00"
    listed = reads["list"]().json()["results"]
    assert [(c["id"], c["collected_amount"]) for c in listed] == [(collect_id, "20.00")]
    etag = reads["detail"]().headers["etag"]
    assert etag != warm["detail"].headers["etag"]
