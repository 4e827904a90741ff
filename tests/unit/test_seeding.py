"""Generating test data through the seeding ports: sizes, uniqueness and consistent totals."""

from __future__ import annotations

import random

from fundraising.application.use_cases.seeding import BATCH, GenerateTestData, SeedRequest
from tests.fakes import FakeTotalsAudit
from tests.fakes_seeding import FakeBulkLoader, FakeSeedSource, RecordedProgress
from tests.unit.conftest import Core


def generate(core: Core, loader: FakeBulkLoader, **sizes: int) -> object:
    use_case = GenerateTestData(loader, core.hasher, core.clock)
    progress = RecordedProgress()
    summary = use_case(SeedRequest(**sizes), FakeSeedSource(), random.Random(1), progress)
    return summary, progress


def test_the_requested_numbers_of_rows_are_made(core: Core) -> None:
    loader = FakeBulkLoader(core.db)
    summary, progress = generate(core, loader, users=7, collects=4, payments=50)
    assert (summary.users, summary.collects, summary.payments) == (7, 4, 50)
    assert len(core.db.users) == 7
    assert len(core.db.collects) == 4
    assert len(core.db.payments) == 50
    assert progress.stages == {"users": [7, 7], "collects": [4, 4], "payments": [50, 50]}


def test_totals_count_completed_payments_only_so_nothing_drifts(core: Core) -> None:
    generate(core, FakeBulkLoader(core.db), users=5, collects=3, payments=200)
    assert FakeTotalsAudit(core.db).drifts() == []
    assert any(c.donations_count < 200 for c in core.db.collects.values())


def test_usernames_and_emails_stay_unique_also_against_existing_users(core: Core) -> None:
    core.user("person1")
    generate(core, FakeBulkLoader(core.db), users=12, collects=1, payments=0)
    names = [user.username for user in core.db.users.values()]
    emails = [user.email for user in core.db.users.values()]
    assert len(names) == len(set(names)) == 13
    assert len(emails) == len(set(emails))


def test_users_share_one_password_hash_and_joined_before_the_history(core: Core) -> None:
    loader = FakeBulkLoader(core.db)
    generate(core, loader, users=3, collects=1, payments=0)
    assert {u.password_hash for u in core.db.users.values()} == {"hashed:testpassword"}
    assert loader.joined == [FakeSeedSource().history_start(core.clock.now())]


def test_payments_go_in_batches_with_fresh_transaction_ids(core: Core) -> None:
    generate(core, FakeBulkLoader(core.db), users=2, collects=2, payments=BATCH + 3)
    txids = [p.transaction_id for p in core.db.payments.values()]
    assert len(txids) == len(set(txids)) == BATCH + 3
