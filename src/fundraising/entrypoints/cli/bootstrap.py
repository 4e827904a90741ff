"""Building the container for a command, from the environment."""

from __future__ import annotations

from fundraising.container import Container
from fundraising.entrypoints.logs import configure_logging
from fundraising.settings import Settings


def settings() -> Settings:
    return Settings()


def container() -> Container:
    current = settings()
    configure_logging(current)
    return Container(settings=current)
