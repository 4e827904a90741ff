"""Leases on SQLite and MariaDB, timed by the database's clock: one holder at a time, renewed
by it, taken over once expired; two processes starting at once run a job once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from fundraising.application.use_cases.leases import OnePerCluster
from tests.integration.conftest import UowFactory

SHORT = 0.6  # seconds: long enough to hold across a few statements, short enough to wait out


def _take(
    uow_factory: UowFactory, holder: str, name: str = "relay", seconds: float = SHORT
) -> bool:
    with uow_factory() as uow:
        taken = uow.leases.take(name, holder, seconds=seconds)
        uow.commit()
    return taken


def test_a_lease_has_one_holder_until_it_expires(uow_factory: UowFactory):
    assert _take(uow_factory, "a") is True  # the first holder
    assert _take(uow_factory, "b") is False
    assert _take(uow_factory, "a") is True  # renewed
    assert _take(uow_factory, "a", name="sweep") is True  # another lease, its own holder
    time.sleep(SHORT + 0.2)
    assert _take(uow_factory, "b", seconds=60) is True  # expired: taken over
    assert _take(uow_factory, "a") is False
    assert _take(uow_factory, "b", seconds=60) is True


def test_a_lease_taken_in_a_transaction_that_rolls_back_is_not_held(uow_factory: UowFactory):
    with uow_factory() as uow:
        assert uow.leases.take("relay", "a", seconds=60)
    assert _take(uow_factory, "b") is True


def test_two_processes_starting_at_once_run_the_job_once(uow_factory: UowFactory):
    """Both find no lease yet and insert it: one insert wins, the other is told so."""
    runs: list[int] = []
    barrier = threading.Barrier(2)

    def process(number: int) -> None:
        def job() -> int:
            runs.append(number)
            return 1

        exclusive = OnePerCluster("relay", job, uow_factory, timedelta(seconds=60))
        barrier.wait()
        exclusive()

    threads = [threading.Thread(target=process, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(runs) == 1, runs


def test_only_its_holder_releases_a_lease(uow_factory: UowFactory):
    assert _take(uow_factory, "a", seconds=60) is True
    with uow_factory() as uow:
        uow.leases.release("relay", "b")
        uow.commit()
    assert _take(uow_factory, "b", seconds=60) is False
    with uow_factory() as uow:
        uow.leases.release("relay", "a")
        uow.commit()
    assert _take(uow_factory, "b", seconds=60) is True
