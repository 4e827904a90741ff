"""The core wired to in-memory fakes: every use case, no I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import define

from fundraising.application.ports.tasks import ProcessCover, SendEmail
from fundraising.application.throttles import Limit
from fundraising.application.unit_of_work import AfterCommit
from fundraising.application.use_cases.auth import (
    Authenticate,
    GetCurrentUser,
    LogIn,
    RefreshAccess,
    RegisterUser,
    Registration,
    VerifyToken,
)
from fundraising.application.use_cases.collects import (
    CollectFields,
    CreateCollect,
    DeleteCollect,
    GetCollect,
    ListCollects,
    ListFeed,
    NewCollect,
    UpdateCollect,
)
from fundraising.application.use_cases.covers import Covers, ProcessCoverTask
from fundraising.application.use_cases.notifications import DeliverEmail
from fundraising.application.use_cases.outbox import RelayOutbox, RunTask
from fundraising.application.use_cases.payments import (
    Donate,
    Donation,
    GetPayment,
    ListMyPayments,
)
from fundraising.application.use_cases.reconcile import Reconcile
from fundraising.application.views import CollectDetail, UserView
from fundraising.domain.money import Money
from tests.fakes import (
    FakeCache,
    FakeCollectQueries,
    FakeDatabase,
    FakeFileStorage,
    FakeHasher,
    FakeIdentityRules,
    FakeImages,
    FakeMailer,
    FakePaymentQueries,
    FakeRateLimiter,
    FakeTaskQueue,
    FakeTokens,
    FakeTotalsAudit,
    FakeUnitOfWork,
    FixedClock,
)

RELAY_GRACE = timedelta(seconds=60)
LOGIN_LIMIT = Limit(10, 300)
REGISTRATION_LIMIT = Limit(20, 3600)


@define
class Core:
    """Every use case over one fake database, plus the fakes for assertions."""

    db: FakeDatabase
    clock: FixedClock
    cache: FakeCache
    queue: FakeTaskQueue
    storage: FakeFileStorage
    mailer: FakeMailer
    hasher: FakeHasher
    limiter: FakeRateLimiter
    uows: list[FakeUnitOfWork]

    def uow(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.db, self.queue, self.clock)
        self.uows.append(uow)
        return uow

    @property
    def covers(self) -> Covers:
        return Covers(self.storage, FakeImages())

    # write side
    @property
    def register(self) -> RegisterUser:
        return RegisterUser(
            self.uow,
            self.hasher,
            FakeIdentityRules(),
            self.limiter,
            REGISTRATION_LIMIT,
            self.clock,
        )

    @property
    def log_in(self) -> LogIn:
        return LogIn(self.uow, self.hasher, FakeTokens(), self.limiter, LOGIN_LIMIT)

    @property
    def refresh(self) -> RefreshAccess:
        return RefreshAccess(self.uow, FakeTokens())

    @property
    def verify(self) -> VerifyToken:
        return VerifyToken(FakeTokens())

    @property
    def authenticate(self) -> Authenticate:
        return Authenticate(FakeTokens())

    @property
    def current_user(self) -> GetCurrentUser:
        return GetCurrentUser(self.uow)

    @property
    def create_collect(self) -> CreateCollect:
        return CreateCollect(self.uow, self.covers, self.cache, self.clock)

    @property
    def update_collect(self) -> UpdateCollect:
        return UpdateCollect(
            self.uow, FakeCollectQueries(self.db), self.covers, self.cache, self.clock
        )

    @property
    def delete_collect(self) -> DeleteCollect:
        return DeleteCollect(self.uow, self.covers, self.cache)

    @property
    def get_collect(self) -> GetCollect:
        return GetCollect(FakeCollectQueries(self.db))

    @property
    def list_collects(self) -> ListCollects:
        return ListCollects(FakeCollectQueries(self.db))

    @property
    def list_feed(self) -> ListFeed:
        return ListFeed(FakeCollectQueries(self.db))

    @property
    def donate(self) -> Donate:
        return Donate(self.uow, self.cache, self.clock)

    @property
    def get_payment(self) -> GetPayment:
        return GetPayment(self.uow)

    @property
    def my_payments(self) -> ListMyPayments:
        return ListMyPayments(FakePaymentQueries(self.db))

    @property
    def process_cover(self) -> ProcessCoverTask:
        return ProcessCoverTask(self.uow, self.storage, FakeImages(), self.cache, self.clock)

    @property
    def deliver_email(self) -> DeliverEmail:
        return DeliverEmail(self.uow, self.mailer, lambda cid: f"http://test/collects/{cid}/")

    @property
    def run_task(self) -> RunTask:
        return RunTask(
            self.uow,
            {SendEmail: self.deliver_email, ProcessCover: self.process_cover},
            self.clock,
        )

    @property
    def relay(self) -> RelayOutbox:
        return RelayOutbox(self.uow, self.queue, self.clock, grace=RELAY_GRACE)

    @property
    def reconcile(self) -> Reconcile:
        return Reconcile(FakeTotalsAudit(self.db), self.cache)

    # helpers for arranging a test
    def user(self, username: str = "ivan", first_name: str = "", last_name: str = "") -> UserView:
        return self.register(
            Registration(
                username=username,
                email=f"{username}@example.com",
                password="correct horse battery",
                first_name=first_name,
                last_name=last_name,
            )
        )

    def collect(self, author: UserView, **fields: object) -> CollectDetail:
        values: dict[str, object] = {"title": "Birthday gift"}
        values.update(fields)
        return self.create_collect(NewCollect(author.id, CollectFields(**values)))  # type: ignore[arg-type]

    def give(
        self, payer: UserView, collect_id: int, amount: str = "100.00", txid: str | None = None
    ) -> object:
        return self.donate(
            Donation(
                payer_id=payer.id,
                collect_id=collect_id,
                amount=Money.of(amount),
                transaction_id=txid or f"tx-{len(self.db.payments) + 1}-{payer.id}",
            )
        )


def new_core() -> Core:
    """A core over a fresh fake database (also for each Hypothesis example, where a
    function-scoped fixture would be shared)."""
    clock = FixedClock()
    return Core(
        db=FakeDatabase(clock=clock),
        clock=clock,
        cache=FakeCache(),
        queue=FakeTaskQueue(),
        storage=FakeFileStorage(),
        mailer=FakeMailer(),
        hasher=FakeHasher(),
        limiter=FakeRateLimiter(),
        uows=[],
    )


@pytest.fixture
def core() -> Core:
    return new_core()


__all__ = ["RELAY_GRACE", "AfterCommit", "Core"]
