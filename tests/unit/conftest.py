"""The core as the service wires it (the real `Container`), its edges swapped for in-memory
fakes with provider overrides: every use case, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from attrs import define, field
from dependency_injector import providers

from fundraising.application.pagination import PageRequest
from fundraising.application.ports.queries import CollectFilter
from fundraising.application.throttles import Limit
from fundraising.application.use_cases.accounts import (
    ActivateAccount,
    ConfirmPasswordReset,
    DeleteAccount,
    SendAccountEmail,
    SetPassword,
    SetUserActive,
    UpdateProfile,
)
from fundraising.application.use_cases.auth import (
    Authenticate,
    CheckAccount,
    GetCurrentUser,
    LogIn,
    LogOut,
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
    ListFeed,
    ModerateCollect,
    NewCollect,
    UpdateCollect,
)
from fundraising.application.use_cases.covers import Covers, ProcessCoverTask
from fundraising.application.use_cases.membership import (
    GetShareKey,
    JoinCollect,
    ListParticipants,
    RotateShareKey,
)
from fundraising.application.use_cases.notifications import DeliverEmail
from fundraising.application.use_cases.outbox import RelayOutbox, RunTask
from fundraising.application.use_cases.payments import (
    Donate,
    Donation,
    GetPayment,
    ListMyPayments,
)
from fundraising.application.use_cases.reconcile import Reconcile
from fundraising.application.views import (
    CollectDetail,
    CollectView,
    FeedEntry,
    Page,
    UserView,
    Visible,
)
from fundraising.container import Container
from fundraising.domain.money import Money
from fundraising.settings import Settings
from tests.fakes import (
    FakeAccountTokens,
    FakeCache,
    FakeCollectQueries,
    FakeDatabase,
    FakeFileStorage,
    FakeHasher,
    FakeIdentityRules,
    FakeImages,
    FakeLinks,
    FakeMailer,
    FakeMeter,
    FakePaymentQueries,
    FakeRateLimiter,
    FakeTaskQueue,
    FakeTokens,
    FakeTotalsAudit,
    FakeUnitOfWork,
    FakeWebhookQueries,
    FakeWebhookTransport,
    FixedClock,
)

OUTSIDER = 10**9  # a user id no test creates: someone who takes part in nothing

# The defaults of the settings, which the container turns into these.
RELAY_GRACE = timedelta(seconds=60)
LOGIN_LIMIT = Limit(10, 300)
REGISTRATION_LIMIT = Limit(20, 3600)


def _swapped(core: Core, attribute: Any, value: Any) -> Any:
    """A fake assigned to the core replaces the old one in every use case built from now on."""
    if hasattr(core, "container"):
        core.container.reset_singletons()
    return value


@define(on_setattr=_swapped)
class Core:
    """Every use case of the container over one fake database, and the fakes for assertions.

    `core.storage = Witness()` swaps a fake in: the container's providers read these
    attributes whenever they build something.
    """

    db: FakeDatabase
    clock: FixedClock
    cache: FakeCache
    queue: FakeTaskQueue
    storage: FakeFileStorage
    mailer: FakeMailer
    hasher: FakeHasher
    limiter: FakeRateLimiter
    tokens: FakeTokens
    uows: list[FakeUnitOfWork]
    webhooks: FakeWebhookTransport
    meter: FakeMeter
    container: Container = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.container = _wired(self)

    def uow(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.db, self.queue, self.cache)
        self.uows.append(uow)
        return uow

    # the use cases, as the container builds them
    @property
    def covers(self) -> Covers:
        return self.container.covers()  # type: ignore[no-any-return]

    @property
    def register(self) -> RegisterUser:
        return self.container.register_user()  # type: ignore[no-any-return]

    @property
    def log_in(self) -> LogIn:
        return self.container.log_in()  # type: ignore[no-any-return]

    @property
    def refresh(self) -> RefreshAccess:
        return self.container.refresh_access()  # type: ignore[no-any-return]

    @property
    def verify(self) -> VerifyToken:
        return self.container.verify_token()  # type: ignore[no-any-return]

    @property
    def authenticate(self) -> Authenticate:
        return self.container.authenticate()  # type: ignore[no-any-return]

    @property
    def current_user(self) -> GetCurrentUser:
        return self.container.current_user()  # type: ignore[no-any-return]

    @property
    def log_out(self) -> LogOut:
        return self.container.log_out()  # type: ignore[no-any-return]

    @property
    def check_account(self) -> CheckAccount:
        return self.container.check_account()  # type: ignore[no-any-return]

    @property
    def activate_account(self) -> ActivateAccount:
        return self.container.activate_account()  # type: ignore[no-any-return]

    @property
    def resend_activation(self) -> SendAccountEmail:
        return self.container.resend_activation()  # type: ignore[no-any-return]

    @property
    def reset_password(self) -> SendAccountEmail:
        return self.container.reset_password()  # type: ignore[no-any-return]

    @property
    def confirm_password_reset(self) -> ConfirmPasswordReset:
        return self.container.confirm_password_reset()  # type: ignore[no-any-return]

    @property
    def set_password(self) -> SetPassword:
        return self.container.set_password()  # type: ignore[no-any-return]

    @property
    def update_profile(self) -> UpdateProfile:
        return self.container.update_profile()  # type: ignore[no-any-return]

    @property
    def delete_account(self) -> DeleteAccount:
        return self.container.delete_account()  # type: ignore[no-any-return]

    @property
    def set_user_active(self) -> SetUserActive:
        return self.container.set_user_active()  # type: ignore[no-any-return]

    @property
    def create_collect(self) -> CreateCollect:
        return self.container.create_collect()  # type: ignore[no-any-return]

    @property
    def update_collect(self) -> UpdateCollect:
        return self.container.update_collect()  # type: ignore[no-any-return]

    @property
    def delete_collect(self) -> DeleteCollect:
        return self.container.delete_collect()  # type: ignore[no-any-return]

    @property
    def moderate_collect(self) -> ModerateCollect:
        return self.container.moderate_collect()  # type: ignore[no-any-return]

    @property
    def get_visible_collect(self) -> GetCollect:
        return self.container.get_collect()  # type: ignore[no-any-return]

    def get_collect(self, collect_id: int, viewer_id: int = OUTSIDER) -> CollectDetail:
        """The detail as a viewer sees it (by default someone who is not a member)."""
        return self.get_visible_collect(collect_id, viewer_id).value

    def list_collects(self, filters: CollectFilter, page: PageRequest) -> Page[CollectView]:
        found: Visible[Page[CollectView]] = self.container.list_collects()(filters, page)
        return found.value

    @property
    def list_visible_feed(self) -> ListFeed:
        return self.container.list_feed()  # type: ignore[no-any-return]

    def list_feed(
        self, collect_id: int, page: PageRequest, viewer_id: int = OUTSIDER
    ) -> Page[FeedEntry]:
        return self.list_visible_feed(collect_id, viewer_id, page).value

    @property
    def join_collect(self) -> JoinCollect:
        return self.container.join_collect()  # type: ignore[no-any-return]

    @property
    def list_participants(self) -> ListParticipants:
        return self.container.list_participants()  # type: ignore[no-any-return]

    @property
    def get_share_key(self) -> GetShareKey:
        return self.container.get_share_key()  # type: ignore[no-any-return]

    @property
    def rotate_share_key(self) -> RotateShareKey:
        return self.container.rotate_share_key()  # type: ignore[no-any-return]

    @property
    def donate(self) -> Donate:
        return self.container.donate()  # type: ignore[no-any-return]

    @property
    def get_payment(self) -> GetPayment:
        return self.container.get_payment()  # type: ignore[no-any-return]

    @property
    def my_payments(self) -> ListMyPayments:
        return self.container.my_payments()  # type: ignore[no-any-return]

    @property
    def process_cover(self) -> ProcessCoverTask:
        return self.container.process_cover()  # type: ignore[no-any-return]

    @property
    def deliver_email(self) -> DeliverEmail:
        return self.container.deliver_email()  # type: ignore[no-any-return]

    @property
    def run_task(self) -> RunTask:
        return self.container.run_task()  # type: ignore[no-any-return]

    @property
    def relay(self) -> RelayOutbox:
        return self.container.relay_outbox()  # type: ignore[no-any-return]

    @property
    def reconcile(self) -> Reconcile:
        return self.container.reconcile()  # type: ignore[no-any-return]

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


def _wired(core: Core) -> Container:
    """The service's container with every edge (I/O, time, secrets) replaced by a fake."""
    container = Container(settings=Settings(_env_file=None, env="development"))  # type: ignore[call-arg]
    account_tokens = FakeAccountTokens()
    fakes: dict[str, Callable[[], object]] = {
        "clock": lambda: core.clock,
        "cache": lambda: core.cache,
        "task_queue": lambda: core.queue,
        "uow": core.uow,
        "collect_queries": lambda: FakeCollectQueries(core.db),
        "payment_queries": lambda: FakePaymentQueries(core.db),
        "totals_audit": lambda: FakeTotalsAudit(core.db),
        "storage": lambda: core.storage,
        "images": FakeImages,
        "mailer": lambda: core.mailer,
        "links": FakeLinks,
        "hasher": lambda: core.hasher,
        "tokens": lambda: core.tokens,
        "account_tokens": lambda: account_tokens,
        "limiter": lambda: core.limiter,
        "identity": FakeIdentityRules,
        "webhook_transport": lambda: core.webhooks,
        "webhook_queries": lambda: FakeWebhookQueries(core.db),
        "metrics": lambda: core.meter,
    }
    for name, fake in fakes.items():
        getattr(container, name).override(providers.Callable(fake))
    return container


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
        tokens=FakeTokens(clock),
        uows=[],
        webhooks=FakeWebhookTransport(),
        meter=FakeMeter(),
    )


@pytest.fixture
def core() -> Core:
    return new_core()
