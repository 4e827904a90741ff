"""What an operator sees of the outbox and does with its dead letters: a task whose retries ran
out is listed and counted, sent again by the next relay (and then runs), or dropped for good."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundraising.application.ports.tasks import EmailKind, OutboxMessage, SendEmail
from fundraising.application.ports.unit_of_work import DeadLetter, OutboxSummary
from fundraising.application.use_cases.outbox import InspectOutbox
from tests.unit.conftest import RELAY_GRACE, Core

PAST_GRACE = RELAY_GRACE + timedelta(seconds=1)


def inspect(core: Core) -> InspectOutbox:
    return core.container.inspect_outbox()  # type: ignore[no-any-return]


def dead_letter(core: Core) -> OutboxMessage:
    """A collect's e-mail whose every attempt failed (the SMTP server was down), relayed in
    between, until the worker gave it up; the queue starts empty, the clock past the grace."""
    detail = core.collect(core.user())
    (message,) = core.queue.published
    assert message.task == SendEmail(EmailKind.COLLECT_CREATED, detail.collect.id)
    core.mailer.failures_left = 2
    with pytest.raises(ConnectionRefusedError):
        core.run_task(message)
    core.clock.advance(seconds=PAST_GRACE.total_seconds())
    assert core.relay() == 1
    with pytest.raises(ConnectionRefusedError):
        core.run_task(message)
    core.run_task.give_up(message)
    core.queue.published.clear()
    return message


def test_a_task_whose_retries_ran_out_is_listed_and_counted_and_never_relayed(core):
    created = core.clock.now()
    message = dead_letter(core)
    died = core.clock.now()

    assert inspect(core).dead_letters() == [DeadLetter(message, created, died)]
    assert inspect(core).summary() == OutboxSummary(
        waiting=0, oldest_waiting_since=None, running=0, dead=1
    )
    core.clock.advance(days=30)
    assert core.relay() == 0
    assert core.queue.published == []
    assert inspect(core).dead_letters() == [DeadLetter(message, created, died)]


def test_the_summary_counts_tasks_waiting_and_running_apart_from_dead_letters(core):
    message = dead_letter(core)
    author = core.user("olga")
    core.queue.available = False  # two more e-mails wait for the relay
    waiting_since = core.clock.now()
    core.collect(author)
    core.clock.advance(seconds=5)
    core.collect(author)
    running = next(row for row in core.db.outbox.values() if row.created_at > waiting_since)
    with core.uow() as uow:
        assert uow.outbox.claim(running.message.id, now=core.clock.now(), lease_seconds=60)
        uow.commit()

    assert inspect(core).summary() == OutboxSummary(
        waiting=2, oldest_waiting_since=waiting_since, running=1, dead=1
    )
    assert [letter.message for letter in inspect(core).dead_letters()] == [message]


def test_a_retried_dead_letter_is_relayed_again_and_then_runs_once(core):
    message = dead_letter(core)
    created = core.db.outbox[message.id].created_at

    assert inspect(core).retry([message.id]) == 1

    assert inspect(core).dead_letters() == []
    assert inspect(core).summary() == OutboxSummary(
        waiting=1, oldest_waiting_since=created, running=0, dead=0
    )
    assert core.relay() == 1
    assert core.queue.published == [message]
    core.run_task(message)
    core.run_task(message)  # delivered twice, it runs once
    (sent,) = core.mailer.sent
    assert sent.kind is EmailKind.COLLECT_CREATED
    assert core.db.outbox[message.id].finished_at == core.clock.now()
    assert inspect(core).summary() == OutboxSummary(0, None, 0, 0)
    core.clock.advance(days=1)
    assert core.relay() == 0


def test_retrying_names_only_dead_letters(core):
    message = dead_letter(core)
    core.queue.available = False
    core.collect(core.user("olga"))
    live = max(core.db.outbox)

    assert inspect(core).retry([live, 999_999]) == 0
    assert [letter.message for letter in inspect(core).dead_letters()] == [message]
    assert inspect(core).retry(None) == 1
    assert inspect(core).dead_letters() == []


def test_a_dropped_dead_letter_is_gone_and_the_relay_publishes_nothing(core):
    message = dead_letter(core)

    assert inspect(core).drop([message.id]) == 1

    assert message.id not in core.db.outbox
    assert inspect(core).dead_letters() == []
    assert inspect(core).summary() == OutboxSummary(0, None, 0, 0)
    core.clock.advance(days=1)
    assert core.relay() == 0
    assert core.queue.published == []
    assert inspect(core).retry([message.id]) == 0


def test_dropping_all_dead_letters_leaves_the_live_tasks(core):
    dead_letter(core)
    core.queue.available = False
    core.collect(core.user("olga"))
    live = max(core.db.outbox)

    assert inspect(core).drop([live]) == 0
    assert inspect(core).drop(None) == 1

    assert list(core.db.outbox) == [live]
    core.queue.available = True
    core.clock.advance(seconds=PAST_GRACE.total_seconds())
    assert core.relay() == 1
    assert [published.id for published in core.queue.published] == [live]
