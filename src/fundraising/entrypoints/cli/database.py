"""`fundraising db …`: schema migrations with Alembic."""

from __future__ import annotations

from typing import Annotated

import typer

from fundraising.entrypoints.cli import bootstrap

app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    bootstrap.container().schema().upgrade(revision)
    typer.echo(f"database at {revision}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help='Target revision; "base" removes everything.')],
) -> None:
    """Migrate the database down to REVISION."""
    bootstrap.container().schema().downgrade(revision)
    typer.echo(f"database at {revision}")


@app.command()
def current() -> None:
    """Print the revision the database is at (nothing for an empty database)."""
    schema = bootstrap.container().schema()
    revision, head = schema.current(), schema.head()
    typer.echo(f"{revision or '(empty)'}{' (head)' if revision == head else f' (head is {head})'}")


@app.command()
def revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
    autogenerate: Annotated[
        bool, typer.Option(help="Compare the schema with the tables' metadata.")
    ] = True,
) -> None:
    """Create a new migration file (for developers)."""
    bootstrap.container().schema().revision(message, autogenerate=autogenerate)
