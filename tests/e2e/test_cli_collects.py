"""`fundraising deactivate-collect`, `block-collect`, `unblock-collect`, `refund` and
`reconcile`."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.cli_helpers import (
    Cli,
    assert_ok,
    assert_one_line_failure,
    database,
    generate,
)
from tests.e2e.conftest import work_dir


def test_deactivate_collect(database_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    generate(cli.settings(), collects=4)
    with database(database_url) as db:
        before = {row[0]: bool(row[1]) for row in db.rows("SELECT id, is_active FROM collects")}
    target = min(before)
    done, unknown = (
        cli.run("deactivate-collect", str(target)),
        cli.run("deactivate-collect", "999999"),
    )
    assert f"collect {target} deactivated" in assert_ok(done).stdout
    assert_one_line_failure(unknown, "no collect")
    with database(database_url) as db:
        after = {row[0]: bool(row[1]) for row in db.rows("SELECT id, is_active FROM collects")}
    assert after == {**before, target: False}


def test_block_and_unblock_collect(database_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    generate(cli.settings(), collects=2)
    with database(database_url) as db:
        target = min(row[0] for row in db.rows("SELECT id FROM collects"))
    blocked = cli.run("block-collect", str(target), "--reason", "Сбор на чужую карту")
    unknown = cli.run("unblock-collect", "999999")
    assert f"collect {target} blocked" in assert_ok(blocked).stdout
    assert_one_line_failure(unknown, "no collect")
    with database(database_url) as db:
        [(blocked_at, reason)] = db.rows(
            "SELECT blocked_at, block_reason FROM collects WHERE id = :id", id=target
        )
        assert blocked_at is not None and reason == "Сбор на чужую карту"
        assert db.scalar("SELECT COUNT(*) FROM collects WHERE blocked_at IS NOT NULL") == 1

    assert (
        f"collect {target} unblocked" in assert_ok(cli.run("unblock-collect", str(target))).stdout
    )
    with database(database_url) as db:
        assert db.scalar("SELECT COUNT(*) FROM collects WHERE blocked_at IS NOT NULL") == 0


def test_refund_for_support(database_url: str, tmp_path: Path) -> None:
    """An administrator's refund reverses the totals exactly; again, it changes nothing."""
    cli = Cli(work_dir(tmp_path), database_url)
    generate(cli.settings(), collects=2, payments=20)
    with database(database_url) as db:
        [(payment_id, collect_id, amount)] = db.rows(
            "SELECT id, collect_id, amount_kopecks FROM payments WHERE status = 'completed' "
            "ORDER BY id LIMIT 1"
        )
        before = db.stored_totals()[collect_id]

    done = cli.run("refund", str(payment_id), "--reason", "Ошибка в сумме")
    again, unknown = cli.run("refund", str(payment_id)), cli.run("refund", "999999")

    assert f"payment {payment_id} refunded" in assert_ok(done).stdout
    assert_ok(again)
    assert_one_line_failure(unknown, "no payment")
    with database(database_url) as db:
        [(status, reason)] = db.rows(
            "SELECT status, refund_reason FROM payments WHERE id = :id", id=payment_id
        )
        assert (status, reason) == ("refunded", "Ошибка в сумме")
        after = db.stored_totals()[collect_id]
        assert after[0] == before[0] - amount and after[1] == before[1] - 1
        assert db.stored_totals() == db.actual_totals()


def _corrupt_one_collect(url: str) -> tuple[int, tuple[int, int, int], tuple[int, int, int]]:
    """Add 123.45 and 3 donations to the busiest collect's counters: (id, stored, actual)."""
    with database(url) as db:
        actual = db.actual_totals()
        target = max(actual, key=lambda collect_id: actual[collect_id][1])
        db.execute(
            "UPDATE collects SET collected_kopecks = collected_kopecks + 12345, "
            "donations_count = donations_count + 3 WHERE id = :id",
            id=target,
        )
        stored = db.stored_totals()[target]
    return target, stored, actual[target]


def _roubles(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def test_reconcile_prints_the_drift_and_fix_repairs_it(database_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), database_url)
    generate(cli.settings(), collects=5, payments=200)
    target, stored, actual = _corrupt_one_collect(database_url)

    drifted = cli.run("reconcile")
    assert "Traceback" not in drifted.output, drifted.describe()
    assert "no drift" not in drifted.stdout
    assert re.search(rf"\b{target}\b", drifted.stdout), drifted.describe()
    assert _roubles(stored[0]) in drifted.stdout, drifted.describe()
    assert _roubles(actual[0]) in drifted.stdout, drifted.describe()
    assert str(stored[1]) in drifted.stdout and str(actual[1]) in drifted.stdout
    assert "--fix" in drifted.stdout, "the report says how to repair the drift"
    with database(database_url) as db:
        assert db.stored_totals()[target] == stored, "reconcile without --fix changes nothing"

    fixed = assert_ok(cli.run("reconcile", "--fix"))
    assert "fixed 1" in fixed.stdout
    with database(database_url) as db:
        assert db.stored_totals() == db.actual_totals()

    again = assert_ok(cli.run("reconcile"))
    assert "no drift" in again.stdout


def test_reconcile_exits_1_while_drift_is_left_unfixed(sqlite_url: str, tmp_path: Path) -> None:
    cli = Cli(work_dir(tmp_path), sqlite_url)
    generate(cli.settings(), collects=2, payments=30)
    _corrupt_one_collect(sqlite_url)
    result = cli.run("reconcile")
    assert result.code == 1, result.describe()
