"""Mailers: SMTP (production, MailHog-compatible) and `.eml` files (embedded mode)."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from fundraising.adapters.mail.templates import render
from fundraising.application.ports.mail import Notification

log = logging.getLogger(__name__)


def masked(address: str) -> str:
    """An address fit for a log line: `i***@example.com`."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


class FileMailer:
    """Writes each e-mail as an `.eml` file and logs a line: e-mail without a server."""

    def __init__(self, directory: Path, *, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    def send(self, notification: Notification) -> None:
        message = render(notification, sender=self._sender)
        self._directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self._directory / f"{stamp}-{notification.kind.value}-{uuid.uuid4().hex[:8]}.eml"
        partial = path.with_suffix(".part")  # renamed when complete: no reader sees half a mail
        partial.write_bytes(bytes(message))
        partial.replace(path)
        log.info("e-mail %s to %s written to %s", notification.kind, masked(notification.to), path)


class SmtpMailer:
    """SMTP from a URL: smtp://[user:password@]host[:port][?starttls=1], or smtps:// for TLS."""

    def __init__(self, url: str, *, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"unsupported SMTP URL scheme {parts.scheme!r}")
        self._tls = parts.scheme == "smtps"
        self._starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true")
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender = sender
        self._timeout = timeout

    def send(self, notification: Notification) -> None:
        message = render(notification, sender=self._sender)
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self._tls:
            connection = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=context
            )
        else:
            connection = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        with connection:
            if self._starttls:
                connection.starttls(context=context)
            if self._user:
                connection.login(self._user, self._password or "")
            # The recipient as validated, never re-read from the To header (a list there would
            # be as many recipients).
            connection.send_message(message, to_addrs=[notification.to])
        log.info("e-mail %s sent to %s", notification.kind, masked(notification.to))
