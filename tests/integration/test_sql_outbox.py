"""The SQL outbox on SQLite and MariaDB: due messages, exclusive claims, leases and purging; the
tasks' JSON form (an e-mail's recipient), old messages without it included."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from fundraising.adapters.sql.tables import outbox
from fundraising.adapters.task_codec import decode_task, encode_task
from fundraising.application.ports.tasks import EmailKind, ProcessCover, SendEmail, Task
from tests.fakes import FixedClock
from tests.integration.conftest import NOW, UowFactory
from tests.integration.sql_helpers import _outbox_rows

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


def test_purge_forgets_only_messages_that_ended_before_the_cutoff(
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

    assert purged == 2
    assert [row.id for row in _outbox_rows(engine)] == [new_finished, waiting, running]


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
