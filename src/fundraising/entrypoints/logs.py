"""Logging for every process (the app, uvicorn's own messages, the worker): plain lines in
development, JSON lines in production, configured once here."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from fundraising.settings import Settings

ACCESS = "fundraising.access"
ACCESS_LINE = "%(method)s %(route)s %(status)s %(duration_ms).2f ms"  # an access line's message


def access_fields(record: logging.LogRecord) -> Mapping[str, Any] | None:
    """What an access line carries besides its message: the mapping it is formatted from
    (entrypoints/http/observed.py), merged into no record's attributes."""
    if record.name == ACCESS and isinstance(record.args, Mapping):
        return record.args
    return None


class JsonLines(logging.Formatter):
    _encode = msgspec.json.Encoder().encode  # several times json.dumps' speed: a line a request

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def _time(self, created: float) -> str:
        """ISO 8601 in UTC to the millisecond; the date and time of a second made once."""
        second = int(created)
        if second != self._second:
            moment = datetime.fromtimestamp(second, UTC)
            self._second, self._second_text = second, moment.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{int((created - second) * 1000):03d}+00:00"

    def access_line(self, created: float, fields: Mapping[str, Any]) -> str:
        # The message without the duration, which `duration_ms` holds: half the line's cost.
        message = f"{fields['method']} {fields['route']} {fields['status']}"
        line = {"time": self._time(created), "level": "INFO", "logger": ACCESS, "message": message}
        return self._encode({**line, **fields}).decode()

    def format(self, record: logging.LogRecord) -> str:
        if (fields := access_fields(record)) is not None:
            return self.access_line(record.created, fields)
        entry = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._encode(entry).decode()


class PlainLines(logging.Formatter):
    """`time level logger: message`, and an access line's request id and user at its end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if (fields := access_fields(record)) is None:
            return line
        user, cache = fields.get("user_id"), fields.get("cache")
        return (
            f"{line} id={fields['request_id']}"
            + (f" user={user}" if user else "")
            + (f" cache={cache}" if cache else "")
        )


class _Direct:
    """JSON access lines written straight to the log's stream, under its handler's lock: the
    line a logging record would make, without the record. In the served process the record,
    its handlers and its formatter dispatch cost more than the cached read itself."""

    def __init__(self, handler: logging.StreamHandler[Any], formatter: JsonLines) -> None:
        self._handler = handler
        self._formatter = formatter

    def alone(self) -> bool:
        """Whether the handler still gets every line, alone (no test capturing them too)."""
        return logging.root.handlers == [self._handler]

    def __call__(self, fields: Mapping[str, Any]) -> None:
        line = self._formatter.access_line(time.time(), fields)
        self._handler.acquire()
        try:
            self._handler.stream.write(line + "\n")
        finally:
            self._handler.release()


_direct: _Direct | None = None


def log_access(fields: Mapping[str, Any]) -> None:
    """One access line: direct when JSON lines are configured, else a `fundraising.access`
    record (development's plain lines, and tests' captured records)."""
    if _direct is not None and _direct.alone():
        _direct(fields)
    else:
        logging.getLogger(ACCESS).info(ACCESS_LINE, fields)


def configure_logging(settings: Settings) -> None:
    # What no line shows, not looked up for each record (the logging HOWTO's "Optimization";
    # `_srcfile` is how it says to skip finding the caller's file and line).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    global _direct  # noqa: PLW0603 (logging's configuration is the process's)
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonLines() if settings.log_format == "json" else PlainLines()
    handler.setFormatter(formatter)
    _direct = _Direct(handler, formatter) if isinstance(formatter, JsonLines) else None
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("httpx", "dramatiq", "PIL", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # uvicorn's loggers keep no handlers of their own: their lines come out like the others;
    # its access lines (the client's address, the path with its query) give way to the app's.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = name != "uvicorn.access"
