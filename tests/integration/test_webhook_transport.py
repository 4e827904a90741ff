"""The webhook transport against real local servers: what it POSTs, what status it returns, one
deadline for the whole exchange (a silent or dribbling receiver, a body never read), redirects
not followed, failures as None; and the addresses it refuses, when asked and again at delivery."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from attrs import define, field

from fundraising.adapters.webhooks.transport import (
    USER_AGENT,
    HttpWebhookTransport,
    refused_address,
)

TIMEOUT = 0.5
PROMPTLY = 3.0  # seconds: far above TIMEOUT, far below what ignoring the deadline would take
QUIET = 0.3  # seconds to wait before concluding that a server was sent nothing
BODY = '{"id":"evt_1","data":{"title":"Подарок"}}\r\n\x00'.encode()
HEADERS = {
    "content-type": "application/json",
    "webhook-id": "evt_1",
    "webhook-timestamp": "1796400000",
    "webhook-signature": "v1,c2lnbmF0dXJl v1,b3RoZXI=",
}


@define
class Answer:
    status: int = 200
    headers: dict[str, str] = field(factory=dict)
    body_size: int = 0  # bytes of body declared and streamed, until the client goes away
    silence: float = 0.0  # seconds before answering


@define
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


@define
class Receiver:
    url: str = ""
    port: int = 0
    answer: Answer = field(factory=Answer)
    received: list[Request] = field(factory=list)
    streamed: int = 0
    stream_ended: threading.Event = field(factory=threading.Event)
    released: threading.Event = field(factory=threading.Event)
    lock: threading.Lock = field(factory=threading.Lock)

    def requests(self) -> list[Request]:
        with self.lock:
            return list(self.received)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-answer is what several tests make happen


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 that records every request and gives `receiver.answer`."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = [(name.lower(), value) for name, value in self.headers.items()]
            with receiver.lock:
                receiver.received.append(Request(self.command, self.path, headers, body))
            answer = receiver.answer
            if answer.silence:
                receiver.released.wait(answer.silence)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(answer.body_size))
                self.end_headers()
                self._stream(answer.body_size)
            finally:
                receiver.stream_ended.set()

        def _stream(self, size: int) -> None:
            chunk = b"x" * 65_536
            while receiver.streamed < size and not receiver.released.is_set():
                self.wfile.write(chunk)
                receiver.streamed += len(chunk)

        do_POST = do_GET = do_PUT = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    receiver.url = f"http://127.0.0.1:{receiver.port}/hooks?source=fundraising"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()


@contextmanager
def raw_server(serve: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 whose connections `serve` handles, one thread each; its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stopped = threading.Event()

    def accept() -> None:
        while not stopped.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_serve_one, args=(connection,), daemon=True).start()

    def _serve_one(connection: socket.socket) -> None:
        with connection, suppress(OSError):
            serve(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopped.set()
        thread.join(2)
        listener.close()


def _read_request(connection: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65_536)
        if not chunk:
            return
        data += chunk


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _timed(call: Callable[[], int | None]) -> tuple[int | None, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def transport() -> HttpWebhookTransport:
    return HttpWebhookTransport(allow_private=True, timeout=TIMEOUT)


@pytest.fixture
def guarded() -> HttpWebhookTransport:
    return HttpWebhookTransport(allow_private=False, timeout=TIMEOUT)


# --- what is sent and what comes back -----------------------------------------------------------


def test_the_body_and_headers_are_posted_exactly(
    receiver: Receiver, transport: HttpWebhookTransport
):
    status = transport.post(receiver.url, BODY, HEADERS)

    assert status == 200
    (request,) = receiver.requests()
    assert (request.method, request.path) == ("POST", "/hooks?source=fundraising")
    assert request.body == BODY
    assert sorted(request.headers) == sorted(
        [
            ("host", f"127.0.0.1:{receiver.port}"),
            ("user-agent", USER_AGENT),
            ("content-length", str(len(BODY))),
            *HEADERS.items(),
        ]
    )


@pytest.mark.parametrize("status", [200, 204, 410, 500, 503])
def test_the_receivers_status_is_returned(
    receiver: Receiver, transport: HttpWebhookTransport, status: int
):
    receiver.answer = Answer(status)

    assert transport.post(receiver.url, BODY, HEADERS) == status
    assert len(receiver.requests()) == 1


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_is_returned_and_never_followed(transport: HttpWebhookTransport, status: int):
    with running_receiver() as first, running_receiver() as target:
        first.answer = Answer(status, headers={"location": target.url})

        answered = transport.post(first.url, BODY, HEADERS)
        time.sleep(QUIET)

        assert answered == status
        assert len(first.requests()) == 1
        assert target.requests() == []


def test_a_receiver_silent_past_the_timeout_is_no_answer(
    receiver: Receiver, transport: HttpWebhookTransport
):
    receiver.answer = Answer(silence=10.0)

    status, took = _timed(lambda: transport.post(receiver.url, BODY, HEADERS))

    assert status is None
    assert took < PROMPTLY
    assert len(receiver.requests()) == 1  # it was sent; the answer never came


def test_a_receiver_answering_just_within_the_timeout_is_heard(receiver: Receiver):
    receiver.answer = Answer(202, silence=0.2)
    patient = HttpWebhookTransport(allow_private=True, timeout=2.0)

    assert patient.post(receiver.url, BODY, HEADERS) == 202


def test_a_status_line_dribbled_a_byte_at_a_time_still_ends_by_the_deadline(
    transport: HttpWebhookTransport,
):
    """Each byte comes well within the timeout; the whole answer would take over 7 s."""
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
    bytes_sent: list[int] = []

    def dribble(connection: socket.socket) -> None:
        _read_request(connection)
        for byte in answer:
            connection.sendall(bytes([byte]))
            bytes_sent.append(byte)
            time.sleep(0.2)

    with raw_server(dribble) as port:
        status, took = _timed(lambda: transport.post(f"http://127.0.0.1:{port}/", BODY, HEADERS))

    assert status is None
    assert took < PROMPTLY
    assert 0 < len(bytes_sent) < len(answer)


def test_a_huge_response_body_is_not_read(receiver: Receiver, transport: HttpWebhookTransport):
    """Its status comes back at once; reading 8 GiB would take past the deadline (None)."""
    receiver.answer = Answer(200, body_size=8 << 30)

    status, took = _timed(lambda: transport.post(receiver.url, BODY, HEADERS))

    assert status == 200
    assert took < PROMPTLY
    assert receiver.stream_ended.wait(5.0)  # the connection was closed under the server
    assert receiver.streamed < 8 << 30


def test_a_closed_port_is_no_answer(transport: HttpWebhookTransport):
    status, took = _timed(
        lambda: transport.post(f"http://127.0.0.1:{_closed_port()}/", BODY, HEADERS)
    )

    assert status is None
    assert took < PROMPTLY


def test_an_answer_that_is_not_http_is_no_answer(transport: HttpWebhookTransport):
    def babble(connection: socket.socket) -> None:
        _read_request(connection)
        connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    with raw_server(babble) as port:
        assert transport.post(f"http://127.0.0.1:{port}/", BODY, HEADERS) is None


def test_https_to_a_plain_http_receiver_is_no_answer(
    receiver: Receiver, transport: HttpWebhookTransport
):
    url = f"https://127.0.0.1:{receiver.port}/hooks"

    status, took = _timed(lambda: transport.post(url, BODY, HEADERS))

    assert status is None
    assert took < PROMPTLY
    assert receiver.requests() == []


# --- addresses a webhook may not reach ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",  # a name, resolving to 127.0.0.1
        "http://127.1.2.3/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://0.0.0.0/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://224.0.0.1/",
        "https://localhost/",
    ],
)
def test_urls_pointing_inside_are_refused(
    receiver: Receiver, guarded: HttpWebhookTransport, transport: HttpWebhookTransport, url: str
):
    checked = url.format(port=receiver.port)

    reason = guarded.refusal(checked)

    assert isinstance(reason, str) and reason
    assert transport.refusal(checked) is None  # allowed where private addresses are


def test_a_host_that_does_not_resolve_is_refused(guarded: HttpWebhookTransport):
    reason = guarded.refusal("http://no-such-host.invalid/")
    private = guarded.refusal("http://127.0.0.1/")

    assert isinstance(reason, str) and "resolve" in reason
    assert reason != private


@pytest.mark.parametrize(
    "url", ["http://93.184.215.14/", "https://8.8.8.8:8443/hooks", "https://[2606:4700::1111]/"]
)
def test_urls_at_public_addresses_are_accepted(guarded: HttpWebhookTransport, url: str):
    assert guarded.refusal(url) is None


# The receiver's address, each way of writing it that reaches it where private ones are allowed.
LOOPBACK_HOSTS = [
    "localhost",
    "LocalHost",
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f.1",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
]


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_a_post_to_a_refused_address_sends_nothing(
    receiver: Receiver, guarded: HttpWebhookTransport, host: str
):
    url = f"http://{host}:{receiver.port}/hooks"

    status, took = _timed(lambda: guarded.post(url, BODY, HEADERS))
    time.sleep(QUIET)

    assert status is None
    assert took < PROMPTLY
    assert receiver.requests() == []


def test_the_same_posts_reach_the_receiver_where_private_addresses_are_allowed(
    receiver: Receiver, transport: HttpWebhookTransport
):
    for host in LOOPBACK_HOSTS:
        assert transport.post(f"http://{host}:{receiver.port}/hooks", BODY, HEADERS) == 200

    assert len(receiver.requests()) == len(LOOPBACK_HOSTS)


def test_a_name_with_one_private_address_among_public_ones_is_refused_at_delivery(
    receiver: Receiver, guarded: HttpWebhookTransport, monkeypatch: pytest.MonkeyPatch
):
    """A stand-in resolver (no DNS): `mixed.test` has the receiver's address and a public one."""
    resolve = socket.getaddrinfo

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "mixed.test":
            return resolve(host, port, *args, **kwargs)
        return [
            *resolve("127.0.0.1", port, *args, **kwargs),
            *resolve("93.184.215.14", port, *args, **kwargs),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    url = f"http://mixed.test:{receiver.port}/hooks"

    reason = guarded.refusal(url)
    status = guarded.post(url, BODY, HEADERS)
    time.sleep(QUIET)

    assert isinstance(reason, str)
    assert status is None
    assert receiver.requests() == []


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("10.1.2.3", True),
        ("172.31.255.255", True),
        ("192.168.0.10", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("192.0.2.1", True),
        ("198.18.0.1", True),
        ("240.0.0.1", True),
        ("255.255.255.255", True),
        ("224.0.0.251", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fe80::1%eth0", True),
        ("fc00::1", True),
        ("fd12:3456::1", True),
        ("ff02::1", True),
        ("ff0e::1", True),
        ("2001:db8::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:192.168.1.1", True),
        ("::ffff:169.254.169.254", True),
        ("93.184.215.14", False),
        ("8.8.8.8", False),
        ("1.1.1.1", False),
        ("2606:4700::1111", False),
        ("2001:4860:4860::8888", False),
        ("::ffff:93.184.215.14", False),
    ],
)
def test_refused_addresses(address: str, refused: bool):
    assert refused_address(address) is refused


def _stand_in_resolver(monkeypatch: pytest.MonkeyPatch, name: str, addresses: list[str]) -> None:
    """`name` resolves to these addresses, in this order (no DNS); other names as usual."""
    resolve = socket.getaddrinfo

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return resolve(host, port, *args, **kwargs)
        return [info for address in addresses for info in resolve(address, port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)


def test_every_address_of_a_name_is_tried_until_one_answers(
    receiver: Receiver, transport: HttpWebhookTransport, monkeypatch: pytest.MonkeyPatch
):
    """An IPv6 address where nothing listens, first, does not stop the delivery."""
    _stand_in_resolver(monkeypatch, "dual.test", ["::1", "127.0.0.1"])

    assert transport.post(f"http://dual.test:{receiver.port}/hooks", BODY, HEADERS) == 200
    assert len(receiver.requests()) == 1


def test_an_internationalised_host_is_sent_in_idna(
    receiver: Receiver, transport: HttpWebhookTransport, monkeypatch: pytest.MonkeyPatch
):
    _stand_in_resolver(monkeypatch, "xn--e1afmkfd.xn--p1ai", ["127.0.0.1"])

    url = f"http://пример.рф:{receiver.port}/хуки?канал=1"
    assert transport.post(url, BODY, HEADERS) == 200
    (request,) = receiver.requests()
    assert request.path == "/%D1%85%D1%83%D0%BA%D0%B8?%D0%BA%D0%B0%D0%BD%D0%B0%D0%BB=1"


@pytest.mark.parametrize("host", ["a..b.example", "x" * 64 + ".example"])
def test_a_host_name_idna_cannot_encode_is_refused_not_raised(
    host: str, guarded: HttpWebhookTransport, transport: HttpWebhookTransport
):
    url = f"http://{host}/hooks"
    assert isinstance(guarded.refusal(url), str)
    assert transport.post(url, BODY, HEADERS) is None
