"""Jobs that one process of the cluster runs at a time, whatever the number of workers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from attrs import field, frozen

from fundraising.application.ports.unit_of_work import UnitOfWorkFactory


@frozen
class OnePerCluster:
    """Run `job` only while this process holds the lease `name`: each run renews it, and
    another process takes it over once it expires (its holder died or stopped). Two holders
    at once, should a run outlast its lease, do no harm: the jobs claim what they do."""

    name: str
    job: Callable[[], int]
    uow_factory: UnitOfWorkFactory
    lease: timedelta
    holder: str = field(factory=lambda: uuid.uuid4().hex)

    def __call__(self) -> int:
        with self.uow_factory() as uow:
            held = uow.leases.take(self.name, self.holder, seconds=self.lease.total_seconds())
            uow.commit()
        return self.job() if held else 0

    def release(self) -> None:
        """This process stops: another may take the lease at once, not when it expires."""
        with self.uow_factory() as uow:
            uow.leases.release(self.name, self.holder)
            uow.commit()
