"""An administrator's moderation of collects: deactivate, block and unblock."""

from __future__ import annotations

import pytest

from fundraising.application.errors import NotFound, PermissionDenied, ValidationFailed
from fundraising.application.use_cases.collects import Moderation
from fundraising.domain.collect import CollectStatus
from fundraising.domain.errors import Conflict
from fundraising.domain.money import Money
from tests.unit.collect_use_case_helpers import CommitWitnessCache, change

# deactivate (an administrator's action)


def moderate(core):
    return core.moderate_collect


def deactivate(core):
    return lambda collect_id: moderate(core)(Moderation(collect_id, "deactivate"))


def test_an_administrator_deactivates_anyones_collect(core):
    ivan = core.user()
    created = core.collect(ivan, description="Keep me").collect
    core.give(core.user("olga"), created.id, "40.00")
    core.clock.advance(hours=1)
    core.cache = witness = CommitWitnessCache(core)
    deactivate(core)(created.id)
    view = core.get_collect(created.id).collect
    assert not view.is_active
    assert view.updated_at == core.clock.now()
    assert (view.title, view.description) == (created.title, "Keep me")
    assert view.collected_amount == Money.of("40.00")
    assert witness.changed == [created.id]
    assert witness.committed_when_changed == [True]


def test_a_deactivated_collect_refuses_new_donations(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    deactivate(core)(created.id)
    with pytest.raises(Conflict, match="inactive"):
        core.give(ivan, created.id)


def test_deactivating_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        deactivate(core)(999)
    assert core.cache.changed == []


# block and unblock (an administrator's decision the author cannot undo)


def block(core, collect_id: int, reason: str | None = "spam") -> None:
    moderate(core)(Moderation(collect_id, "block", reason))


def test_a_blocked_collect_refuses_donations_and_says_blocked(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    block(core, created.id)
    with pytest.raises(Conflict, match="blocked"):
        core.give(core.user("olga"), created.id)
    assert core.db.collects[created.id].status(core.clock.now()) is CollectStatus.BLOCKED
    assert core.get_collect(created.id).collect.blocked


def test_its_author_cannot_undo_a_block_by_reactivating_it(core):
    """`PATCH is_active: true` once undid an administrator's deactivation."""
    ivan = core.user()
    created = core.collect(ivan).collect
    block(core, created.id)
    for fields in ({"is_active": True}, {"title": "New"}, {}):
        with pytest.raises(Conflict, match="blocked"):
            change(core, created.id, ivan.id, **fields)
    assert core.db.collects[created.id].blocked_at is not None


def test_a_blocked_collect_still_answers_403_and_400_first(core):
    ivan, olga = core.user(), core.user("olga")
    created = core.collect(ivan).collect
    block(core, created.id)
    with pytest.raises(PermissionDenied):
        change(core, created.id, olga.id, title="Mine")
    with pytest.raises(ValidationFailed):
        change(core, created.id, ivan.id, title=" ")


def test_unblocking_gives_the_collect_back_as_it_was(core):
    ivan = core.user()
    created = core.collect(ivan).collect
    block(core, created.id)
    moderate(core)(Moderation(created.id, "unblock"))
    core.give(core.user("olga"), created.id, "10.00")
    change(core, created.id, ivan.id, title="Renamed")
    stored = core.db.collects[created.id]
    assert (stored.blocked_at, stored.block_reason, stored.title) == (None, None, "Renamed")
    assert stored.collected == Money.of("10.00")


def test_an_administrator_may_deactivate_a_blocked_collect(core):
    created = core.collect(core.user()).collect
    block(core, created.id)
    deactivate(core)(created.id)
    stored = core.db.collects[created.id]
    assert not stored.is_active
    assert stored.status(core.clock.now()) is CollectStatus.BLOCKED


def test_a_block_reason_is_bounded_and_kept(core):
    created = core.collect(core.user()).collect
    with pytest.raises(ValidationFailed):
        block(core, created.id, "x" * 501)
    block(core, created.id, "Сбор на чужую карту")
    assert core.db.collects[created.id].block_reason == "Сбор на чужую карту"


def test_blocking_a_missing_collect_is_not_found(core):
    with pytest.raises(NotFound):
        block(core, 999)
