"""The service's metrics with `prometheus-client`.

One process keeps its figures in memory. Several (uvicorn's workers, the worker's processes)
share a directory, PROMETHEUS_MULTIPROC_DIR, set before any of them imports the library: each
writes its own files there and a scrape adds them up (`exposition`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence

import dramatiq
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fundraising.adapters.sql.types import to_kopecks
from fundraising.application.ports.security import RateLimiter
from fundraising.application.ports.unit_of_work import OutboxSummary
from fundraising.domain.money import Money

log = logging.getLogger(__name__)
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
# A cache hit takes well under a millisecond, an Argon2 login a few tenths of a second.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class OutboxCollector(Collector):
    """The outbox's backlog, read from the database when scraped (it is the cluster's)."""

    def __init__(self, summary: Callable[[], OutboxSummary], now: Callable[[], float]) -> None:
        self._summary = summary
        self._now = now

    def collect(self) -> Iterable[Metric]:
        try:
            summary = self._summary()
        except Exception as error:  # the other metrics are still worth a scrape
            log.warning("metrics: the outbox could not be read (%s)", type(error).__name__)
            return []
        oldest = summary.oldest_waiting_since
        age = max(0.0, self._now() - oldest.timestamp()) if oldest is not None else 0.0
        figures = [
            ("waiting", "Outbox messages not done yet.", summary.waiting),
            ("running", "Outbox messages a worker holds now.", summary.running),
            ("dead", "Outbox messages whose retries are exhausted.", summary.dead),
            ("oldest_waiting_seconds", "Age of the oldest waiting message.", age),
        ]
        return [GaugeMetricFamily(f"fundraising_outbox_{n}", h, value=v) for n, h, v in figures]


class PrometheusMetrics:
    """The app's and worker's figures (a `Meter`), and their exposition for a scrape."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, outbox: OutboxCollector | None = None) -> None:
        self._multiprocess = shares_metrics()
        self._outbox = outbox
        self._registry = registry = CollectorRegistry()
        self._requests = Counter(
            "fundraising_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self._latency = Histogram(
            "fundraising_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._cache = Counter(
            "fundraising_cache_reads",
            "Collect reads by what the response cache did: hit, miss or bypass.",
            ["result"],
            registry=registry,
        )
        self._donations = Counter("fundraising_donations", "Donations made.", registry=registry)
        self._donated = Counter(
            "fundraising_donated_kopecks", "Sum of the donations made.", registry=registry
        )
        self._refunds = Counter("fundraising_refunds", "Payments refunded.", registry=registry)
        self._refunded = Counter(
            "fundraising_refunded_kopecks", "Sum of the payments refunded.", registry=registry
        )
        self._throttled = Counter(
            "fundraising_throttled",
            "Attempts refused by a limit: login, register, account e-mails.",
            ["limit"],
            registry=registry,
        )
        if outbox is not None and not self._multiprocess:
            registry.register(outbox)

    def request(
        self, method: str, route: str, status: int, seconds: float, cache: str | None
    ) -> None:
        self._requests.labels(method, route, str(status)).inc()
        self._latency.labels(method, route).observe(seconds)
        if cache is not None:
            self._cache.labels(cache.lower()).inc()

    def donated(self, amount: Money) -> None:
        self._donations.inc()
        self._donated.inc(to_kopecks(amount))

    def refunded(self, count: int, amount: Money) -> None:
        self._refunds.inc(count)
        self._refunded.inc(to_kopecks(amount))

    def throttled(self, limit: str) -> None:
        self._throttled.labels(limit).inc()

    def exposition(self) -> bytes:
        """Every figure in the text format: of every process sharing the directory."""
        return generate_latest(self._registry if not self._multiprocess else shared(self._outbox))


def shared(*collectors: Collector | None) -> CollectorRegistry:
    """The figures of every process writing to PROMETHEUS_MULTIPROC_DIR, and `collectors`."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    for collector in collectors:
        if collector is not None:
            registry.register(collector)
    return registry


class CountedRefusals:
    """A rate limiter whose refusals are counted, by the limit's name (its keys' prefix)."""

    def __init__(self, limiter: RateLimiter, metrics: PrometheusMetrics) -> None:
        self._limiter = limiter
        self._metrics = metrics

    def reserve(self, keys: Sequence[str], *, limit: int, window_seconds: int) -> int:
        wait = self._limiter.reserve(keys, limit=limit, window_seconds=window_seconds)
        if wait and keys:
            self._metrics.throttled(keys[0].partition(":")[0])
        return wait

    def release(self, keys: Sequence[str]) -> None:
        self._limiter.release(keys)


def shares_metrics() -> bool:
    """Whether this process writes its figures to a directory shared with others."""
    return MULTIPROCESS in os.environ


def share_metrics_in(directory: str) -> None:
    """Make the processes started from now on (which import the library afresh) write their
    figures, Dramatiq's included, to `directory`."""
    os.environ[MULTIPROCESS] = directory
    os.environ["dramatiq_prom_db"] = directory  # noqa: SIM112 (the name Dramatiq reads)


def observe_tasks(broker: dramatiq.Broker) -> None:
    """Dramatiq's own task metrics (outcomes, retries, durations) in a worker process whose
    supervisor shares PROMETHEUS_MULTIPROC_DIR, which Dramatiq also reads as `dramatiq_prom_db`."""
    from dramatiq.middleware.prometheus import Prometheus  # noqa: PLC0415 (reads the variable)

    middleware = Prometheus()
    broker.add_middleware(middleware)
    middleware.after_process_boot(broker)  # type: ignore[no-untyped-call]  # as Dramatiq's CLI does


def serve_shared_metrics(address: str) -> None:
    """Serve the figures of every process sharing the directory at http://address/metrics,
    from a thread of this one."""
    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host, registry=shared())
