"""A real HTTP receiver for webhook tests: a threaded server on 127.0.0.1 that records what it
is sent and answers what the test scripts (a status, or silence past the sender's timeout)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import define, field


@define
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@define
class Receiver:
    url: str = ""
    answers: list[int | float] = field(factory=list)  # int: a status; float: seconds of silence
    received: list[Received] = field(factory=list)
    lock: threading.Lock = field(factory=threading.Lock)

    def next_answer(self) -> int | float:
        with self.lock:
            return self.answers.pop(0) if self.answers else 200

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = receiver.next_answer()
            with receiver.lock:
                receiver.received.append(Received(self.path, headers, body))
            if isinstance(answer, float):
                time.sleep(answer)
                answer = 200
            self.send_response(answer)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
