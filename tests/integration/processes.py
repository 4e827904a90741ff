"""Real `fundraising serve` and `fundraising worker` processes over services the test starts
itself: a fresh MariaDB database, redis-servers of its own (cache and broker) that can be killed
and restarted, and an SMTP server; plus HTTP clients and load that talk to them over sockets.

Every process runs in a process group of its own; whatever happens to a test, each group is
terminated (SIGTERM, then SIGKILL) when the deployment's block ends, before anything else.
"""

from __future__ import annotations

import email
import email.policy
import io
import itertools
import os
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from attrs import frozen
from PIL import Image
from sqlalchemy import make_url

from tests.e2e.cli_helpers import Cli, Database, Result, command_line, database
from tests.integration.fixtures_services import (
    RedisServer,
    SmtpSink,
    _Keeper,
    free_port,
    wait_until,
)
from tests.services import fresh_mysql_database

PASSWORD = "correct horse battery"
STARTUP_SECONDS = 40.0
STOP_SECONDS = 15.0
HTTP_TIMEOUT = 15.0


# --- processes ------------------------------------------------------------------------------


class Process:
    """A long-running `fundraising` command in a process group of its own, output to a file."""

    def __init__(self, name: str, args: Sequence[str], *, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.args = tuple(args)
        self.log_path = cwd / f"{name}.log"
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                command_line(*args),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self._popen.pid

    def exited(self) -> bool:
        """Whether the group's leader ended; it is not reaped here, so the group id stays ours."""
        if self._popen.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def exit_code(self) -> int:
        """Its exit status, once it ended (negative: the signal that ended it)."""
        return self._popen.wait(timeout=STOP_SECONDS)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        last = "\n".join(self.log().splitlines()[-lines:])
        return f"--- {self.name}.log (last {lines} lines) ---\n{last}"

    def wait_for_log(self, text: str, *, count: int = 1, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if self.exited():
                pytest.fail(f"`fundraising {' '.join(self.args)}` exited early\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} not logged {count}× within {timeout} s\n{self.tail()}")
            time.sleep(0.05)

    def _signal_group(self, signum: int) -> None:
        if self._popen.returncode is None:  # the leader is not reaped: the group id is ours
            with suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL to the whole group at once: no shutdown code runs, as in a crash."""
        self._signal_group(signal.SIGKILL)
        self._popen.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM to the group; SIGKILL to whatever of it is left after STOP_SECONDS."""
        self._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while not self.exited() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._signal_group(signal.SIGKILL)  # stragglers of the group (uvicorn's children)
        self._popen.wait(timeout=STOP_SECONDS)


class Deployment:
    """The production topology on one machine: MariaDB, a cache Redis, a broker Redis, SMTP
    (or .eml files without one), `fundraising serve` and `fundraising worker` processes."""

    def __init__(
        self, root: Path, database_url: str, processes: ExitStack, env: dict[str, str | None]
    ) -> None:
        self.database_url = database_url
        self._processes = processes
        self.started: list[Process] = []
        self.cache = RedisServer(root / "cache-redis")
        self.broker = RedisServer(root / "broker-redis")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cli = Cli(
            root / "run",
            database_url,
            FUNDRAISING_REDIS_URL=self.cache.url(),
            FUNDRAISING_BROKER_URL=self.broker.url(),
            FUNDRAISING_PUBLIC_URL=self.url,
            FUNDRAISING_AUTO_MIGRATE="false",  # migrated once, by `fundraising db upgrade`
            **env,
        )

    @property
    def media_dir(self) -> Path:
        return self.cli.directory / "media"

    def run(self, *args: str) -> Result:
        return self.cli.run(*args, timeout=60)

    def start(self, *args: str, **env: str) -> Process:
        """`fundraising <args>` with the deployment's environment (plus `env`) in the background."""
        name = f"{len(self.started) + 1:02d}-{args[0]}"
        environment = self.cli.with_env(**env).env
        process = Process(name, args, env=environment, cwd=self.cli.directory)
        self.started.append(process)
        self._processes.callback(process.stop)
        return process

    def serve(self, workers: int = 2, **env: str) -> Process:
        """`fundraising serve`, once every uvicorn worker has started and /health/live answers."""
        process = self.start(
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            **env,
        )
        process.wait_for_log("Application startup complete", count=workers)

        def answers() -> bool:
            try:
                return httpx.get(f"{self.url}/health/live", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=STARTUP_SECONDS, what="/health/live answering")
        return process

    def worker(self) -> Process:
        process = self.start("worker")
        process.wait_for_log("worker running")
        return process

    def logs(self) -> str:
        """The end of every process's output, for failure messages."""
        return "\n".join(process.tail() for process in self.started)

    @contextmanager
    def database(self) -> Iterator[Database]:
        with database(self.database_url) as db:
            yield db

    def api(self) -> Api:
        """A client of the served API whose new accounts have verified addresses (verified in
        the database: the activation e-mails are not what these tests are about)."""
        return Api(self.url, verify=self._verify)

    def _verify(self, username: str) -> None:
        with self.database() as db:
            db.execute("UPDATE users SET email_verified = 1 WHERE username = :name", name=username)


@contextmanager
def deployment(root: Path, *, smtp: SmtpSink | None = None, **env: str) -> Iterator[Deployment]:
    """A fresh, migrated MariaDB database and two running redis-servers of the test's own.

    The test starts the processes (`serve()`, `worker()`); when the block ends they are
    stopped first, then the redis-servers, then the database is dropped.
    """
    with fresh_mysql_database() as url, ExitStack() as stack:
        processes = ExitStack()
        smtp_url = {"FUNDRAISING_SMTP_URL": smtp.url} if smtp else {}
        deployed = Deployment(root, url, processes, {**smtp_url, **env})
        for server in (deployed.cache, deployed.broker):
            stack.callback(server.close)
            server.start()
        stack.enter_context(processes)  # unwound first
        migrated = deployed.run("db", "upgrade")
        assert migrated.code == 0, migrated.describe()
        yield deployed


# --- HTTP -----------------------------------------------------------------------------------


_accounts = itertools.count(1)


@frozen
class Account:
    username: str
    email: str
    headers: dict[str, str]


class Api:
    """Requests to the served API, as a client would make them (one client per thread)."""

    def __init__(self, url: str, verify: Callable[[str], None] | None = None) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=HTTP_TIMEOUT)
        self._verify = verify

    def close(self) -> None:
        self.http.close()

    def account(self, prefix: str = "user", first_name: str = "", last_name: str = "") -> Account:
        username = f"{prefix}{next(_accounts)}"
        email = f"{username}@example.com"
        body = {
            "username": username,
            "email": email,
            "password": PASSWORD,
            "first_name": first_name,
            "last_name": last_name,
        }
        created = self.http.post("/auth/users/", json=body)
        assert created.status_code == 201, created.text
        if self._verify is not None:
            self._verify(username)
        tokens = self.http.post(
            "/auth/jwt/create/", json={"username": username, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        return Account(username, email, {"Authorization": f"Bearer {tokens.json()['access']}"})

    def collect(self, author: Account, title: str, **fields: Any) -> dict[str, Any]:
        created = self.http.post(
            "/api/v1/collects/", json={"title": title, **fields}, headers=author.headers
        )
        assert created.status_code == 201, created.text
        return dict(created.json())

    def donate(
        self, donor: Account, collect_id: int, amount: str, transaction_id: str
    ) -> httpx.Response:
        body = {"collect": collect_id, "amount": amount, "transaction_id": transaction_id}
        return self.http.post("/api/v1/payments/", json=body, headers=donor.headers)

    def detail(self, collect_id: int, who: Account) -> httpx.Response:
        return self.http.get(f"/api/v1/collects/{collect_id}/", headers=who.headers)


@frozen
class Seen:
    """One request made under load: when, what, and how it was answered."""

    started: float
    ended: float
    method: str
    path: str
    status: int | None  # None: no answer at all (a transport error or a timeout)
    headers: dict[str, str]
    body: Any
    error: str = ""

    @property
    def cache(self) -> str:
        return self.headers.get("x-cache", "")

    def describe(self) -> str:
        answer = self.error or f"{self.status} {self.headers.get('content-type', '')}"
        return f"{self.method} {self.path} at {self.started:.3f}: {answer} {str(self.body)[:300]}"


def observe(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Seen:
    started = time.monotonic()
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        return Seen(started, time.monotonic(), method, path, None, {}, None, repr(error))
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    return Seen(
        started,
        time.monotonic(),
        method,
        path,
        response.status_code,
        {name.lower(): value for name, value in response.headers.items()},
        body,
    )


class Load:
    """Threads that each repeat `step(http, seen)` over a client of their own until stopped."""

    def __init__(
        self,
        url: str,
        threads: int,
        step: Callable[[int, httpx.Client, list[Seen]], None],
        *,
        fresh_connections: bool = False,
    ) -> None:
        self._url = url
        self._step = step
        self._stop = threading.Event()
        self._limits = httpx.Limits(max_keepalive_connections=0 if fresh_connections else 1)
        self._seen: list[list[Seen]] = [[] for _ in range(threads)]
        self._failures: list[BaseException] = []
        self._threads = [
            threading.Thread(target=self._run, args=(number,), name=f"load-{number}", daemon=True)
            for number in range(threads)
        ]

    def _run(self, number: int) -> None:
        with httpx.Client(base_url=self._url, timeout=HTTP_TIMEOUT, limits=self._limits) as http:
            while not self._stop.is_set():
                try:
                    self._step(number, http, self._seen[number])
                except BaseException as failure:  # reported by stop()
                    self._failures.append(failure)
                    return

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> list[Seen]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=HTTP_TIMEOUT + 5)
        assert not any(thread.is_alive() for thread in self._threads), "a load thread hangs"
        if self._failures:
            raise self._failures[0]
        return self.seen

    @property
    def seen(self) -> list[Seen]:
        return sorted(itertools.chain.from_iterable(list(each) for each in self._seen), key=_start)


def _start(seen: Seen) -> float:
    return seen.started


# --- SMTP and images ------------------------------------------------------------------------


class _Refusing(_Keeper):
    """Answers 451 to the first `refusals` deliveries of each (recipients, subject)."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals
        self.attempts: Counter[tuple[tuple[str, ...], str]] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        subject = _subject_of(envelope.content)
        key = (tuple(envelope.rcpt_tos), subject)
        with self.lock:
            self.attempts[key] += 1
            refused = self.attempts[key] <= self.refusals
        if refused:
            return "451 4.3.0 Temporary failure, try again later"
        return await super().handle_DATA(server, session, envelope)


def _subject_of(content: bytes) -> str:
    return str(email.message_from_bytes(content, policy=email.policy.default)["Subject"])


class RefusingSmtp(SmtpSink):
    """An SMTP server that refuses (451) the first deliveries of every message, then accepts."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self._keeper = _Refusing(refusals)

    @property
    def attempts(self) -> Counter[tuple[tuple[str, ...], str]]:
        keeper = self._keeper
        assert isinstance(keeper, _Refusing)
        with keeper.lock:
            return Counter(keeper.attempts)


def slow_png(width: int = 6000, height: int = 6000) -> bytes:
    """A valid PNG of ~36 megapixels in well under 2 MiB: decoding and downscaling it takes the
    worker a noticeable moment (random blocks, so it neither compresses to nothing nor grows)."""
    blocks = Image.merge(
        "RGB", [Image.effect_noise((width // 60, height // 60), 80) for _ in "RGB"]
    )
    image = blocks.resize((width, height), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


# --- a network link to MariaDB that can lose an answer ----------------------------------------


class LossyMysqlLink:
    """A TCP proxy in front of MariaDB. Armed, it loses the answer to the next COMMIT of a
    transaction that inserted a payment: the server has committed, and the client's connection
    drops before the OK reaches it (as when a link, a proxy or a server fails right then)."""

    def __init__(self, database_url: str) -> None:
        self._target = make_url(database_url)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._armed = False
        self._sockets: list[socket.socket] = []
        self.lost = 0
        threading.Thread(target=self._accept, name="mysql-link", daemon=True).start()

    @property
    def url(self) -> str:
        """The database URL through this link."""
        proxied = self._target.set(host="127.0.0.1", port=self.port)
        return proxied.render_as_string(hide_password=False)

    def lose_next_payment_commit(self) -> None:
        with self._lock:
            self._armed = True

    def _disarm(self) -> bool:
        with self._lock:
            armed, self._armed = self._armed, False
            return armed

    def _lost_one(self) -> None:
        with self._lock:
            self.lost += 1

    def _accept(self) -> None:
        upstream = (self._target.host or "127.0.0.1", self._target.port or 3306)
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            link = _Link(self, client, server)
            threading.Thread(target=link.forward, daemon=True).start()
            threading.Thread(target=link.backward, daemon=True).start()

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for each in sockets:
            _shut(each)


class _Link:
    """One client connection: packets forward, answers back, one answer lost when told to."""

    def __init__(self, owner: LossyMysqlLink, client: socket.socket, server: socket.socket):
        self._owner = owner
        self._client = client
        self._server = server
        self._inserted_payment = False
        self._lose_answer = threading.Event()

    def forward(self) -> None:
        """Client to server, packet by packet (3-byte length, sequence id, payload)."""
        pending = b""
        try:
            while chunk := self._client.recv(65536):
                pending += chunk
                while len(pending) >= 4:
                    size = int.from_bytes(pending[:3], "little")
                    if len(pending) < 4 + size:
                        break
                    packet, pending = pending[: 4 + size], pending[4 + size :]
                    self._inspect(packet[4:])
                    self._server.sendall(packet)
        except OSError:
            pass
        finally:
            self._close()

    def _inspect(self, payload: bytes) -> None:
        if payload[:1] != b"\x03":  # COM_QUERY
            return
        statement = payload[1:].lstrip().upper()
        if statement.startswith(b"INSERT INTO PAYMENTS"):
            self._inserted_payment = True
        elif statement.startswith(b"COMMIT"):
            if self._inserted_payment and self._owner._disarm():
                self._lose_answer.set()  # before the COMMIT leaves: its answer is never relayed
            self._inserted_payment = False
        elif statement.startswith(b"ROLLBACK") and not statement.startswith(b"ROLLBACK TO"):
            self._inserted_payment = False  # (a rollback to a savepoint keeps the transaction)

    def backward(self) -> None:
        try:
            while chunk := self._server.recv(65536):
                if self._lose_answer.is_set():  # the server answered the COMMIT: it is durable
                    self._owner._lost_one()
                    return
                self._client.sendall(chunk)
        except OSError:
            pass
        finally:
            self._close()

    def _close(self) -> None:
        _shut(self._client)
        _shut(self._server)


def _shut(each: socket.socket) -> None:
    with suppress(OSError):
        each.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        each.close()
