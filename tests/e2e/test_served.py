"""`fundraising serve` as a real process on a real socket: a donation end to end, then SIGTERM."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from attrs import frozen

from tests.e2e.conftest import PASSWORD

STARTUP_SECONDS = 30
STOP_SECONDS = 10


@frozen
class Served:
    """A running `fundraising serve` process and where it keeps its files."""

    process: subprocess.Popen[bytes]
    url: str
    root: Path

    @property
    def mail_dir(self) -> Path:
        return self.root / "mail"

    def log(self) -> str:
        return (self.root / "serve.log").read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then a graceful exit within STOP_SECONDS.

        uvicorn re-raises the signal it caught once its shutdown is done, so a clean stop
        ends with -SIGTERM (or 0); the log shows that the app's shutdown ran to the end.
        """
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"still running {STOP_SECONDS}s after SIGTERM:\n{self.log()}")
        log = self.log()
        assert status in {0, -signal.SIGTERM}, f"exit status {status}:\n{log}"
        assert "Application shutdown complete" in log, log
        assert "Traceback" not in log, log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("fundraising")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fundraising"]


@contextmanager
def serving(root: Path, **env: str) -> Iterator[Served]:
    """`fundraising serve` over a SQLite file under `root` (and `env` on top), until
    /health/live answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("FUNDRAISING_")
    }
    environment.update(
        FUNDRAISING_ENV="test",
        FUNDRAISING_DATABASE_URL=f"sqlite:///{root / 'fundraising.sqlite3'}",
        FUNDRAISING_MEDIA_DIR=str(root / "media"),
        FUNDRAISING_MAIL_DIR=str(root / "mail"),
        FUNDRAISING_PUBLIC_URL=url,
    )
    environment.update(env)
    with (root / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [*_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=root,  # no .env of the checkout is read
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    served = Served(process, url, root)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"`fundraising serve` exited with {process.returncode}:\n{served.log()}"
                )
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"/health/live did not answer in {STARTUP_SECONDS}s:\n{served.log()}")
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path) as running:
        yield running


def _register(
    http: httpx.Client,
    username: str,
    first: str = "",
    last: str = "",
    *,
    mail: Path | None = None,
) -> dict[str, str]:
    """A new account's bearer header; with `mail`, its address is first verified through the
    link of the activation e-mail written there."""
    account = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "first_name": first,
        "last_name": last,
    }
    assert http.post("/auth/users/", json=account).status_code == 201
    if mail is not None:
        [activation] = _mails_to(mail, account["email"], "account_activation")
        link = next(line for line in _text(activation).splitlines() if "/activate/" in line)
        uid, token = link.strip().split("/")[-2:]
        activated = http.post("/auth/users/activation/", json={"uid": uid, "token": token})
        assert activated.status_code == 204, activated.text
    return _log_in(http, username)


def _log_in(http: httpx.Client, username: str) -> dict[str, str]:
    tokens = http.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access']}"}


def _mails_to(
    mail_dir: Path, address: str, kind: str, seconds: float = 15
) -> list[email.message.EmailMessage]:
    """The .eml files of one kind addressed to `address`, waiting for the task queue to write
    one."""
    deadline = time.monotonic() + seconds
    while True:
        found = []
        for path in sorted(mail_dir.glob(f"**/*-{kind}-*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(message["To"]):
                found.append(message)
        if found or time.monotonic() > deadline:
            return found  # type: ignore[return-value]
        time.sleep(0.1)


def _text(message: email.message.EmailMessage) -> str:
    parts = [
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    ]
    return f"{message['Subject']}\n{''.join(parts)}"


def test_a_donation_over_a_real_socket(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        author = _register(http, "author", "Иван", "Петров", mail=served.mail_dir)
        donor = _register(http, "donor", mail=served.mail_dir)

        created = http.post(
            "/api/v1/collects/",
            json={"title": "Подарок Ивану", "goal_amount": "1000"},
            headers={**author, "X-Request-ID": "e2e-create.1"},
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Request-ID"] == "e2e-create.1"
        collect = created.json()
        assert created.headers["Location"] == f"{served.url}/api/v1/collects/{collect['id']}/"

        paid = http.post(
            "/api/v1/payments/",
            json={"collect": collect["id"], "amount": 250.5, "transaction_id": "sber_served_1"},
            headers=donor,
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["amount"] == "250.50"
        assert paid.json()["status"] == "completed"

        detail = http.get(f"/api/v1/collects/{collect['id']}/", headers=donor)
        assert detail.status_code == 200
        body = detail.json()
        assert body["collected_amount"] == "250.50"
        assert body["donations_count"] == 1
        assert body["donors_count"] == 1
        assert body["progress"] == 25.1
        assert body["author_name"] == "Иван Петров"
        paid_at = paid.json()["payment_date"]
        assert body["payments"] == [
            {"amount": "250.50", "payment_date": paid_at, "donor_name": "donor", "comment": None}
        ]

        generated = {detail.headers["X-Request-ID"], paid.headers["X-Request-ID"]}
        assert len(generated) == 2
        assert all(0 < len(value) <= 128 for value in generated)

        ready = http.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.headers["X-Request-ID"]

    thanks = _mails_to(served.mail_dir, "donor@example.com", "donation_thanks")
    assert len(thanks) == 1, sorted(path.name for path in served.mail_dir.glob("**/*"))
    assert "Подарок Ивану" in _text(thanks[0])

    served.stop()


def test_sigterm_stops_an_idle_server_promptly(served: Served) -> None:
    served.stop()  # fails unless it exits cleanly within STOP_SECONDS
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{served.url}/health/live", timeout=1)


def test_huge_numbers_hold_up_no_request(served: Served) -> None:
    """A JSON number is never expanded into its digits on the event loop: while hostile bodies
    arrive, the same server keeps answering, and they get their 400s (before the fix, one
    `1e1000000` held the only event loop for 33 s — past every timeout below)."""
    hostile = b'{"collect": 1, "amount": "1", "transaction_id": "t", "metadata": {"x": 1e1000000}}'
    with httpx.Client(base_url=served.url, timeout=10) as http:
        token = _register(http, "prober")
        headers = {**token, "Content-Type": "application/json"}
        with ThreadPoolExecutor(max_workers=4) as pool:
            attacks = [
                pool.submit(http.post, "/api/v1/payments/", content=hostile, headers=headers)
                for _ in range(8)
            ]
            alive = [http.get("/health/live") for _ in range(20)]
            answers = [attack.result() for attack in attacks]
    assert all(response.status_code == 200 for response in alive)
    assert [response.status_code for response in answers] == [400] * 8
    assert all(response.json()["errors"][0]["field"] == "metadata" for response in answers)
    served.stop()
