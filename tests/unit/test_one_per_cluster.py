"""Periodic jobs that one process of the cluster runs at a time (the outbox relay, the
lifecycle sweep): the holder of the lease runs them and renews it; another takes over only
once it has expired."""

from __future__ import annotations

from datetime import timedelta

from fundraising.application.use_cases.leases import OnePerCluster
from tests.unit.conftest import Core

LEASE = timedelta(seconds=15)


def test_only_the_holder_of_the_lease_runs_the_job_until_it_expires(core: Core) -> None:
    runs: list[str] = []

    def process(name: str) -> OnePerCluster:
        def job() -> int:
            runs.append(name)
            return 1

        return OnePerCluster("outbox-relay", job, core.uow, LEASE)

    first, second = process("first"), process("second")
    assert (first(), second()) == (1, 0)
    core.clock.advance(seconds=10)
    assert (second(), first()) == (0, 1)  # the holder renewed it: +10 s + 15 s
    core.clock.advance(seconds=10)
    assert second() == 0
    core.clock.advance(seconds=5)  # the first stopped renewing: expired now
    assert (second(), first()) == (1, 0)
    assert runs == ["first", "first", "second"]


def test_leases_of_other_jobs_do_not_interfere(core: Core) -> None:
    relay = OnePerCluster("outbox-relay", lambda: 1, core.uow, LEASE)
    sweep = OnePerCluster("lifecycle", lambda: 2, core.uow, LEASE)
    assert (relay(), sweep()) == (1, 2)


def test_a_process_that_stops_releases_its_lease_to_the_next_at_once(core: Core) -> None:
    first = OnePerCluster("outbox-relay", lambda: 1, core.uow, LEASE)
    second = OnePerCluster("outbox-relay", lambda: 2, core.uow, LEASE)
    assert (first(), second()) == (1, 0)
    second.release()  # not its lease: nothing changes
    assert second() == 0
    first.release()
    assert second() == 2
