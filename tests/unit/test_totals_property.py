"""Whatever donations arrive, a collect's counters equal what its completed payments say."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fundraising.application.errors import Conflict, ValidationFailed
from fundraising.application.ports.queries import Totals
from fundraising.application.use_cases.collects import CollectChange, CollectFields
from fundraising.application.use_cases.payments import Donation
from fundraising.domain.money import Money
from tests.unit.conftest import Core, new_core

AMOUNTS = ["1.00", "10", "10.00", "99.99", "150.00", "0.50", "10000000.00"]
CLOSED = 2  # the third collect is deactivated before any donation

donations = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # payer
        st.integers(min_value=0, max_value=2),  # collect
        st.sampled_from(AMOUNTS),
        st.integers(min_value=0, max_value=5),  # a small pool of transaction ids
    ),
    max_size=30,
)


def arrange(core: Core):
    author = core.user("author")
    payers = [core.user(name) for name in ("anna", "boris", "vera")]
    collects = [core.collect(author).collect.id for _ in range(3)]
    core.update_collect(CollectChange(collects[CLOSED], author.id, CollectFields(is_active=False)))
    return payers, collects


def actual_totals(core: Core, collect_id: int) -> Totals:
    payments = core.db.completed_payments(collect_id)
    return Totals(
        Money(sum((p.amount.amount for p in payments), Decimal(0))),
        len(payments),
        len({p.payer_id for p in payments}),
    )


def stored_totals(core: Core, collect_id: int) -> Totals:
    collect = core.db.collects[collect_id]
    return Totals(collect.collected, collect.donations_count, collect.donors_count)


def run(core: Core, steps) -> list[int]:
    """Donate each step, checking every answer against a model of what must happen."""
    payers, collects = arrange(core)
    used: dict[str, tuple[int, int, Money, int]] = {}
    for payer_index, collect_index, amount_text, txid_index in steps:
        payer, collect_id = payers[payer_index], collects[collect_index]
        amount, txid = Money.parse(amount_text), f"tx-{txid_index}"
        request = Donation(payer.id, collect_id, amount, txid)
        core.clock.advance(seconds=1)
        if amount < Money.of("1.00"):
            expected = ValidationFailed
        elif txid in used:
            expected = "replay" if used[txid][:3] == (payer.id, collect_id, amount) else Conflict
        else:
            expected = Conflict if collect_index == CLOSED else "new"
        if expected in (Conflict, ValidationFailed):
            with pytest.raises(expected):
                core.donate(request)
            continue
        result = core.donate(request)
        if expected == "replay":
            assert result.replayed
            assert result.payment.id == used[txid][3]
        else:
            assert expected == "new"
            assert not result.replayed
            used[txid] = (payer.id, collect_id, amount, result.payment.id)
    assert len(core.db.payments) == len(used)
    return collects


@settings(max_examples=75, deadline=None)
@given(donations)
def test_counters_equal_the_completed_payments(steps):
    core = new_core()
    collects = run(core, steps)
    for collect_id in collects:
        assert stored_totals(core, collect_id) == actual_totals(core, collect_id)
    assert stored_totals(core, collects[CLOSED]) == Totals(Money.zero(), 0, 0)


@settings(max_examples=75, deadline=None)
@given(donations)
def test_reconcile_finds_no_drift_after_any_donations(steps):
    core = new_core()
    run(core, steps)
    report = core.reconcile()
    assert list(report.drifts) == []
    assert not report.fixed


corruptions = st.tuples(
    st.integers(min_value=0, max_value=2),  # which collect
    st.integers(min_value=-5, max_value=5),  # cents added to collected_amount
    st.integers(min_value=-1, max_value=2),  # added to donations_count
    st.integers(min_value=-1, max_value=2),  # added to donors_count
).filter(lambda c: c[1:] != (0, 0, 0))


@settings(max_examples=75, deadline=None)
@given(donations, corruptions)
def test_reconcile_reports_and_repairs_corrupted_counters(steps, corruption):
    core = new_core()
    collects = run(core, steps)
    index, cents, donations_delta, donors_delta = corruption
    collect_id = collects[index]
    collect = core.db.collects[collect_id]
    truth = stored_totals(core, collect_id)
    corrupted = Totals(
        Money(abs(collect.collected.amount + Decimal(cents).scaleb(-2))),
        collect.donations_count + donations_delta,
        collect.donors_count + donors_delta,
    )
    collect.collected = corrupted.collected
    collect.donations_count, collect.donors_count = corrupted.donations, corrupted.donors
    assume(corrupted != truth)  # abs() can turn a corruption back into the truth
    core.cache.changed.clear()

    report = core.reconcile()
    assert [(d.collect_id, d.stored, d.actual) for d in report.drifts] == [
        (collect_id, corrupted, truth)
    ]
    assert not report.fixed
    assert stored_totals(core, collect_id) == corrupted
    assert core.cache.changed == []

    repaired = core.reconcile(fix=True)
    assert repaired.fixed
    assert stored_totals(core, collect_id) == truth
    assert core.cache.changed == [collect_id]
    assert list(core.reconcile().drifts) == []
