"""Schema migrations (Alembic) driven from code: upgrade, downgrade, current, revision.

Alembic is imported where it is used: it takes most of a second to import, and most commands
of the CLI (and each spawned server worker) never need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen
from sqlalchemy import Column, DateTime, Engine, String
from sqlalchemy.types import TypeDecorator, TypeEngine

from fundraising.adapters.sql.engine import build_engine

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config  # noqa: PLC0415 (see the module's docstring)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command  # noqa: PLC0415

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command  # noqa: PLC0415

    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str, *, autogenerate: bool = True) -> None:
    from alembic import command  # noqa: PLC0415

    command.revision(alembic_config(database_url), message=message, autogenerate=autogenerate)


def current(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def is_current(database_url: str) -> bool:
    engine = build_engine(database_url, pool_size=1)
    try:
        return current(engine) == head()
    finally:
        engine.dispose()


@frozen
class Schema:
    """One database's schema, as the admin commands and the embedded start-up migrate it."""

    database_url: str

    def upgrade(self, revision: str = "head") -> None:
        upgrade(self.database_url, revision)

    def downgrade(self, revision: str) -> None:
        downgrade(self.database_url, revision)

    def revision(self, message: str, *, autogenerate: bool = True) -> None:
        revision(self.database_url, message, autogenerate=autogenerate)

    def current(self) -> str | None:
        engine = build_engine(self.database_url, pool_size=1)
        try:
            return current(engine)
        finally:
            engine.dispose()

    @staticmethod
    def head() -> str | None:
        return head()


def compare_type(
    context: MigrationContext,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Autogenerate's type check, plus two differences its default comparison overlooks.

    It ignores a parameter that only one side states, so a MySQL `DATETIME` without the
    microseconds of `DATETIME(6)`, or a `VARCHAR` without its `utf8mb4_bin` collation (which keeps
    usernames and transaction ids case-sensitive), would pass as equal. Types are compared as the
    dialect sees them: a TypeDecorator by its implementation, a variant by the dialect's variant.
    None leaves every other decision to Alembic.
    """
    expected = metadata_type.dialect_impl(context.dialect)
    if isinstance(expected, TypeDecorator):
        expected = expected.type_engine(context.dialect)
    both_datetimes = isinstance(expected, DateTime) and isinstance(inspected_type, DateTime)
    if both_datetimes and (getattr(expected, "fsp", 0) or 0) != (
        getattr(inspected_type, "fsp", 0) or 0
    ):
        return True
    if isinstance(expected, String) and isinstance(inspected_type, String):
        default = metadata_column.table.kwargs.get(f"{context.dialect.name}_collate")
        if (inspected_type.collation or default) != (expected.collation or default):
            return True
    return None
