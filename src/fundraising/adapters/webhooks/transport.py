"""POSTing to receivers with httpcore, never to an address a receiver may not have.

The check is made where the connection is made: the host is resolved once, every address it
has must be public, and the socket goes to one of those very addresses (a name that resolves
to a public address when checked and to 127.0.0.1 a moment later reaches nothing). Redirects
are not followed, the response body is not read, and the whole exchange has one deadline.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpcore

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0
RESOLVE_SECONDS = 2.0
USER_AGENT = "fundraising-webhooks/1"


class AddressRefused(httpcore.ConnectError):
    """The host resolves to an address a webhook may not reach."""


def refused_address(address: str) -> bool:
    """Loopback, private, link-local, reserved, multicast or unspecified (IPv4 inside IPv6
    judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


def _addresses(host: str, port: int, timeout: float = RESOLVE_SECONDS) -> list[str]:
    """Every address of the host, or OSError; a lookup that takes longer than `timeout` (a
    slow resolver) is given up on, and the caller goes on."""
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=timeout)
    except FutureTimeout:
        raise OSError(f"looking up {host} took over {timeout:.1f} s") from None
    except UnicodeError as error:  # a name IDNA cannot encode (an empty or too long label)
        raise OSError(f"{host} is not a valid host name: {error}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds

    def timeout(self, wanted: float | None) -> float:
        left = self._at - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the webhook's deadline passed")
        return left if wanted is None else min(wanted, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the exchange's deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.timeout(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.timeout(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        secured = self._stream.start_tls(
            ssl_context, server_hostname, self._deadline.timeout(timeout)
        )
        return _Stream(secured, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: _Deadline, *, allow_private: bool) -> None:
        self._backend = httpcore.SyncBackend()
        self._deadline = deadline
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = _addresses(host, port, self._deadline.timeout(RESOLVE_SECONDS))
        except OSError as error:
            raise httpcore.ConnectError(f"{host} does not resolve: {error}") from None
        if not self._allow_private and any(refused_address(a) for a in addresses):
            raise AddressRefused(f"{host} resolves to an address webhooks may not reach")
        for address in addresses:  # all checked; the first that answers (IPv6 may not)
            try:
                stream = self._backend.connect_tcp(
                    address, port, self._deadline.timeout(timeout), local_address, socket_options
                )
            except httpcore.ConnectError:
                continue
            return _Stream(stream, self._deadline)
        raise httpcore.ConnectError(f"no address of {host} accepts a connection")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _ascii(url: str) -> str:
    """The URL as sent on the wire: an internationalised host in IDNA, the rest %-encoded."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    assert parts.hostname is not None
    host = parts.hostname.encode("idna").decode()
    netloc = f"{host}:{parts.port}" if parts.port else host
    path, query = quote(parts.path, safe=_URL_SAFE), quote(parts.query, safe=_URL_SAFE)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


_URL_SAFE = "/%:@!$&'()*+,;=?~"


class HttpWebhookTransport:
    def __init__(self, *, allow_private: bool, timeout: float = TIMEOUT_SECONDS) -> None:
        self._allow_private = allow_private
        self._timeout = timeout

    @cached_property
    def _ssl(self) -> ssl.SSLContext:
        """Made on the first delivery: loading the system's certificates takes ~50 ms."""
        return ssl.create_default_context()

    def refusal(self, url: str) -> str | None:
        if self._allow_private:
            return None
        parts = urlsplit(url)
        assert parts.hostname is not None
        try:
            addresses = _addresses(parts.hostname, parts.port or 443)
        except OSError:
            return "The host of this URL does not resolve."
        if any(refused_address(address) for address in addresses):
            return "Must not point at a loopback, private, link-local or reserved address."
        return None

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int | None:
        url = _ascii(url)
        deadline = _Deadline(self._timeout)
        backend = _GuardedBackend(deadline, allow_private=self._allow_private)
        sent = list({"user-agent": USER_AGENT, **headers}.items())
        try:
            with (
                httpcore.ConnectionPool(
                    ssl_context=self._ssl, network_backend=backend, max_connections=1
                ) as pool,
                pool.stream("POST", url, headers=sent, content=body) as response,
            ):
                return response.status  # the body is never read
        except httpcore.TimeoutException:
            log.info("webhook %s: no answer in %.0f s", urlsplit(url).hostname, self._timeout)
        except AddressRefused as refused:
            log.warning("webhook not sent: %s", refused)
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as e:
            log.info("webhook %s: %s", urlsplit(url).hostname, e or type(e).__name__)
        return None
