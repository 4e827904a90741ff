"""Administration: users, collects and the reconciliation of totals."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fundraising.application.use_cases.auth import Registration
from fundraising.application.use_cases.collects import Moderation
from fundraising.application.use_cases.payments import Refund
from fundraising.entrypoints.cli import bootstrap

console = Console()


def create_user(
    username: Annotated[str, typer.Argument(help="Letters, digits and @.+-_ (1–150).")],
    email: Annotated[str, typer.Option(help="E-mail address.")],
    first_name: Annotated[str, typer.Option(help="First name.")] = "",
    last_name: Annotated[str, typer.Option(help="Last name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user; the password is asked for (twice) unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    container = bootstrap.container()
    try:
        user = container.register_user()(
            Registration(username, email, password, first_name, last_name)
        )
    finally:
        container.shutdown_resources()
    typer.echo(f"created user {user.username} (id {user.id})")


Username = Annotated[str, typer.Argument(help="The user's username.")]


def _set_active(username: str, *, active: bool) -> None:
    container = bootstrap.container()
    try:
        container.set_user_active()(username, active=active)
    finally:
        container.shutdown_resources()
    typer.echo(f"user {username} {'activated' if active else 'deactivated'}")


def deactivate_user(username: Username) -> None:
    """Deactivate an account: it cannot log in, and every token it holds stops working now."""
    _set_active(username, active=False)


def activate_user(username: Username) -> None:
    """Let a deactivated account log in again (its revoked tokens stay revoked)."""
    _set_active(username, active=True)


def _moderate(moderation: Moderation, done: str) -> None:
    container = bootstrap.container()
    try:
        container.moderate_collect()(moderation)
    finally:
        container.shutdown_resources()
    typer.echo(f"collect {moderation.collect_id} {done}")


CollectId = Annotated[int, typer.Argument(help="The collect's id.")]


def deactivate_collect(collect_id: CollectId) -> None:
    """Close a collect to donations, whoever its author is (its author may reopen it)."""
    _moderate(Moderation(collect_id, "deactivate"), "deactivated")


def block_collect(
    collect_id: CollectId,
    reason: Annotated[str | None, typer.Option(help="Why (kept for the record).")] = None,
) -> None:
    """Block a collect: no donation, and no change by its author, until it is unblocked."""
    _moderate(Moderation(collect_id, "block", reason), "blocked")


def unblock_collect(collect_id: CollectId) -> None:
    """Lift a block; the collect is as it was before."""
    _moderate(Moderation(collect_id, "unblock"), "unblocked")


def refund(
    payment_id: Annotated[int, typer.Argument(help="The payment's id.")],
    reason: Annotated[str | None, typer.Option(help="Why (e-mailed to the payer).")] = None,
) -> None:
    """Refund a payment for support: its collect's totals drop and its payer is e-mailed."""
    container = bootstrap.container()
    try:
        payment = container.refund_payment()(Refund(payment_id, None, reason))
    finally:
        container.shutdown_resources()
    typer.echo(f"payment {payment.id} refunded ({payment.amount} to collect {payment.collect})")


def reconcile(
    fix: Annotated[bool, typer.Option("--fix", help="Rewrite the drifted totals.")] = False,
) -> None:
    """Recompute every collect's totals from its payments and print the drift.

    Exit status 1 when drift was found and left unfixed, 0 otherwise.
    """
    container = bootstrap.container()
    try:
        report = container.reconcile()(fix=fix)
    finally:
        container.shutdown_resources()
    if not report.drifts:
        typer.echo("no drift: every collect's totals match its payments")
        return
    table = Table("collect", "stored total", "actual total", "donations", "donors")
    for drift in report.drifts:
        table.add_row(
            str(drift.collect_id),
            str(drift.stored.collected),
            str(drift.actual.collected),
            f"{drift.stored.donations} → {drift.actual.donations}",
            f"{drift.stored.donors} → {drift.actual.donors}",
        )
    console.print(table)
    if report.fixed:
        typer.echo(f"fixed {len(report.drifts)} collects")
        return
    typer.echo(f"{len(report.drifts)} collects drifted; run with --fix to repair them")
    raise typer.Exit(1)


def check() -> None:
    """Check that the database (and Redis and the broker, when configured) answer.

    Exit status 1 when one does not; used as the worker's health check.
    """
    container = bootstrap.container()
    try:
        results = container.readiness().check()
    finally:
        container.shutdown_resources()
    for name, result in results.items():
        typer.echo(f"{name}: {result}")
    if any(result != "ok" for result in results.values()):
        raise typer.Exit(1)


COMMANDS: list[Callable[..., None]] = [
    create_user,
    deactivate_user,
    activate_user,
    deactivate_collect,
    block_collect,
    unblock_collect,
    refund,
    reconcile,
    check,
]
