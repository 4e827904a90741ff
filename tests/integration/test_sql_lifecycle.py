"""The lifecycle e-mails on MariaDB and SQLite: each milestone announced once per collect,
to the right people, also with two workers sweeping at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from fundraising.application.ports.tasks import EmailKind, SendEmail
from fundraising.application.use_cases.lifecycle import LifecycleSweep
from fundraising.domain.collect import Collect
from fundraising.domain.membership import Member, Role
from fundraising.domain.money import Money
from tests.fakes import FakeLinks, FakeTaskQueue, FixedClock
from tests.integration.conftest import Rows, UowFactory


def _members(uow_factory: UowFactory, collect: Collect, *roles: tuple[int, Role]) -> None:
    with uow_factory() as uow:
        for user_id, role in roles:
            uow.members.add(Member(collect.id or 0, user_id, role, collect.created_at))
        uow.commit()


def _mailed(task_queue: FakeTaskQueue) -> list[tuple[EmailKind, int, int | None]]:
    return sorted(
        (task.kind, task.subject_id, task.recipient_id)
        for task in task_queue.tasks
        if isinstance(task, SendEmail)
    )


@pytest.fixture
def sweep(uow_factory: UowFactory, clock: FixedClock) -> LifecycleSweep:
    return LifecycleSweep(uow_factory, FakeLinks(), clock)


def test_each_milestone_is_mailed_once_to_the_right_people(
    rows: Rows,
    uow_factory: UowFactory,
    clock: FixedClock,
    task_queue: FakeTaskQueue,
    sweep: LifecycleSweep,
):
    author, organiser, payer, idle = (rows.user() for _ in range(4))
    ids = [user.id or 0 for user in (author, organiser, payer, idle)]
    now = clock.now()
    gift = rows.collect(author, goal=Money.of("100.00"), end_date=now + timedelta(hours=30))
    _members(
        uow_factory,
        gift,
        (ids[0], Role.AUTHOR),
        (ids[1], Role.ORGANISER),
        (ids[2], Role.PARTICIPANT),
        (ids[3], Role.PARTICIPANT),
    )
    assert sweep() == 0
    rows.donation(gift, payer, "100.00")

    assert sweep() == 1  # the goal
    assert sweep() == 0
    clock.advance(hours=7)
    assert sweep() == 1  # within a day of the end
    clock.advance(hours=24)
    assert (sweep(), sweep()) == (1, 0)  # ended

    g = gift.id or 0
    assert _mailed(task_queue) == sorted(
        [
            (EmailKind.GOAL_REACHED, g, ids[0]),
            (EmailKind.GOAL_REACHED, g, ids[1]),
            (EmailKind.ENDING_SOON, g, ids[0]),  # the author paid nothing either
            (EmailKind.ENDING_SOON, g, ids[1]),
            (EmailKind.ENDING_SOON, g, ids[3]),
            (EmailKind.COLLECT_ENDED, g, ids[0]),
        ]
    )


def test_two_workers_sweeping_at_once_announce_each_milestone_once(
    rows: Rows, uow_factory: UowFactory, clock: FixedClock, task_queue: FakeTaskQueue
):
    author = rows.user()
    collects = [rows.collect(author, is_active=False) for _ in range(30)]
    for collect in collects:
        _members(uow_factory, collect, (author.id or 0, Role.AUTHOR))
    workers = [LifecycleSweep(uow_factory, FakeLinks(), clock, batch=50) for _ in range(2)]
    start = threading.Barrier(len(workers))

    def run(worker: LifecycleSweep) -> int:
        start.wait()
        return worker()

    with ThreadPoolExecutor(len(workers)) as pool:
        announced = list(pool.map(run, workers))

    assert sum(announced) == 30
    ended = [(kind, subject) for kind, subject, _ in _mailed(task_queue)]
    assert ended == sorted((EmailKind.COLLECT_ENDED, c.id or 0) for c in collects)
    assert sum(worker() for worker in workers) == 0
