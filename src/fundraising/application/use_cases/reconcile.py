"""Reconciliation: recompute every collect's totals from its payments and report the drift."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from fundraising.application.ports.queries import Drift, TotalsAudit
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import retrying_transaction


@frozen
class ReconcileReport:
    drifts: Sequence[Drift]
    fixed: bool


@frozen
class Reconcile:
    audit: TotalsAudit
    uow_factory: UnitOfWorkFactory

    def __call__(self, *, fix: bool = False) -> ReconcileReport:
        drifts = self.audit.drifts()
        if fix and drifts:

            def recount(uow: UnitOfWork) -> None:
                uow.collects.recount([drift.collect_id for drift in drifts])
                uow.commit()

            retrying_transaction(self.uow_factory, recount)
        return ReconcileReport(drifts, fixed=fix and bool(drifts))
