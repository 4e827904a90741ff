"""The SQL unit of work on SQLite and MariaDB: rollback, effects after commit, the relay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from fundraising.adapters.sql.tables import collects
from fundraising.application.ports.tasks import EmailKind, ProcessCover, SendEmail
from fundraising.application.use_cases.outbox import RELAY_AGAIN_AFTER, RelayOutbox
from tests.fakes import FakeTaskQueue, FixedClock
from tests.integration.conftest import NOW, Rows, UowFactory
from tests.integration.sql_helpers import _outbox_rows, _user_like


def test_leaving_without_commit_rolls_everything_back(
    rows: Rows, uow_factory: UowFactory, task_queue: FakeTaskQueue, engine: Engine
):
    collect = rows.collect(rows.user())
    template = rows.user()
    with uow_factory() as uow:
        user = uow.users.add(_user_like(template, username="ghost", email="ghost@example.com"))
        uow.collects.delete(collect.id)
        uow.enqueue(SendEmail(EmailKind.COLLECT_CREATED, 1), now=NOW)

    with uow_factory() as uow:
        assert uow.users.get(user.id) is None
        assert uow.users.by_login("ghost") is None
        assert uow.collects.get(collect.id) is not None
    assert task_queue.published == []
    assert _outbox_rows(engine) == []


def test_an_error_inside_rolls_back(rows: Rows, uow_factory: UowFactory):
    template = rows.user()

    def fail_halfway() -> None:
        with uow_factory() as uow:
            uow.users.add(_user_like(template, username="ghost", email="ghost@example.com"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_halfway()

    with uow_factory() as uow:
        assert uow.users.by_login("ghost") is None


def test_after_commit_effects_run_only_after_the_commit(rows: Rows, uow_factory: UowFactory):
    template = rows.user()
    seen: list[bool] = []

    def effect() -> None:
        with uow_factory() as other:  # another connection: sees only what was committed
            seen.append(other.users.by_login("committed") is not None)

    with uow_factory() as uow:
        uow.users.add(_user_like(template, username="committed", email="c@example.com"))
        uow.after_commit(effect)
        assert seen == []
        uow.commit()
    with uow_factory() as uow:
        uow.users.add(_user_like(template, username="rolled-back", email="r@example.com"))
        uow.after_commit(lambda: seen.append(False))

    assert seen == [True]


def test_an_enqueued_task_is_published_after_the_commit(
    uow_factory: UowFactory, task_queue: FakeTaskQueue, engine: Engine
):
    task = SendEmail(EmailKind.COLLECT_CREATED, 7)
    with uow_factory() as uow:
        message = uow.outbox.add(ProcessCover(1, "not-enqueued.png"), now=NOW)  # not published
        uow.enqueue(task, now=NOW)
        assert task_queue.published == []
        uow.commit()

    assert task_queue.tasks == [task]
    stored = _outbox_rows(engine)
    assert [row.id for row in stored] == [message.id, task_queue.published[0].id]
    assert all(row.relayed_at is None and row.finished_at is None for row in stored)


def test_the_relay_publishes_what_the_queue_refused_and_again_what_never_ran(
    uow_factory: UowFactory, task_queue: FakeTaskQueue, engine: Engine, clock: FixedClock
):
    task = ProcessCover(3, "covers/3.png")
    task_queue.available = False
    with uow_factory() as uow:
        uow.enqueue(task, now=NOW)
        uow.commit()
    assert task_queue.published == []
    relay = RelayOutbox(uow_factory, task_queue, clock, grace=timedelta(seconds=10))
    task_queue.available = True

    assert relay() == 0  # within the grace the committing process may still publish it
    clock.advance(seconds=11)
    assert relay() == 1
    assert task_queue.tasks == [task]
    (row,) = _outbox_rows(engine)
    assert row.relayed_at == clock.now()
    assert relay() == 0  # relayed just now: the worker gets time to run it

    clock.advance(seconds=RELAY_AGAIN_AFTER.total_seconds() + 1)
    assert relay() == 1  # still not finished: the broker lost it, publish it again
    with uow_factory() as uow:
        uow.outbox.finish(row.id, now=clock.now())
        uow.commit()
    clock.advance(seconds=RELAY_AGAIN_AFTER.total_seconds() + 1)
    assert relay() == 0
    assert task_queue.tasks == [task, task]


def test_a_write_outside_the_repositories_is_seen_by_the_next_unit_of_work(
    rows: Rows, uow_factory: UowFactory, engine: Engine
):
    """The repositories read the database, not a stale identity map."""
    collect = rows.collect(rows.user(), title="Before")
    with uow_factory() as uow:
        assert uow.collects.get(collect.id).title == "Before"
    with engine.begin() as connection:
        connection.execute(
            update(collects).where(collects.c.id == collect.id).values(title="After")
        )
    with uow_factory() as uow:
        assert uow.collects.get(collect.id).title == "After"
