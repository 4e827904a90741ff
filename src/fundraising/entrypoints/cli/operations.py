"""The operator's commands: the outbox and its dead letters, and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from fundraising.application.use_cases.outbox import InspectOutbox
from fundraising.entrypoints.cli import bootstrap

outbox = typer.Typer(help="The task outbox: what waits for the workers.", no_args_is_help=True)
dead_letters = typer.Typer(
    help="Tasks whose retries ran out (an SMTP or receiver outage longer than the retries): "
    "list them, send them again, or drop them.",
    no_args_is_help=True,
)


@contextmanager
def _inspected() -> Iterator[InspectOutbox]:
    container = bootstrap.container()
    try:
        yield container.inspect_outbox()
    finally:
        container.shutdown_resources()


@outbox.command("status")
def outbox_status() -> None:
    """How many tasks wait, since when, how many run now, and how many are dead letters."""
    with _inspected() as inspect:
        summary = inspect.summary()
    oldest = summary.oldest_waiting_since
    typer.echo(f"waiting: {summary.waiting}")
    typer.echo(f"oldest waiting since: {oldest.isoformat() if oldest else '-'}")
    typer.echo(f"running: {summary.running}")
    typer.echo(f"dead letters: {summary.dead}")


@dead_letters.command("list")
def list_dead_letters() -> None:
    """The dead letters, oldest first: one per line, tab-separated (id, created, dead since,
    task), for the eye and for scripts alike."""
    with _inspected() as inspect:
        found = inspect.dead_letters()
    for letter in found:
        created = letter.created_at.isoformat(timespec="seconds")
        dead = letter.dead_at.isoformat(timespec="seconds")
        typer.echo(f"{letter.message.id}\t{created}\t{dead}\t{letter.message.task!r}")
    typer.echo(f"{len(found)} dead letters", err=True)


Ids = Annotated[list[int] | None, typer.Argument(help="Outbox message ids (see `list`).")]
Every = Annotated[bool, typer.Option("--all", help="Every dead letter.")]


def _chosen(ids: list[int] | None, every: bool) -> list[int] | None:
    if bool(ids) == every:
        raise typer.BadParameter("name message ids, or --all")
    return None if every else ids


def _apply(change: Callable[[InspectOutbox], int], done: str) -> None:
    with _inspected() as inspect:
        typer.echo(f"{change(inspect)} {done}")


@dead_letters.command("retry")
def retry_dead_letters(ids: Ids = None, every: Every = False) -> None:
    """Send these dead letters again: the next relay of a running worker publishes them."""
    chosen = _chosen(ids, every)
    _apply(lambda inspect: inspect.retry(chosen), "dead letters due again")


@dead_letters.command("drop")
def drop_dead_letters(ids: Ids = None, every: Every = False) -> None:
    """Delete these dead letters for good."""
    chosen = _chosen(ids, every)
    _apply(lambda inspect: inspect.drop(chosen), "dead letters dropped")


def openapi() -> None:
    """Print the OpenAPI document the service serves at /docs/openapi.json."""
    from fundraising.entrypoints.http.app import create_app  # noqa: PLC0415 (only this loads the web app)

    container = bootstrap.container()
    try:
        document = create_app(container).openapi_schema.to_schema()
    finally:
        container.shutdown_resources()
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
