"""`fundraising generate-test-data`: realistic Russian-language data, fast, with progress bars."""

from __future__ import annotations

import random
import resource
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from fundraising.application.use_cases.seeding import SeedRequest
from fundraising.entrypoints.cli import bootstrap

console = Console(stderr=True)
PASSWORD = "testpassword"


class RichProgress:
    """One bar per stage, with rows per second."""

    def __init__(self, bars: Progress) -> None:
        self._bars = bars
        self._task: TaskID | None = None

    def start(self, stage: str, total: int) -> None:
        self._task = self._bars.add_task(stage, total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._bars.advance(self._task, count)


class RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.completed / task.elapsed if task.elapsed else 0.0
        return Text(f"{speed:>9,.0f} rows/s")


def generate_test_data(
    users: Annotated[int, typer.Option(min=1, help="Users to create.")] = 50,
    collects: Annotated[int, typer.Option(min=0, help="Collects to create.")] = 100,
    payments: Annotated[int, typer.Option(min=0, help="Payments to create.")] = 5_000,
    seed: Annotated[
        int | None, typer.Option(help="Random seed: the same seed gives the same data.")
    ] = None,
    locale: Annotated[str, typer.Option(help="Faker locale of names and texts.")] = "ru_RU",
    password: Annotated[
        str | None,
        typer.Option(
            help=f"The password of every generated user, hashed once (default: {PASSWORD})."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Generate in production too (with an explicit --password)."),
    ] = False,
) -> None:
    """Fill the database with realistic users, collects and payments (totals consistent)."""
    if bootstrap.settings().env == "production" and not (force and password):
        raise typer.BadParameter(
            "refusing to generate test data in production: its users would share a known "
            "password; pass --force and an explicit --password if you mean it",
            param_hint="--force",
        )
    container = bootstrap.container()
    chosen_seed = seed if seed is not None else random.SystemRandom().getrandbits(32)
    source = container.seed_source(seed=chosen_seed, locale=locale)
    rng = random.Random(f"choices-{chosen_seed}")
    started = time.perf_counter()
    columns = (
        TextColumn("{task.description:>9}"),
        BarColumn(),
        MofNCompleteColumn(),
        RowsPerSecond(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as bars:
            try:
                summary = container.generate_test_data()(
                    SeedRequest(users, collects, payments, password or PASSWORD),
                    source,
                    rng,
                    RichProgress(bars),
                )
            except BaseException:
                bars.live.transient = True  # a failure leaves its one line, not half bars
                raise
    finally:
        container.shutdown_resources()
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = Table("generated", "rows", title=f"seed {chosen_seed}")
    table.add_row("users", f"{summary.users:,}")
    table.add_row("collects", f"{summary.collects:,}")
    table.add_row("payments", f"{summary.payments:,}")
    table.add_row("time", f"{elapsed:.1f} s")
    table.add_row("peak RSS", f"{peak_mib:.0f} MiB")
    Console().print(table)
