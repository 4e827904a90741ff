"""Long-running processes: the HTTP server and the background worker."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
import uvicorn

from fundraising.container import (
    background_worker,
    observe_tasks,
    serve_shared_metrics,
    share_metrics_in,
    shares_metrics,
)
from fundraising.entrypoints.cli import bootstrap
from fundraising.entrypoints.logs import configure_logging
from fundraising.settings import Settings

WORKER_HEALTHCHECK_SECONDS = 60


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (use several with MySQL and Redis).")
    ] = 1,
    reload: Annotated[
        bool, typer.Option(help="Restart when the code changes (development only).")
    ] = False,
) -> None:
    """Serve the HTTP API with uvicorn (one event loop per worker process)."""
    current = bootstrap.settings()
    if workers > 1 and (current.broker_url is None or current.redis_url is None):
        raise typer.BadParameter(
            "several workers need FUNDRAISING_BROKER_URL and FUNDRAISING_REDIS_URL: the "
            "in-process task queue and cache live in one process (another would serve what "
            "this one changed from its stale cache)",
            param_hint="--workers",
        )
    # For the worker processes (spawned, so they read it at start): few malloc arenas and a
    # fixed mmap threshold, so that memory freed by many threads (Argon2's 19 MiB blocks)
    # goes back to the system instead of staying in each thread's arena.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(1024 * 1024))
    configure_logging(current)
    with shared_metrics(workers > 1 and not reload):
        _run_server(current, host=host, port=port, workers=workers, reload=reload)


def _run_server(current: Settings, *, host: str, port: int, workers: int, reload: bool) -> None:
    uvicorn.run(
        "fundraising.entrypoints.http.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        reload_dirs=["src"] if reload else None,
        log_level=current.log_level.lower(),
        log_config=None,  # configure_logging's, in every process
        access_log=False,  # the app writes its own access lines (FUNDRAISING_ACCESS_LOG)
        proxy_headers=bool(current.proxies),  # X-Forwarded-For only from trusted proxies
        forwarded_allow_ips=current.proxies,
        server_header=False,
        timeout_graceful_shutdown=10,
        # A spawned worker answers the supervisor's pings only once it has imported the app:
        # on a loaded host that takes longer than uvicorn's 5 s, and workers would be killed
        # and restarted forever.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@contextmanager
def shared_metrics(shared: bool) -> Iterator[None]:
    """When `shared`, the processes started in the block write their metrics to one new
    directory (unless PROMETHEUS_MULTIPROC_DIR names one already), removed at the end."""
    if not shared or shares_metrics():
        yield
        return
    directory = tempfile.mkdtemp(prefix="fundraising-metrics-")
    share_metrics_in(directory)
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


SUPERVISION_SECONDS = 0.5  # how often the supervisor looks at its worker processes


def worker(
    processes: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Threads per process (default from settings).")
    ] = None,
    supervised: Annotated[
        bool, typer.Option(hidden=True, help="Run as one of a supervisor's processes.")
    ] = False,
) -> None:
    """Run background tasks (e-mails, covers) from the Redis broker, and relay the outbox."""
    settings = bootstrap.settings()
    if settings.broker_url is None:
        raise typer.BadParameter(
            "FUNDRAISING_BROKER_URL is not set; without it `fundraising serve` runs the "
            "tasks in its own process",
            param_hint="FUNDRAISING_BROKER_URL",
        )
    if not supervised and (processes > 1 or settings.worker_metrics_address):
        configure_logging(settings)
        with shared_metrics(True):
            if settings.worker_metrics_address:
                serve_shared_metrics(settings.worker_metrics_address)
            _supervise(processes, threads)
        return
    container = bootstrap.container()
    broker = container.consumer_broker()
    if shares_metrics():
        observe_tasks(broker)
    running = background_worker(container, broker=broker, threads=threads)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    running.start()
    typer.echo(f"worker running ({threads or settings.worker_threads} threads); Ctrl+C stops it")
    stopping.wait()
    running.stop()
    container.shutdown_resources()


def _supervise(count: int, threads: int | None) -> None:
    """Start `count` single-process workers and stop them all on SIGINT/SIGTERM. A child that
    dies stops the others and the supervisor, non-zero: its container restarts it whole,
    rather than running on with fewer workers unnoticed."""
    command = [sys.executable, "-m", "fundraising", "worker", "--processes", "1", "--supervised"]
    if threads:
        command += ["--threads", str(threads)]
    children = [subprocess.Popen(command) for _ in range(count)]
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    died: subprocess.Popen[bytes] | None = None
    while died is None and not stopping.wait(SUPERVISION_SECONDS):
        died = next((child for child in children if child.poll() is not None), None)
    for child in children:
        if child.poll() is None:
            child.terminate()
    codes = [child.wait() for child in children]
    if died is not None:
        print(
            f"fundraising: a worker process (pid {died.pid}) exited with {died.returncode}; "
            "stopping the others",
            file=sys.stderr,
        )
        raise typer.Exit(died.returncode if died.returncode > 0 else 1)
    if any(codes):
        raise typer.Exit(max(codes))
