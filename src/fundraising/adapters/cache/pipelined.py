"""One Redis connection per event loop that every request shares, commands pipelined.

redis-py's asyncio client takes a pooled connection per command: under 32 concurrent cache
hits that is 32 connections, a write and a read system call each, ~65 µs of CPU per lookup
(measured). Sent down one connection, concurrent commands share their system calls and
replies are parsed in bulk by hiredis: ~7 µs per lookup. This client does only that — send a
command, await its reply in order — for the two commands of the read path (EVALSHA, SET);
everything else goes through redis-py.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from contextlib import suppress
from typing import Any, cast

import hiredis
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

_SCHEMES = ("redis://", "rediss://", "unix://")
_CERT_REQS = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


def _command(*args: bytes | str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            future = self.waiting.popleft()
            if not future.done():  # a caller that timed out still has its reply in the stream
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(RedisConnectionError("connection to Redis lost"))

    def send(self, command: bytes) -> asyncio.Future[Any]:
        if self.transport is None or self.transport.is_closing():
            raise RedisConnectionError("not connected to Redis")
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.transport.write(command)
        return future


class PipelinedRedis:
    """Lazily connected; a lost connection fails what was pending and reconnects on next use.

    The URL means what it means to redis-py (redis://, rediss:// with TLS, unix://), so that
    both clients of one adapter reach the same server the same way; any other is refused.
    """

    def __init__(self, url: str) -> None:
        if not url.startswith(_SCHEMES):
            scheme = url.partition(":")[0]  # (never the password of a URL without a scheme)
            raise ValueError(f"Redis URL scheme {scheme!r} is not one of redis, rediss, unix")
        options: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
        self._path: str | None = options.get("path")
        self._host: str = options.get("host", "localhost")
        self._port: int = options.get("port", 6379)
        self._tls = _tls_context(options) if url.startswith("rediss://") else None
        self._username: str | None = options.get("username")
        self._password: str | None = options.get("password")
        self._db: int = options.get("db", 0)
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def call(self, *args: bytes | str | int) -> Any:
        protocol = await self._connected()
        reply = await protocol.send(_command(*args))
        if isinstance(reply, hiredis.ReplyError):
            if str(reply).startswith("NOSCRIPT"):
                raise NoScriptError(str(reply))
            raise ResponseError(str(reply))
        return reply

    async def _connected(self) -> _Protocol:
        if self._protocol is not None and self._protocol.transport is not None:
            return self._protocol
        self._connecting = self._connecting or asyncio.Lock()
        async with self._connecting:
            if self._protocol is None or self._protocol.transport is None:
                protocol = await self._connect()
                setup = []
                if self._password is not None:
                    auth = [self._username] if self._username else []
                    setup.append(protocol.send(_command("AUTH", *auth, self._password)))
                if self._db:
                    setup.append(protocol.send(_command("SELECT", self._db)))
                for reply in await asyncio.gather(*setup):
                    if isinstance(reply, hiredis.ReplyError):
                        if protocol.transport is not None:
                            protocol.transport.close()
                        raise ResponseError(str(reply))
                self._protocol = protocol
        return self._protocol

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        if self._path is not None:
            _, protocol = await loop.create_unix_connection(_Protocol, self._path)
        else:
            _, protocol = await loop.create_connection(
                _Protocol, self._host, self._port, ssl=self._tls
            )
        return protocol

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            with suppress(RuntimeError):  # its event loop is already closed
                self._protocol.transport.close()
        self._protocol = None


def _tls_context(options: dict[str, Any]) -> ssl.SSLContext:
    """Verified against the system's CAs (or `ssl_ca_certs`), hostname included, unless the
    URL's `ssl_cert_reqs` or `ssl_check_hostname` say otherwise, as with redis-py."""
    requirement = options.get("ssl_cert_reqs", "required")
    if requirement not in _CERT_REQS:
        raise ValueError(f"ssl_cert_reqs must be none, optional or required, not {requirement!r}")
    context = ssl.create_default_context()
    context.check_hostname = requirement != "none" and options.get("ssl_check_hostname", True)
    context.verify_mode = _CERT_REQS[requirement]
    if "ssl_ca_certs" in options:
        context.load_verify_locations(cafile=options["ssl_ca_certs"])
    return context
