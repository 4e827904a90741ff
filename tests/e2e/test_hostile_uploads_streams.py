"""50 MiB uploads and `..` paths against a real server process: refused, memory stays flat."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, image_bytes
from tests.e2e.cover_helpers import COLLECTS
from tests.e2e.test_served import Served, serving

MIB = 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class PeakRss:
    """Samples a process's resident memory in the background and keeps the highest value."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.002)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.pid))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    """One `fundraising serve` process (SQLite) for the module, warmed up, and a token."""
    with serving(tmp_path_factory.mktemp("served")) as served:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            account = {
                "username": "uploader",
                "email": "uploader@example.com",
                "password": PASSWORD,
            }
            assert http.post("/auth/users/", json=account).status_code == 201
            tokens = http.post(
                "/auth/jwt/create/", json={"username": "uploader", "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {tokens.json()['access']}"}
            # warm up: a real cover (Pillow, the worker) and a refused 3 MiB form
            warm = http.post(
                COLLECTS,
                data={"title": "warm"},
                files={"cover": ("w.png", image_bytes("PNG"), "image/png")},
                headers=headers,
            )
            assert warm.status_code == 201, warm.text
            big = http.post(
                COLLECTS,
                data={"title": "warm"},
                files={"cover": ("w.png", b"\0" * 3 * MIB, "image/png")},
                headers=headers,
            )
            assert big.status_code == 413, big.text
        yield served, headers
        served.stop()


def form_stream(total: int, sent: list[int]) -> Iterator[bytes]:
    """A multipart form whose cover is `total` bytes, produced 64 KiB at a time."""
    yield (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nhuge\r\n'
        b'--b\r\nContent-Disposition: form-data; name="cover"; filename="huge.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n"
    )
    chunk = b"\0" * 64 * 1024
    while sent[0] < total:
        sent[0] += len(chunk)
        yield chunk
    yield b"\r\n--b--\r\n"


def test_a_streamed_50_mib_body_is_a_413_and_memory_stays_flat(
    server: tuple[Served, dict[str, str]],
) -> None:
    served, headers = server
    form = {**headers, "Content-Type": "multipart/form-data; boundary=b"}
    with httpx.Client(base_url=served.url, timeout=60) as http:
        created = http.post(COLLECTS, json={"title": "target"}, headers=headers)
        target = f"{COLLECTS}{created.json()['id']}/"
        before = rss(served.process.pid)
        with PeakRss(served.process.pid) as memory:
            answers = []
            for method, path, content_type in [
                ("POST", COLLECTS, form),
                ("PATCH", target, form),
                ("POST", "/api/v1/payments/", {**headers, "Content-Type": "application/json"}),
            ]:
                sent = [0]
                response = http.request(
                    method, path, content=form_stream(50 * MIB, sent), headers=content_type
                )
                assert "content-length" not in response.request.headers  # chunked
                answers.append((method, path, response))
        for method, path, response in answers:
            assert response.status_code == 413, (method, path, response.text)
            body = response.json()
            assert body["status"] == 413 and body["detail"], body
        growth = memory.peak - before
        assert growth < 20 * MIB, f"RSS grew by {growth / MIB:.1f} MiB"
        listed = http.get(COLLECTS, params={"author": "me"}, headers=headers).json()
        assert [item["title"] for item in listed["results"]] == ["target", "warm"]
        assert http.get(target, headers=headers).json()["cover_status"] == "none"


def raw_request(served: Served, head: bytes, body: Iterator[bytes] | None = None) -> bytes:
    """Send `head` and as much of `body` as the server takes; return what it answered.

    A plain socket, because httpx (h11) will not send more than the Content-Length it was
    given, nor a head without its body."""
    port = int(served.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        try:
            for chunk in body or ():
                connection.sendall(chunk)
        except OSError:  # the server answered and closed: it stopped reading, as it should
            pass
        answer = b""
        try:
            while data := connection.recv(65536):
                answer += data
        except OSError:
            pass
    return answer


def head(served: Served, headers: dict[str, str], length: int, path: str = COLLECTS) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {served.url.removeprefix('http://')}",
        f"Authorization: {headers['Authorization']}",
        "Content-Type: multipart/form-data; boundary=b",
        f"Content-Length: {length}",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match.group(1))


def test_a_50_mib_content_length_is_refused_before_any_body_is_sent(
    server: tuple[Served, dict[str, str]],
) -> None:
    served, headers = server
    before = rss(served.process.pid)
    # only the head: a server that waited for the announced body would never answer
    answer = raw_request(served, head(served, headers, 50 * MIB))
    assert status_of(answer) == 413, answer[:300]
    assert b"application/problem+json" in answer.lower()
    assert rss(served.process.pid) - before < 20 * MIB


def test_a_50_mib_body_behind_a_small_content_length_keeps_memory_flat(
    server: tuple[Served, dict[str, str]],
) -> None:
    served, headers = server
    sent = [0]
    before = rss(served.process.pid)
    with PeakRss(served.process.pid) as memory:
        answer = raw_request(served, head(served, headers, 1000), form_stream(50 * MIB, sent))
    assert 400 <= status_of(answer) < 500, answer[:300]
    growth = memory.peak - before
    assert growth < 20 * MIB, f"RSS grew by {growth / MIB:.1f} MiB"
    with httpx.Client(base_url=served.url, timeout=10) as http:
        assert http.get("/health/live").status_code == 200
        listed = http.get(COLLECTS, params={"author": "me"}, headers=headers).json()
        assert "huge" not in [item["title"] for item in listed["results"]]


def test_a_literal_dot_dot_path_never_leaves_the_media_folder(
    server: tuple[Served, dict[str, str]],
) -> None:
    served, _ = server
    host = served.url.removeprefix("http://")
    for target in (
        "/media/../serve.log",
        "/media/../fundraising.sqlite3",
        "/media/covers/../../serve.log",
        "/media/..%2fserve.log",
        "/media/%2e%2e/%2e%2e/etc/passwd",
    ):
        request = f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        answer = raw_request(served, request.encode())
        assert status_of(answer) in (400, 404), (target, answer[:300])
        assert b"SQLite format" not in answer and b"Uvicorn running" not in answer, target
        assert b"root:" not in answer, target
