"""The composition root: settings → adapters → use cases, for the app, the CLI and the worker.

Nothing is built at import time; `Container(settings=...)` builds lazily on first use and
`shutdown_resources()` releases pools and clients.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import dramatiq
from dependency_injector import containers, providers
from sqlalchemy import Engine

from fundraising.adapters.cache.changes import ChangesFile
from fundraising.adapters.cache.limits import MemoryRateLimiter, RedisRateLimiter
from fundraising.adapters.cache.memory import MemoryCache
from fundraising.adapters.cache.redis import RedisCache
from fundraising.adapters.clock import SystemClock
from fundraising.adapters.files.images import PillowImages
from fundraising.adapters.files.local import LocalFileStorage
from fundraising.adapters.files.s3 import S3FileStorage, s3_client
from fundraising.adapters.health import Readiness
from fundraising.adapters.links import UrlLinks
from fundraising.adapters.mail.senders import FileMailer, SmtpMailer
from fundraising.adapters.metrics.prometheus import (
    CountedRefusals,
    OutboxCollector,
    PrometheusMetrics,
    observe_tasks,
    serve_shared_metrics,
    share_metrics_in,
    shares_metrics,
)
from fundraising.adapters.security.account_tokens import HmacAccountTokens
from fundraising.adapters.security.identity import LibraryIdentityRules
from fundraising.adapters.security.keys import key_from_file
from fundraising.adapters.security.passwords import Argon2Hasher
from fundraising.adapters.security.tokens import JwtTokens
from fundraising.adapters.seed.faker_source import FakerSource
from fundraising.adapters.sql.bulk import SqlBulkLoader
from fundraising.adapters.sql.engine import build_engine
from fundraising.adapters.sql.migrate import Schema
from fundraising.adapters.sql.queries import SqlCollectQueries, SqlPaymentQueries, SqlTotalsAudit
from fundraising.adapters.sql.unit_of_work import SqlUnitOfWork
from fundraising.adapters.sql.webhooks import SqlWebhookQueries
from fundraising.adapters.tasks.broker import WEBHOOKS, DramatiqTaskQueue, build_broker
from fundraising.adapters.tasks.worker import BackgroundWorker, Periodic, declare_actors
from fundraising.adapters.webhooks.signing import StandardWebhooksSigner
from fundraising.adapters.webhooks.transport import HttpWebhookTransport
from fundraising.application.ports.tasks import (
    AnnounceUpdate,
    DeliverWebhook,
    EmailKind,
    ProcessCover,
    RefundCollect,
    SendEmail,
)
from fundraising.application.throttles import Limit
from fundraising.application.use_cases.accounts import (
    ActivateAccount,
    ConfirmPasswordReset,
    DeleteAccount,
    SendAccountEmail,
    SetPassword,
    SetUserActive,
    TokenHolder,
    TokenLifetimes,
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
    VerifyToken,
)
from fundraising.application.use_cases.cancellation import CancelCollect, RefundCancelledCollect
from fundraising.application.use_cases.collects import (
    CreateCollect,
    DeleteCollect,
    GetCollect,
    ListCollects,
    ListFeed,
    ModerateCollect,
    UpdateCollect,
)
from fundraising.application.use_cases.covers import Covers, ProcessCoverTask
from fundraising.application.use_cases.leases import OnePerCluster
from fundraising.application.use_cases.lifecycle import LifecycleSweep
from fundraising.application.use_cases.membership import (
    AddOrganiser,
    GetShareKey,
    InviteParticipant,
    JoinCollect,
    ListParticipants,
    RemoveOrganiser,
    RemoveParticipant,
    RotateShareKey,
    SendReminders,
)
from fundraising.application.use_cases.notifications import DeliverEmail
from fundraising.application.use_cases.outbox import InspectOutbox, RelayOutbox, RunTask
from fundraising.application.use_cases.payments import (
    Donate,
    ExportPayments,
    GetPayment,
    ListMyPayments,
    RefundPayment,
)
from fundraising.application.use_cases.reconcile import Reconcile
from fundraising.application.use_cases.seeding import GenerateTestData
from fundraising.application.use_cases.updates import (
    AnnounceUpdateTask,
    DeleteUpdate,
    ListUpdates,
    PostUpdate,
)
from fundraising.application.use_cases.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    DeliverWebhookTask,
    ListDeliveries,
    ListWebhooks,
)
from fundraising.domain.webhook import RetrySchedule
from fundraising.settings import Settings

# Besides what it builds, what the commands need of the metrics adapter (their processes).
__all__ = [
    "Container",
    "background_worker",
    "observe_tasks",
    "serve_shared_metrics",
    "share_metrics_in",
    "shares_metrics",
]

HOUR_SECONDS = 3600
LEASE_INTERVALS = 3  # a periodic job's lease lasts three of its runs
DEVELOPMENT_URL = "http://127.0.0.1:8000"  # where `make run` listens


def _engine(settings: Settings) -> Iterator[Engine]:
    engine = build_engine(settings.database_url, pool_size=settings.database_pool_size)
    yield engine
    engine.dispose()


def _broker(settings: Settings) -> Iterator[dramatiq.Broker]:
    """What the app publishes to: the Redis broker (short timeouts), or the in-process one
    that the embedded worker threads consume."""
    broker = build_broker(settings.broker_url, publisher_only=settings.broker_url is not None)
    yield broker
    broker.close()


def _consumer_broker(settings: Settings) -> Iterator[dramatiq.Broker]:
    """What `fundraising worker` consumes: the Redis broker named by the settings."""
    broker = build_broker(settings.broker_url)
    yield broker
    broker.close()


def _redis_cache(settings: Settings) -> Iterator[RedisCache]:
    assert settings.redis_url is not None
    cache = RedisCache(settings.redis_url, ttl_seconds=settings.cache_ttl_seconds)
    yield cache
    cache.close()


def _memory_cache(settings: Settings) -> Iterator[MemoryCache]:
    changes = ChangesFile(settings.cache_changes_file)
    cache = MemoryCache(changes, ttl_seconds=settings.cache_ttl_seconds)
    yield cache
    cache.close()


def _redis_limiter(settings: Settings) -> Iterator[RedisRateLimiter]:
    assert settings.redis_url is not None
    limiter = RedisRateLimiter(settings.redis_url)
    yield limiter
    limiter.close()


def _backend(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


def _mail_transport(settings: Settings) -> str:
    return "smtp" if settings.smtp_url else "files"


def _signing_key(settings: Settings) -> str:
    """The configured key, else this installation's own random one under `var/`."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return key_from_file(settings.secret_key_file)


def _file_storage(settings: Settings) -> LocalFileStorage | S3FileStorage:
    """Files under the media directory, or in the bucket of FUNDRAISING_STORAGE_URL."""
    if settings.storage_url is None:
        return LocalFileStorage(settings.media_dir)
    secret = settings.s3_secret_access_key
    client = s3_client(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
    )
    return S3FileStorage(client, settings.storage_url)


def _public_url(settings: Settings) -> str:
    return settings.public_url or DEVELOPMENT_URL


def _frontend_url(settings: Settings) -> str:
    return settings.frontend_url or _public_url(settings)


def _reminder_interval(settings: Settings) -> timedelta:
    return timedelta(hours=settings.reminder_interval_hours)


def _retry_schedule(settings: Settings) -> RetrySchedule:
    backoff = timedelta(seconds=settings.webhook_backoff_seconds)
    return RetrySchedule(settings.webhook_max_attempts, backoff)


def _token_lifetimes(settings: Settings) -> TokenLifetimes:
    return TokenLifetimes(
        activation=timedelta(hours=settings.activation_token_hours),
        reset=timedelta(hours=settings.reset_token_hours),
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)

    engine = providers.Resource(_engine, settings)
    schema = providers.Factory(Schema, settings.provided.database_url)
    broker = providers.Resource(_broker, settings)
    consumer_broker = providers.Resource(_consumer_broker, settings)
    cache = providers.Selector(
        providers.Callable(_backend, settings),
        redis=providers.Resource(_redis_cache, settings),
        memory=providers.Resource(_memory_cache, settings),
    )
    task_queue = providers.Singleton(DramatiqTaskQueue, broker)
    uow = providers.Factory(SqlUnitOfWork, engine=engine, task_queue=task_queue, cache=cache)
    collect_queries = providers.Singleton(SqlCollectQueries, engine)
    payment_queries = providers.Singleton(SqlPaymentQueries, engine)
    totals_audit = providers.Singleton(SqlTotalsAudit, engine)

    inspect_outbox = providers.Singleton(InspectOutbox, uow.provider, clock)
    metrics = providers.Singleton(
        PrometheusMetrics,
        outbox=providers.Singleton(OutboxCollector, inspect_outbox.provided.summary, time.time),
    )
    limiter = providers.Singleton(
        CountedRefusals,
        providers.Selector(
            providers.Callable(_backend, settings),
            redis=providers.Resource(_redis_limiter, settings),
            memory=providers.Singleton(MemoryRateLimiter),
        ),
        metrics,
    )
    login_limit = providers.Factory(
        Limit,
        settings.provided.login_max_failures,
        settings.provided.login_window_seconds,
    )
    registration_limit = providers.Factory(
        Limit, settings.provided.registrations_per_hour, HOUR_SECONDS
    )
    account_email_limit = providers.Factory(
        Limit, settings.provided.account_emails_per_hour, HOUR_SECONDS
    )
    identity = providers.Singleton(LibraryIdentityRules)
    storage = providers.Singleton(_file_storage, settings)
    images = providers.Singleton(PillowImages)
    covers = providers.Singleton(Covers, storage, images)
    hasher = providers.Singleton(
        Argon2Hasher,
        time_cost=settings.provided.argon2_time_cost,
        memory_kib=settings.provided.argon2_memory_kib,
    )
    signing_key = providers.Singleton(_signing_key, settings)
    account_tokens = providers.Singleton(HmacAccountTokens, signing_key)
    token_lifetimes = providers.Singleton(_token_lifetimes, settings)
    token_holder = providers.Singleton(TokenHolder, account_tokens, token_lifetimes)
    tokens = providers.Singleton(
        JwtTokens,
        secret=signing_key,
        clock=clock,
        access_lifetime=providers.Factory(
            timedelta, minutes=settings.provided.access_token_minutes
        ),
        refresh_lifetime=providers.Factory(timedelta, days=settings.provided.refresh_token_days),
    )
    mailer = providers.Selector(
        providers.Callable(_mail_transport, settings),
        smtp=providers.Singleton(
            SmtpMailer, settings.provided.smtp_url, sender=settings.provided.mail_from
        ),
        files=providers.Singleton(
            FileMailer, settings.provided.mail_dir, sender=settings.provided.mail_from
        ),
    )

    links = providers.Singleton(
        UrlLinks,
        providers.Callable(_public_url, settings),
        providers.Callable(_frontend_url, settings),
        settings.provided.media_url,
    )

    register_user = providers.Singleton(
        RegisterUser, uow.provider, hasher, identity, limiter, registration_limit, clock
    )
    log_in = providers.Singleton(LogIn, uow.provider, hasher, tokens, limiter, login_limit)
    refresh_access = providers.Singleton(RefreshAccess, uow.provider, tokens, clock)
    log_out = providers.Singleton(LogOut, uow.provider, tokens, clock)
    verify_token = providers.Singleton(VerifyToken, uow.provider, tokens, clock)
    authenticate = providers.Singleton(Authenticate, tokens)
    check_account = providers.Singleton(CheckAccount, uow.provider)
    current_user = providers.Singleton(GetCurrentUser, uow.provider)
    activate_account = providers.Singleton(ActivateAccount, uow.provider, token_holder, clock)
    resend_activation = providers.Singleton(
        SendAccountEmail,
        uow.provider,
        identity,
        limiter,
        account_email_limit,
        EmailKind.ACCOUNT_ACTIVATION,
        clock,
    )
    reset_password = providers.Singleton(
        SendAccountEmail,
        uow.provider,
        identity,
        limiter,
        account_email_limit,
        EmailKind.PASSWORD_RESET,
        clock,
    )
    confirm_password_reset = providers.Singleton(
        ConfirmPasswordReset, uow.provider, token_holder, hasher, clock
    )
    set_password = providers.Singleton(SetPassword, uow.provider, hasher, clock)
    update_profile = providers.Singleton(UpdateProfile, uow.provider, identity, clock)
    delete_account = providers.Singleton(DeleteAccount, uow.provider, hasher, clock)
    set_user_active = providers.Singleton(SetUserActive, uow.provider, clock)

    create_collect = providers.Singleton(CreateCollect, uow.provider, covers, clock)
    update_collect = providers.Singleton(
        UpdateCollect, uow.provider, collect_queries, covers, clock
    )
    delete_collect = providers.Singleton(DeleteCollect, uow.provider, covers)
    moderate_collect = providers.Singleton(ModerateCollect, uow.provider, clock)
    cancel_collect = providers.Singleton(CancelCollect, uow.provider, collect_queries, links, clock)
    list_updates = providers.Singleton(ListUpdates, uow.provider, collect_queries)
    post_update = providers.Singleton(PostUpdate, uow.provider, clock)
    delete_update = providers.Singleton(DeleteUpdate, uow.provider)
    get_collect = providers.Singleton(GetCollect, collect_queries)
    list_collects = providers.Singleton(ListCollects, collect_queries)
    list_feed = providers.Singleton(ListFeed, collect_queries)
    join_collect = providers.Singleton(JoinCollect, uow.provider, collect_queries, clock)
    list_participants = providers.Singleton(ListParticipants, uow.provider, collect_queries)

    donate = providers.Singleton(Donate, uow.provider, clock, meter=metrics)
    get_payment = providers.Singleton(GetPayment, uow.provider)
    refund_payment = providers.Singleton(RefundPayment, uow.provider, clock, meter=metrics)
    export_payments = providers.Singleton(ExportPayments, uow.provider, collect_queries)
    my_payments = providers.Singleton(ListMyPayments, payment_queries)
    reconcile = providers.Singleton(Reconcile, totals_audit, uow.provider)
    seed_source = providers.Factory(FakerSource)
    get_share_key = providers.Singleton(GetShareKey, uow.provider, links)
    rotate_share_key = providers.Singleton(RotateShareKey, uow.provider, links, clock)
    invite_participant = providers.Singleton(
        InviteParticipant, uow.provider, collect_queries, identity, clock
    )
    remove_participant = providers.Singleton(RemoveParticipant, uow.provider)
    add_organiser = providers.Singleton(AddOrganiser, uow.provider, collect_queries)
    remove_organiser = providers.Singleton(RemoveOrganiser, uow.provider)
    send_reminders = providers.Singleton(
        SendReminders, uow.provider, clock, providers.Callable(_reminder_interval, settings)
    )
    webhook_transport = providers.Singleton(
        HttpWebhookTransport, allow_private=settings.provided.webhooks_allow_private
    )
    webhook_queries = providers.Singleton(SqlWebhookQueries, engine)
    create_webhook = providers.Singleton(
        CreateWebhook,
        uow.provider,
        webhook_transport,
        clock,
        https_only=settings.provided.webhooks_https_only,
    )
    list_webhooks = providers.Singleton(ListWebhooks, webhook_queries)
    delete_webhook = providers.Singleton(DeleteWebhook, uow.provider)
    list_deliveries = providers.Singleton(ListDeliveries, uow.provider, webhook_queries)
    generate_test_data = providers.Singleton(
        GenerateTestData, providers.Singleton(SqlBulkLoader, engine, cache), hasher, clock
    )

    process_cover = providers.Singleton(ProcessCoverTask, uow.provider, storage, images, clock)
    refund_cancelled_collect = providers.Singleton(
        RefundCancelledCollect, uow.provider, clock, meter=metrics
    )
    announce_update = providers.Singleton(AnnounceUpdateTask, uow.provider, clock)
    lifecycle_sweep = providers.Singleton(LifecycleSweep, uow.provider, links, clock)
    deliver_email = providers.Singleton(
        DeliverEmail, uow.provider, mailer, links, account_tokens, token_lifetimes, clock
    )
    deliver_webhook = providers.Singleton(
        DeliverWebhookTask,
        uow.provider,
        webhook_transport,
        providers.Singleton(StandardWebhooksSigner),
        clock,
        providers.Callable(_retry_schedule, settings),
    )
    run_task = providers.Singleton(
        RunTask,
        uow.provider,
        providers.Dict(
            {
                SendEmail: deliver_email,
                ProcessCover: process_cover,
                RefundCollect: refund_cancelled_collect,
                AnnounceUpdate: announce_update,
                DeliverWebhook: deliver_webhook,
            }
        ),
        clock,
        give_ups=providers.Dict(
            {
                ProcessCover: process_cover.provided.give_up,
                DeliverWebhook: deliver_webhook.provided.give_up,
            }
        ),
        lease=providers.Factory(timedelta, seconds=settings.provided.task_lease_seconds),
    )
    relay_outbox = providers.Singleton(
        RelayOutbox,
        uow.provider,
        task_queue,
        clock,
        grace=providers.Factory(timedelta, seconds=settings.provided.relay_grace_seconds),
    )
    one_per_cluster = providers.Factory(OnePerCluster, uow_factory=uow.provider)
    readiness = providers.Singleton(
        Readiness,
        engine,
        redis_url=settings.provided.redis_url,
        broker_url=settings.provided.broker_url,
        storage=storage,
    )


def background_worker(
    container: Container, *, broker: dramatiq.Broker | None = None, threads: int | None = None
) -> BackgroundWorker:
    """Worker threads consuming `broker` (default: the container's, i.e. the in-process one)."""
    settings: Settings = container.settings()
    broker = broker or container.broker()
    declare_actors(
        broker,
        run=container.run_task(),
        give_up=container.run_task().give_up,
        max_retries=settings.task_max_retries,
        min_backoff_ms=settings.task_min_backoff_ms,
        max_backoff_ms=settings.task_max_backoff_ms,
        time_limit_ms=settings.task_lease_seconds * 1000,
        # a delivery defers itself between its attempts, each deferral a retry
        max_retries_by_queue={WEBHOOKS: settings.webhook_max_attempts + settings.task_max_retries},
    )

    def one_per_cluster(name: str, job: Callable[[], int], interval: float) -> Periodic:
        lease = timedelta(seconds=LEASE_INTERVALS * interval)
        exclusive = container.one_per_cluster(name=name, job=job, lease=lease)
        return Periodic(name, exclusive, interval, stopped=exclusive.release)

    relay, sweep = container.relay_outbox(), container.lifecycle_sweep()
    jobs = [
        one_per_cluster("outbox-relay", relay, settings.relay_interval_seconds),
        one_per_cluster("lifecycle", sweep, settings.lifecycle_interval_seconds),
    ]
    return BackgroundWorker(broker, threads=threads or settings.worker_threads, jobs=jobs)
