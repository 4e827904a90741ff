"""What the collect use case tests share: a cache that sees commits, an actor's change."""

from __future__ import annotations

from fundraising.application.use_cases.collects import CollectChange, CollectFields
from tests.fakes import FakeCache


class CommitWitnessCache(FakeCache):
    def __init__(self, core) -> None:
        super().__init__()
        self.core = core
        self.committed_when_changed: list[bool] = []

    def collect_changed(self, collect_id: int) -> None:
        self.committed_when_changed.append(self.core.uows[-1].committed)
        super().collect_changed(collect_id)


def change(core, collect_id: int, actor_id: int, **fields: object):
    return core.update_collect(CollectChange(collect_id, actor_id, CollectFields(**fields)))
