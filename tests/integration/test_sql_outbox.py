"""The SQL outbox on SQLite and MariaDB: due messages, exclusive claims, leases and purging; the
tasks' JSON form (an e-mail's recipient), old messages without it included."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from fundraising.adapters.sql.tables import outbox
from fundraising.adapters.task_codec import decode_task, encode_task
from fundraising.application.ports.tasks import (
    EmailKind,
    OutboxMessage,
    ProcessCover,
    SendEmail,
    Task,
)
from fundraising.application.ports.unit_of_work import DeadLetter, OutboxSummary
from tests.fakes import FixedClock
from tests.integration.conftest import NOW, UowFactory
from tests.integration.sql_helpers import _is_utc_with_microseconds, _outbox_rows

FAR_AHEAD = NOW + timedelta(days=365)


def _add_tasks(uow_factory: UowFactory, clock: FixedClock, *tasks: Task) -> list[int]:
    """Each task in a committed unit of work of its own, one second after the previous one."""
    ids = []
    for task in tasks:
        with uow_factory() as uow:
            ids.append(uow.outbox.add(task, now=clock.now()).id)
            uow.commit()
        clock.advance(seconds=1)
    return ids


def _due(
    uow_factory: UowFactory,
    *,
    created_before: datetime = FAR_AHEAD,
    relayed_before: datetime = NOW,
    now: datetime = NOW,
    limit: int = 10,
) -> list[int]:
    with uow_factory() as uow:
        found = uow.outbox.due(
            created_before=created_before, relayed_before=relayed_before, now=now, limit=limit
        )
    return [message.id for message in found]


def test_outbox_offers_due_messages_oldest_first_with_their_tasks(
    uow_factory: UowFactory, clock: FixedClock
):
    tasks: list[Task] = [
        SendEmail(EmailKind.COLLECT_CREATED, 1),
        ProcessCover(2, "covers/2.png"),
        SendEmail(EmailKind.DONATION_THANKS, 3),
        SendEmail(EmailKind.DONATION_RECEIVED, 4),
    ]
    first, second, third, _ = _add_tasks(uow_factory, clock, *tasks)

    with uow_factory() as uow:
        found = uow.outbox.due(
            created_before=NOW + timedelta(seconds=3), relayed_before=NOW, now=NOW, limit=10
        )

    assert [message.id for message in found] == [first, second, third]
    assert [message.task for message in found] == tasks[:3]
    assert _due(uow_factory, limit=2) == [first, second]
    assert _due(uow_factory, created_before=NOW) == []


def test_outbox_skips_finished_buried_running_and_recently_relayed_messages(
    uow_factory: UowFactory, clock: FixedClock
):
    fresh, relayed_lately, relayed_long_ago, running, finished, buried = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.COLLECT_CREATED, n) for n in range(6))
    )
    now = clock.now()
    cutoff = now - timedelta(minutes=15)
    with uow_factory() as uow:
        uow.outbox.mark_relayed([relayed_lately], now=now)
        uow.outbox.mark_relayed([relayed_long_ago], now=cutoff - timedelta(microseconds=1))
        assert uow.outbox.claim(running, now=now, lease_seconds=60) is True
        uow.outbox.finish(finished, now=now)
        uow.outbox.bury(buried, now=now)
        uow.commit()

    assert _due(uow_factory, relayed_before=cutoff, now=now) == [fresh, relayed_long_ago]
    later = now + timedelta(seconds=60)  # the lease has run out: the worker may have died
    assert _due(uow_factory, relayed_before=cutoff, now=later) == [
        fresh,
        relayed_long_ago,
        running,
    ]
    assert _due(uow_factory, relayed_before=FAR_AHEAD, now=later) == [
        fresh,
        relayed_lately,
        relayed_long_ago,
        running,
    ]


def test_outbox_claims_are_exclusive_until_the_lease_expires(
    uow_factory: UowFactory, clock: FixedClock
):
    (message_id,) = _add_tasks(uow_factory, clock, SendEmail(EmailKind.COLLECT_CREATED, 1))
    start = clock.now()

    def claim(at: datetime) -> bool:
        with uow_factory() as uow:
            claimed = uow.outbox.claim(message_id, now=at, lease_seconds=60)
            uow.commit()
        return claimed

    assert claim(start) is True
    assert claim(start + timedelta(seconds=59)) is False
    assert claim(start + timedelta(seconds=60)) is True  # the lease ran out
    with uow_factory() as uow:
        uow.outbox.release(message_id)
        uow.commit()
    assert claim(start + timedelta(seconds=61)) is True  # released: free at once
    with uow_factory() as uow:
        uow.outbox.finish(message_id, now=start + timedelta(seconds=62))
        uow.commit()
    assert claim(start + timedelta(days=1)) is False  # finished: never again


def test_outbox_tells_until_when_another_worker_holds_a_message(
    uow_factory: UowFactory, clock: FixedClock
):
    held, buried = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.COLLECT_CREATED, n) for n in (1, 2))
    )
    start = clock.now()
    with uow_factory() as uow:
        uow.outbox.claim(held, now=start, lease_seconds=60)
        uow.outbox.claim(buried, now=start, lease_seconds=60)
        uow.outbox.bury(buried, now=start)
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.held_until(held, now=start) == start + timedelta(seconds=60)
        assert uow.outbox.held_until(held, now=start + timedelta(seconds=60)) is None
        assert uow.outbox.held_until(buried, now=start) is None
        assert uow.outbox.held_until(999_999, now=start) is None


def test_an_unknown_outbox_message_cannot_be_claimed(uow_factory: UowFactory):
    with uow_factory() as uow:
        assert uow.outbox.claim(999_999, now=NOW, lease_seconds=60) is False


def test_purge_forgets_only_messages_that_finished_before_the_cutoff_and_keeps_dead_letters(
    uow_factory: UowFactory, clock: FixedClock, engine: Engine
):
    old_finished, old_buried, new_finished, waiting, running = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.DONATION_THANKS, n) for n in range(5))
    )
    cutoff = NOW + timedelta(days=7)
    with uow_factory() as uow:
        uow.outbox.finish(old_finished, now=cutoff - timedelta(microseconds=1))
        uow.outbox.bury(old_buried, now=NOW)
        uow.outbox.finish(new_finished, now=cutoff)
        uow.outbox.claim(running, now=NOW, lease_seconds=60)
        uow.commit()

    with uow_factory() as uow:
        purged = uow.outbox.purge(finished_before=cutoff)
        uow.commit()

    assert purged == 1
    assert [row.id for row in _outbox_rows(engine)] == [old_buried, new_finished, waiting, running]


@pytest.mark.parametrize(
    ("task", "encoded"),
    [
        (
            SendEmail(EmailKind.INVITATION, 5, 9),
            {"type": "send_email", "kind": "invitation", "subject_id": 5, "recipient_id": 9},
        ),
        (
            SendEmail(EmailKind.REMINDER, 5, 10),
            {"type": "send_email", "kind": "reminder", "subject_id": 5, "recipient_id": 10},
        ),
        (
            SendEmail(EmailKind.DONATION_THANKS, 3),
            {"type": "send_email", "kind": "donation_thanks", "subject_id": 3},
        ),
        (
            ProcessCover(2, "covers/2.png"),
            {"type": "process_cover", "collect_id": 2, "source": "covers/2.png"},
        ),
    ],
)
def test_a_task_round_trips_through_its_json_form(task: Task, encoded: dict[str, Any]):
    assert encode_task(task) == encoded
    assert decode_task(encoded) == task


@pytest.mark.parametrize(
    ("data", "task"),
    [
        (  # written before invitations and reminders: no recipient at all
            {"type": "send_email", "kind": "collect_created", "subject_id": 1},
            SendEmail(EmailKind.COLLECT_CREATED, 1, None),
        ),
        (
            {"type": "send_email", "kind": "reminder", "subject_id": 4, "recipient_id": None},
            SendEmail(EmailKind.REMINDER, 4, None),
        ),
        (
            {"type": "send_email", "kind": "invitation", "subject_id": "4", "recipient_id": "7"},
            SendEmail(EmailKind.INVITATION, 4, 7),
        ),
    ],
)
def test_an_e_mail_task_without_a_recipient_still_decodes(data: dict[str, Any], task: Task):
    assert decode_task(data) == task


def test_an_e_mails_recipient_survives_the_outbox_table_and_old_rows_still_decode(
    uow_factory: UowFactory, clock: FixedClock, engine: Engine
):
    invitation = SendEmail(EmailKind.INVITATION, 5, 9)
    (added,) = _add_tasks(uow_factory, clock, invitation)
    old = {"type": "send_email", "kind": "donation_received", "subject_id": 8}
    with engine.begin() as connection:
        connection.execute(insert(outbox).values(task=old, created_at=clock.now()))

    with uow_factory() as uow:
        found = uow.outbox.due(created_before=FAR_AHEAD, relayed_before=NOW, now=NOW, limit=10)

    assert [message.task for message in found] == [
        invitation,
        SendEmail(EmailKind.DONATION_RECEIVED, 8),
    ]
    assert found[0].id == added
    stored = {row.id: row.task for row in _outbox_rows(engine)}
    assert stored[added] == {
        "type": "send_email",
        "kind": "invitation",
        "subject_id": 5,
        "recipient_id": 9,
    }


# --- for operators: the summary and the dead letters ---------------------------------------------


def _bury(uow_factory: UowFactory, *ids: int, now: datetime, lease_seconds: int = 0) -> None:
    """Bury these messages as a worker whose last attempt failed would: `lease_seconds` > 0
    leaves its claim on them (and a relay had published them at `now`)."""
    with uow_factory() as uow:
        uow.outbox.mark_relayed(list(ids), now=now)
        for message_id in ids:
            if lease_seconds:
                assert uow.outbox.claim(message_id, now=now, lease_seconds=lease_seconds)
            uow.outbox.bury(message_id, now=now)
        uow.commit()


def _dead_ids(uow_factory: UowFactory) -> list[int]:
    with uow_factory() as uow:
        return [letter.message.id for letter in uow.outbox.dead_letters(limit=100)]


def test_the_summary_counts_waiting_running_and_dead_messages(
    uow_factory: UowFactory, clock: FixedClock, engine: Engine
):
    with uow_factory() as uow:
        assert uow.outbox.summary(now=NOW) == OutboxSummary(0, None, 0, 0)
    finished, dead, _oldest_waiting, running, lease_ran_out, _fresh = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.DONATION_THANKS, n) for n in range(6))
    )
    now = clock.now()
    with uow_factory() as uow:
        uow.outbox.finish(finished, now=now)
        assert uow.outbox.claim(running, now=now, lease_seconds=60)
        assert uow.outbox.claim(lease_ran_out, now=NOW, lease_seconds=1)
        uow.commit()
    _bury(uow_factory, dead, now=now, lease_seconds=60)  # its claim is no run

    with uow_factory() as uow:
        summary = uow.outbox.summary(now=now)
        at_the_end_of_the_lease = uow.outbox.summary(now=now + timedelta(seconds=60))

    assert summary == OutboxSummary(
        waiting=4, oldest_waiting_since=NOW + timedelta(seconds=2), running=1, dead=1
    )
    assert summary.oldest_waiting_since is not None
    assert _is_utc_with_microseconds(summary.oldest_waiting_since, NOW + timedelta(seconds=2))
    assert at_the_end_of_the_lease.running == 0


def test_dead_letters_come_oldest_first_with_their_tasks_and_times(
    uow_factory: UowFactory, clock: FixedClock
):
    tasks: list[Task] = [
        ProcessCover(2, "covers/2.png"),
        SendEmail(EmailKind.COLLECT_CREATED, 1),
        SendEmail(EmailKind.INVITATION, 5, 9),
        SendEmail(EmailKind.REMINDER, 5, 10),
        SendEmail(EmailKind.DONATION_THANKS, 3),
    ]
    cover, live, invitation, finished, thanks = _add_tasks(uow_factory, clock, *tasks)
    deaths = {cover: NOW + timedelta(hours=1), invitation: NOW + timedelta(hours=2)}
    deaths[thanks] = NOW + timedelta(hours=3, microseconds=7)
    for message_id, dead_at in deaths.items():
        _bury(uow_factory, message_id, now=dead_at)
    with uow_factory() as uow:
        uow.outbox.finish(finished, now=NOW)
        uow.commit()

    with uow_factory() as uow:
        letters = uow.outbox.dead_letters(limit=10)
        first_two = uow.outbox.dead_letters(limit=2)

    created = {cover: NOW, invitation: NOW + timedelta(seconds=2)}
    created[thanks] = NOW + timedelta(seconds=4)
    assert letters == [
        DeadLetter(OutboxMessage(cover, tasks[0]), created[cover], deaths[cover]),
        DeadLetter(OutboxMessage(invitation, tasks[2]), created[invitation], deaths[invitation]),
        DeadLetter(OutboxMessage(thanks, tasks[4]), created[thanks], deaths[thanks]),
    ]
    for letter in letters:
        assert _is_utc_with_microseconds(letter.created_at, created[letter.message.id])
        assert _is_utc_with_microseconds(letter.dead_at, deaths[letter.message.id])
    assert first_two == letters[:2]
    assert live not in _dead_ids(uow_factory)


def test_reviving_dead_letters_makes_exactly_those_due_again(
    uow_factory: UowFactory, clock: FixedClock, engine: Engine
):
    first, second, third, live = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.DONATION_RECEIVED, n) for n in range(4))
    )
    now = clock.now()
    _bury(uow_factory, first, second, third, now=now, lease_seconds=3600)
    with uow_factory() as uow:
        uow.outbox.mark_relayed([live], now=now)
        uow.commit()
    recently = now - timedelta(minutes=15)
    assert _due(uow_factory, relayed_before=recently, now=now) == []
    live_before = next(row for row in _outbox_rows(engine) if row.id == live)

    with uow_factory() as uow:
        revived = uow.outbox.revive([first, third, live, 999_999])
        uow.commit()

    assert revived == 2
    assert _due(uow_factory, relayed_before=recently, now=now) == [first, third]
    rows = {row.id: row for row in _outbox_rows(engine)}
    for message_id in (first, third):
        row = rows[message_id]
        assert (row.dead_at, row.claimed_until, row.relayed_at, row.finished_at) == (None,) * 4
    assert rows[second].dead_at == now
    assert rows[second].claimed_until == now + timedelta(seconds=3600)
    assert rows[live] == live_before
    assert _dead_ids(uow_factory) == [second]


def test_reviving_all_dead_letters(uow_factory: UowFactory, clock: FixedClock):
    first, live, second = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.COLLECT_CREATED, n) for n in range(3))
    )
    now = clock.now()
    _bury(uow_factory, first, second, now=now, lease_seconds=60)

    with uow_factory() as uow:
        revived = uow.outbox.revive(None)
        uow.commit()
    with uow_factory() as uow:
        again = uow.outbox.revive(None)

    assert (revived, again) == (2, 0)
    assert _dead_ids(uow_factory) == []
    assert _due(uow_factory, relayed_before=now, now=now) == [first, live, second]


def test_dropping_deletes_only_dead_letters(
    uow_factory: UowFactory, clock: FixedClock, engine: Engine
):
    first, live, second, finished, third = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.DONATION_THANKS, n) for n in range(5))
    )
    now = clock.now()
    _bury(uow_factory, first, second, third, now=now)
    with uow_factory() as uow:
        uow.outbox.finish(finished, now=now)
        uow.commit()
    kept = {row.id: row for row in _outbox_rows(engine) if row.id in (live, finished)}

    with uow_factory() as uow:
        dropped = uow.outbox.drop([first, live, finished, 999_999])
        uow.commit()

    assert dropped == 1
    assert [row.id for row in _outbox_rows(engine)] == [live, second, finished, third]
    with uow_factory() as uow:
        dropped_all = uow.outbox.drop(None)
        uow.commit()
    assert dropped_all == 2
    assert {row.id: row for row in _outbox_rows(engine)} == kept


def test_purge_keeps_dead_letters_however_old_and_forgets_old_finished_messages(
    uow_factory: UowFactory, clock: FixedClock, engine: Engine
):
    old_dead, old_finished, new_finished = _add_tasks(
        uow_factory, clock, *(SendEmail(EmailKind.DONATION_THANKS, n) for n in range(3))
    )
    cutoff = NOW + timedelta(days=7)
    _bury(uow_factory, old_dead, now=NOW)
    with uow_factory() as uow:
        uow.outbox.finish(old_finished, now=NOW)
        uow.outbox.finish(new_finished, now=cutoff)
        uow.commit()

    with uow_factory() as uow:
        purged = uow.outbox.purge(finished_before=cutoff)
        uow.commit()

    assert purged == 1
    assert [row.id for row in _outbox_rows(engine)] == [old_dead, new_finished]
    assert _dead_ids(uow_factory) == [old_dead]
