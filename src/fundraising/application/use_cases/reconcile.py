"""Reconciliation: recompute every collect's totals from its payments and report the drift."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from fundraising.application.ports.cache import Cache
from fundraising.application.ports.queries import Drift, TotalsAudit


@frozen
class ReconcileReport:
    drifts: Sequence[Drift]
    fixed: bool


@frozen
class Reconcile:
    audit: TotalsAudit
    cache: Cache

    def __call__(self, *, fix: bool = False) -> ReconcileReport:
        drifts = self.audit.drifts()
        if fix and drifts:
            self.audit.fix([drift.collect_id for drift in drifts])
            for drift in drifts:
                self.cache.collect_changed(drift.collect_id)
        return ReconcileReport(drifts, fixed=fix and bool(drifts))
