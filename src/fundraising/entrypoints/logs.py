"""Logging for every process (the app, uvicorn's own messages, the worker): plain lines in
development, JSON lines in production, configured once here."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import msgspec

from fundraising.settings import Settings

# What an access line carries besides its message (see entrypoints/http/observed.py).
FIELDS = ("request_id", "method", "route", "status", "duration_ms", "user_id", "cache")


class JsonLines(logging.Formatter):
    _encode = msgspec.json.Encoder().encode  # several times json.dumps' speed: a line a request

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((name, vars(record)[name]) for name in FIELDS if name in vars(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._encode(entry).decode()


class PlainLines(logging.Formatter):
    """`time level logger: message`, and an access line's request id and user at its end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if (request := vars(record).get("request_id")) is None:
            return line
        user, cache = vars(record).get("user_id"), vars(record).get("cache")
        return (
            f"{line} id={request}"
            + (f" user={user}" if user else "")
            + (f" cache={cache}" if cache else "")
        )


def configure_logging(settings: Settings) -> None:
    # What no line shows, not looked up for each record.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if settings.log_format == "json" else PlainLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("httpx", "dramatiq", "PIL", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # uvicorn's loggers keep no handlers of their own: their lines come out like the others.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
