"""Schema migrations (Alembic) driven from code: upgrade, downgrade, current, revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from fundraising.adapters.sql.engine import build_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str, *, autogenerate: bool = True) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=autogenerate)


def current(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def is_current(database_url: str) -> bool:
    engine = build_engine(database_url, pool_size=1)
    try:
        return current(engine) == head()
    finally:
        engine.dispose()
