"""The `fundraising` console script: serve, worker, database and admin commands."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from fundraising.domain.errors import ValidationFailed
from fundraising.entrypoints.cli import admin, database, operations, processes, seed
from fundraising.entrypoints.version import VERSION

app = typer.Typer(
    name="fundraising",
    help="Group money collections: the service, its worker and admin commands.\n\n"
    "Configuration comes from FUNDRAISING_* environment variables and a .env file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(database.app, name="db")
app.command()(processes.serve)
app.command()(processes.worker)
for command in admin.COMMANDS:
    app.command()(command)
app.command()(seed.generate_test_data)
app.add_typer(operations.outbox, name="outbox")
app.add_typer(operations.dead_letters, name="dead-letters")
app.command()(operations.openapi)

_debug = False


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"fundraising {VERSION}")
        raise typer.Exit


@app.callback()
def options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when a command fails.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    global _debug  # noqa: PLW0603 - set once per process, before any command runs
    _debug = debug


def _message(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        reasons = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
        return f"invalid input: {reasons}"
    return str(error) or type(error).__name__


def _setting_error(error: ErrorDetails) -> str:
    """One setting's problem, naming its variable (a check of several names them itself)."""
    message = error["msg"].removeprefix("Value error, ")
    variable = "FUNDRAISING_" + "_".join(str(part) for part in error["loc"]).upper()
    if not error["loc"] or variable in message:
        return message
    return f"{variable}: {message}"


def main() -> None:
    """Run the CLI: a failure is one clear line and a non-zero exit status (2 for a usage
    error), with the traceback under --debug."""
    try:
        status = app(standalone_mode=False)
    except typer.Abort:
        print("fundraising: aborted", file=sys.stderr)
        raise SystemExit(1) from None
    except typer.TyperException as usage:  # Typer's usage errors name the parameter
        if message := getattr(usage, "format_message", usage.__str__)():
            print(f"fundraising: {message}", file=sys.stderr)  # (no message: help was shown)
        raise SystemExit(getattr(usage, "exit_code", 2)) from None
    except ValidationError as invalid:
        for error in invalid.errors():
            print(f"fundraising: configuration: {_setting_error(error)}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as error:  # the one place where any failure becomes a clean message
        if _debug:
            traceback.print_exc()
        print(f"fundraising: error: {_message(error)}", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(status if isinstance(status, int) else 0)
