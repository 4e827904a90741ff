"""Services the adapter tests start themselves: a redis-server of their own on a free port (to
stop, hang and restart; with a password, a unix socket, a TLS port if asked), an SMTP server
that keeps what it receives, and waiting helpers."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote

import pytest
import redis
import trustme
from aiosmtpd.controller import Controller

from tests.services import REQUIRED, redis_url

T = TypeVar("T")
SharedRedis = Callable[[int], str]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    condition: Callable[[], T | bool | None],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "the condition",
) -> T:
    """Poll `condition` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return cast(T, result)
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(interval)


LOCK_DB = 10  # where the locks below live: no test ever flushes it


@contextmanager
def exclusive_redis_db(db: int, *, wait: float = 180.0) -> Iterator[str]:
    """Database `db` of the shared test Redis (skipped or failed when absent), emptied, and
    this test's alone until the block ends: a concurrent run of these tests (another session
    or checkout on the same machine) waits its turn instead of sharing keys and queues."""
    url = redis_url(db)
    locks = redis.Redis.from_url(redis_url(LOCK_DB))
    try:
        with locks.lock(f"fundraising-tests:db{db}", timeout=300, blocking_timeout=wait):
            client = redis.Redis.from_url(url)
            try:
                client.flushdb()
            finally:
                client.close()
            yield url
    except redis.exceptions.LockError as error:
        pytest.fail(f"Redis database {db} stayed in use by another test run: {error}")
    finally:
        locks.close()


@pytest.fixture(name="shared_redis")
def shared_redis_fixture() -> Iterator[SharedRedis]:
    """`shared_redis(db)`: the URL of database `db`, emptied and held until the test ends."""
    with ExitStack() as held:
        yield lambda db: held.enter_context(exclusive_redis_db(db))


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not on PATH (needed to stop and restart a Redis of our own)"
        if REQUIRED:
            pytest.fail(f"{message} (FUNDRAISING_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    return binary


class RedisServer:
    """A redis-server process of the test's own, on a fixed free port, that can go away and
    come back on the same port (with its data when stopped with `save=True`).

    Optionally it asks for a `password`, listens on a unix socket as well, and on a TLS port
    with a certificate for "localhost" from a CA of its own (`ca_file`, trusted by nobody else).
    """

    def __init__(
        self,
        directory: Path,
        *,
        password: str | None = None,
        unix_socket: bool = False,
        tls: bool = False,
    ) -> None:
        self._binary = redis_server_binary()
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._auth = f":{quote(password, safe='')}@" if password else ""
        self._options = {"requirepass": password} if password else {}
        self.socket = directory / "redis.sock"
        if unix_socket:
            self._options |= {"unixsocket": str(self.socket), "unixsocketperm": "700"}
        self.tls_port = free_port() if tls else None
        self.ca_file = directory / "ca.pem"
        if tls:
            self._options |= self._tls_options()
        self._process: subprocess.Popen[bytes] | None = None

    def _tls_options(self) -> dict[str, str]:
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(self.ca_file))
        leaf = ca.issue_cert("localhost")
        leaf.private_key_pem.write_to_path(str(self.directory / "key.pem"))
        leaf.cert_chain_pems[0].write_to_path(str(self.directory / "cert.pem"))
        return {
            "tls-port": str(self.tls_port),
            "tls-cert-file": str(self.directory / "cert.pem"),
            "tls-key-file": str(self.directory / "key.pem"),
            "tls-ca-cert-file": str(self.ca_file),
            "tls-auth-clients": "no",
        }

    def url(self, db: int = 0) -> str:
        return f"redis://{self._auth}127.0.0.1:{self.port}/{db}"

    def unix_url(self, db: int = 0) -> str:
        return f"unix://{self._auth}{self.socket}?db={db}"

    def tls_url(self, db: int = 0, *, host: str = "localhost", trust: bool = True) -> str:
        """rediss:// to the TLS port; trusting the server's CA (`ssl_ca_certs`) when `trust`."""
        query = f"?ssl_ca_certs={quote(str(self.ca_file))}" if trust else ""
        return f"rediss://{self._auth}{host}:{self.tls_port}/{db}{query}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=5)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> None:
        assert self._process is None, "already running"
        options = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "save": "",
            "appendonly": "no",
            "dir": str(self.directory),
            "dbfilename": "dump.rdb",
            "loglevel": "warning",
            "logfile": str(self.directory / "redis.log"),
            **self._options,
        }
        command = [self._binary]
        for name, value in options.items():
            command += [f"--{name}", value]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self._answers, timeout=10, what=f"redis-server on port {self.port} starting")

    def _answers(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            log = (self.directory / "redis.log").read_text(errors="replace")
            pytest.fail(f"redis-server exited with {self._process.returncode}: {log[-2000:]}")
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self, *, save: bool = False) -> None:
        """Shut the server down (writing its data first when `save`); the port is free again."""
        assert self._process is not None, "not running"
        try:
            with self.client() as client:
                client.shutdown(save=save, nosave=not save)
        except redis.ConnectionError:
            pass  # SHUTDOWN closes the connection without an answer
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def pause(self) -> None:
        """Freeze the process: it accepts connections but answers nothing (a hung server)."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def close(self) -> None:
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGCONT)
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


@pytest.fixture(name="redis_server")
def redis_server_fixture(tmp_path: Path) -> Iterator[RedisServer]:
    """A running redis-server of this test's own; killed at the end whatever state it is in."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(name="secured_redis")
def secured_redis_fixture(tmp_path: Path) -> Iterator[RedisServer]:
    """A running redis-server that wants a password, on TCP, a unix socket and a TLS port."""
    server = RedisServer(
        tmp_path / "secured-redis", password="s3cret:pass", unix_socket=True, tls=True
    )
    server.start()
    try:
        yield server
    finally:
        server.close()


class _Keeper:
    """aiosmtpd handler: keeps every message it accepts, parsed."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(
                (envelope.mail_from, list(envelope.rcpt_tos), cast(EmailMessage, message))
            )
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on a fixed free port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self._keeper = _Keeper()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self._controller is None
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def envelopes(self) -> list[tuple[str, list[str], EmailMessage]]:
        with self._keeper.lock:
            return list(self._keeper.received)

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [message for _, rcpts, message in self.envelopes if address in rcpts]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        """The messages to `address`, once there are at least `count` of them."""
        return wait_until(
            lambda: (found := self.messages_to(address)) and len(found) >= count and found,
            timeout=timeout,
            what=f"{count} e-mail(s) to {address}",
        )


@pytest.fixture(name="smtp_sink")
def smtp_sink_fixture() -> Iterator[SmtpSink]:
    """A running SMTP server collecting messages."""
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The text/plain and text/html bodies of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None, "both a text/plain and a text/html part"
    return cast(EmailMessage, plain).get_content(), cast(EmailMessage, rich).get_content()


class S3Server:
    """An S3-compatible server (moto's, in a thread of the test process) and fresh buckets."""

    ACCESS_KEY = "test-access-key"
    SECRET_KEY = "test-secret-key"
    REGION = "us-east-1"

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 (seconds of imports)

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def settings(self, url: str) -> dict[str, Any]:
        """The FUNDRAISING_* settings (as Settings fields) of a storage at `url`."""
        return {
            "storage_url": url,
            "media_url": f"{self.endpoint_url}/{url.removeprefix('s3://')}",
            "s3_endpoint_url": self.endpoint_url,
            "s3_region": self.REGION,
            "s3_access_key_id": self.ACCESS_KEY,
            "s3_secret_access_key": self.SECRET_KEY,
        }

    def client(self) -> Any:
        import boto3  # noqa: PLC0415

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.REGION,
            aws_access_key_id=self.ACCESS_KEY,
            aws_secret_access_key=self.SECRET_KEY,
        )

    def bucket(self) -> str:
        """A new, empty bucket's name (moto's buckets are shared by its servers in a process)."""
        name = f"covers-{uuid.uuid4().hex}"
        self.client().create_bucket(Bucket=name)
        return name

    def publish(self, bucket: str, prefix: str) -> None:
        """Let anybody read the objects under `prefix`, as an operator does for covers."""
        statement = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
        }
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        self.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture(name="s3_server", scope="session")
def s3_server_fixture() -> Iterator[S3Server]:
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()
