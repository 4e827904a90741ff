"""The response cache through the real app and Redis: hits run no SQL, and a GET that starts
after a write was answered always reflects it — under concurrent donations, and while Redis
goes away and comes back."""

from __future__ import annotations

import io
import itertools
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import Engine, event

from fundraising.container import Container
from fundraising.entrypoints.http.app import asgi_app
from fundraising.settings import Settings
from tests.integration.fixtures_services import (
    RedisServer,
    SharedRedis,
    redis_server_fixture,  # noqa: F401  (fixture)
    shared_redis_fixture,  # noqa: F401  (fixture)
    wait_until,
)

pytestmark = pytest.mark.redis
BASE = "http://testserver.local"
PASSWORD = "correct horse battery"
CACHE_DB = 12
BROKER_DB = 14
COLLECTS = "/api/v1/collects/"
_numbers = itertools.count(1)


@frozen
class Account:
    id: int
    username: str
    headers: dict[str, str]
    refresh: str


class Server:
    """The app over a real container, and what a test needs to drive and observe it."""

    def __init__(self, client: TestClient[Any], container: Container) -> None:
        self.client = client
        self.container = container
        self._sql: list[str] | None = None
        engine: Engine = container.engine()
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._sql is not None:
            self._sql.append(statement)

    @contextmanager
    def sql(self) -> Iterator[list[str]]:
        """The statements sent to the database inside the block."""
        self._sql = seen = []
        try:
            yield seen
        finally:
            self._sql = None

    def account(self) -> Account:
        username = f"user{next(_numbers)}"
        created = self.client.post(
            "/auth/users/",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert created.status_code == 201, created.text
        tokens = self.client.post(
            "/auth/jwt/create/", json={"username": username, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        headers = {"Authorization": f"Bearer {tokens.json()['access']}"}
        return Account(created.json()["id"], username, headers, tokens.json()["refresh"])

    def collect(self, author: Account, title: str = "Подарок Ивану") -> int:
        created = self.client.post(
            COLLECTS, json={"title": title, "goal_amount": "1000"}, headers=author.headers
        )
        assert created.status_code == 201, created.text
        return int(created.json()["id"])

    def donate(self, donor: Account, collect_id: int, amount: str | Decimal) -> None:
        paid = self.client.post(
            "/api/v1/payments/",
            json={
                "collect": collect_id,
                "amount": str(amount),
                "transaction_id": f"tx-{next(_numbers)}-{random.getrandbits(32)}",
            },
            headers=donor.headers,
        )
        assert paid.status_code == 201, paid.text

    def cached(self, path: str, who: Account) -> Any:
        """GET `path` until it is a cache hit; the body of the hit."""
        self.client.get(path, headers=who.headers)
        response = self.client.get(path, headers=who.headers)
        assert response.status_code == 200, response.text
        assert response.headers["x-cache"] == "HIT"
        return response.json()


@contextmanager
def serving(directory: Path, redis_url: str, broker_url: str | None = None) -> Iterator[Server]:
    """The app; with `broker_url` it only publishes (as in production), else it also runs the
    embedded worker threads (covers processed, e-mails written to files)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=f"sqlite:///{directory / 'fundraising.sqlite3'}",
        media_dir=directory / "media",
        mail_dir=directory / "mail",
        redis_url=redis_url,
        broker_url=broker_url,
        public_url=BASE,
    )
    container = Container(settings=settings)
    with TestClient(asgi_app(container), base_url=BASE) as client:
        yield Server(client, container)


@pytest.fixture(name="server")
def server_fixture(tmp_path: Path, shared_redis: SharedRedis) -> Iterator[Server]:
    with serving(tmp_path, shared_redis(CACHE_DB)) as server:
        yield server


@pytest.fixture(name="web_server")
def web_server_fixture(tmp_path: Path, shared_redis: SharedRedis) -> Iterator[Server]:
    """A web process alone: no worker threads of its own whose SQL would blur the count."""
    with serving(tmp_path, shared_redis(CACHE_DB), broker_url=shared_redis(BROKER_DB)) as server:
        yield server


def png(width: int = 320, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


# --- hits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["detail", "list", "feed"])
def test_a_second_read_is_a_hit_that_runs_no_sql(web_server: Server, view: str) -> None:
    server = web_server
    author = server.account()
    collect_id = server.collect(author)
    server.donate(server.account(), collect_id, "150.00")
    path = {
        "detail": f"{COLLECTS}{collect_id}/",
        "list": f"{COLLECTS}?page_size=5",
        "feed": f"{COLLECTS}{collect_id}/payments/",
    }[view]

    first = server.client.get(path, headers=author.headers)
    assert first.status_code == 200, first.text
    assert first.headers["x-cache"] == "MISS"
    with server.sql() as statements:
        second = server.client.get(path, headers=author.headers)
    assert second.status_code == 200
    assert second.headers["x-cache"] == "HIT"
    assert statements == [], "a cache hit ran SQL"
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"].startswith("application/json")
    assert second.headers["x-request-id"]

    with server.sql() as statements:
        revalidated = server.client.get(
            path, headers={**author.headers, "If-None-Match": first.headers["etag"]}
        )
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == first.headers["etag"]
    assert statements == []


def test_a_cached_response_still_needs_a_valid_access_token(server: Server) -> None:
    author = server.account()
    collect_id = server.collect(author)
    for path in (f"{COLLECTS}{collect_id}/", COLLECTS, f"{COLLECTS}{collect_id}/payments/"):
        server.cached(path, author)
        for headers in (
            {},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": f"Bearer {author.refresh}"},
            {"Authorization": author.headers["Authorization"][:-2]},
        ):
            refused = server.client.get(path, headers=headers)
            assert refused.status_code == 401, (path, headers, refused.status_code)
            assert "x-cache" not in refused.headers


def test_a_hit_is_served_to_another_user_only_when_it_does_not_depend_on_who_asks(
    server: Server,
) -> None:
    ivan, petr = server.account(), server.account()
    server.collect(ivan, "Ивана")
    server.collect(petr, "Петра")
    mine = f"{COLLECTS}?author=me"
    assert [c["title"] for c in server.cached(mine, ivan)["results"]] == ["Ивана"]
    theirs = server.client.get(mine, headers=petr.headers)
    assert [c["title"] for c in theirs.json()["results"]] == ["Петра"]


# --- freshness after each kind of write -------------------------------------------------


def test_a_new_collect_shows_in_the_cached_list(server: Server) -> None:
    author = server.account()
    server.collect(author, "Первый")
    assert [c["title"] for c in server.cached(COLLECTS, author)["results"]] == ["Первый"]

    server.collect(author, "Второй")
    fresh = server.client.get(COLLECTS, headers=author.headers)
    assert fresh.headers["x-cache"] == "MISS"
    assert [c["title"] for c in fresh.json()["results"]] == ["Второй", "Первый"]


def test_a_change_shows_in_the_cached_detail_and_list(server: Server) -> None:
    author = server.account()
    collect_id = server.collect(author, "Старое название")
    detail = f"{COLLECTS}{collect_id}/"
    server.cached(detail, author)
    server.cached(COLLECTS, author)

    changed = server.client.patch(
        detail, json={"title": "Новое название", "is_active": False}, headers=author.headers
    )
    assert changed.status_code == 200, changed.text
    fresh = server.client.get(detail, headers=author.headers).json()
    assert (fresh["title"], fresh["is_active"]) == ("Новое название", False)
    listed = server.client.get(COLLECTS, headers=author.headers).json()["results"]
    assert [(c["title"], c["is_active"]) for c in listed] == [("Новое название", False)]


def test_a_deleted_collect_is_gone_from_the_cached_detail_and_list(server: Server) -> None:
    author = server.account()
    keep = server.collect(author, "Остаётся")
    gone = server.collect(author, "Удаляется")
    server.cached(f"{COLLECTS}{gone}/", author)
    server.cached(f"{COLLECTS}{gone}/payments/", author)
    server.cached(COLLECTS, author)

    deleted = server.client.delete(f"{COLLECTS}{gone}/", headers=author.headers)
    assert deleted.status_code == 204, deleted.text
    assert server.client.get(f"{COLLECTS}{gone}/", headers=author.headers).status_code == 404
    feed = server.client.get(f"{COLLECTS}{gone}/payments/", headers=author.headers)
    assert feed.status_code == 404
    listed = server.client.get(COLLECTS, headers=author.headers).json()["results"]
    assert [c["id"] for c in listed] == [keep]


def test_a_donation_shows_in_the_cached_detail_feed_and_list(server: Server) -> None:
    author, donor = server.account(), server.account()
    collect_id = server.collect(author)
    detail, feed = f"{COLLECTS}{collect_id}/", f"{COLLECTS}{collect_id}/payments/"
    assert server.cached(detail, author)["collected_amount"] == "0.00"
    assert server.cached(feed, author)["count"] == 0
    server.cached(COLLECTS, author)

    server.donate(donor, collect_id, "250.50")
    fresh = server.client.get(detail, headers=author.headers).json()
    assert (fresh["collected_amount"], fresh["donations_count"]) == ("250.50", 1)
    assert [p["amount"] for p in fresh["payments"]] == ["250.50"]
    assert server.client.get(feed, headers=author.headers).json()["count"] == 1
    listed = server.client.get(COLLECTS, headers=author.headers).json()["results"]
    assert listed[0]["collected_amount"] == "250.50"


def test_a_processed_cover_shows_in_the_cached_detail_and_list(server: Server) -> None:
    author = server.account()
    collect_id = server.collect(author)
    detail = f"{COLLECTS}{collect_id}/"
    server.cached(COLLECTS, author)

    uploaded = server.client.patch(
        detail, files={"cover": ("cover.png", png(), "image/png")}, headers=author.headers
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["cover_status"] in ("processing", "ready")

    # Every poll may be served from the cache: only the worker's bump lets "ready" through.
    ready = wait_until(
        lambda: (
            (body := server.client.get(detail, headers=author.headers).json())
            and body["cover_status"] == "ready"
            and body
        ),
        timeout=15,
        what="the processed cover showing in the detail",
    )
    assert ready["cover_url"].startswith(f"{BASE}/media/")
    image = server.client.get(ready["cover_url"].removeprefix(BASE))
    assert image.status_code == 200
    assert image.content[:2] == b"\xff\xd8", "a JPEG"
    listed = server.client.get(COLLECTS, headers=author.headers).json()["results"]
    assert (listed[0]["cover_status"], listed[0]["cover_url"]) == ("ready", ready["cover_url"])


# --- concurrency ----------------------------------------------------------------------------


def test_no_read_that_starts_after_a_donation_misses_it(server: Server) -> None:
    """8 donors and 8 readers for 3 s or more (until the cache served reads): a reader notes
    the total of the donations confirmed (201) before it sends its GET; the answer may never
    show less."""
    author = server.account()
    collect_id = server.collect(author)
    donors = [server.account() for _ in range(8)]
    readers = [server.account() for _ in range(8)]
    detail = f"{COLLECTS}{collect_id}/"
    lock = threading.Lock()
    confirmed = {"total": Decimal("0.00"), "count": 0}
    stats = {"reads": 0, "hits": 0}
    problems: list[str] = []
    stop = threading.Event()

    def donate(donor: Account, seed: int) -> None:
        chance = random.Random(seed)
        try:
            while not stop.is_set():
                amount = Decimal(chance.randint(100, 10_000)) / 100
                server.donate(donor, collect_id, amount)
                with lock:
                    confirmed["total"] += amount
                    confirmed["count"] += 1
                time.sleep(chance.uniform(0.05, 0.2))
        except BaseException as error:
            problems.append(f"donor: {error!r}")

    def read(reader: Account) -> None:
        try:
            while not stop.is_set():
                with lock:
                    floor = confirmed["total"]
                response = server.client.get(detail, headers=reader.headers)
                if response.status_code != 200:
                    problems.append(f"GET answered {response.status_code}: {response.text}")
                    continue
                body = response.json()
                collected, cache = Decimal(body["collected_amount"]), response.headers["x-cache"]
                with lock:
                    stats["reads"] += 1
                    stats["hits"] += cache == "HIT"
                if collected < floor:
                    problems.append(f"read {collected} after {floor} was confirmed ({cache})")
                if len(body["payments"]) != min(body["donations_count"], 20):
                    problems.append(f"feed and counters disagree: {body}")
        except BaseException as error:
            problems.append(f"reader: {error!r}")

    threads = [
        *(threading.Thread(target=donate, args=(d, n)) for n, d in enumerate(donors)),
        *(threading.Thread(target=read, args=(r,)) for r in readers),
    ]
    for thread in threads:
        thread.start()
    # At least 3 s, and until the cache has served reads (a loaded machine writes between
    # nearly every read at first): the property is only tested where hits happen.
    started = time.monotonic()
    while time.monotonic() - started < 60 and not (
        time.monotonic() - started >= 3 and stats["hits"] >= 20
    ):
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    assert problems == [], problems[:10]
    assert confirmed["count"] > 0
    assert stats["reads"] > 0
    assert stats["hits"] > 0, "the cache never served a read: the property was not exercised"
    final = server.client.get(detail, headers=author.headers).json()
    assert Decimal(final["collected_amount"]) == confirmed["total"]
    assert final["donations_count"] == confirmed["count"]


# --- Redis going away ------------------------------------------------------------------------


def test_requests_are_answered_while_redis_is_down_and_cached_again_after(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with serving(tmp_path, redis_server.url()) as server:
        author, donor = server.account(), server.account()
        collect_id = server.collect(author)
        detail = f"{COLLECTS}{collect_id}/"
        server.donate(donor, collect_id, "100.00")
        assert server.cached(detail, author)["collected_amount"] == "100.00"
        server.cached(COLLECTS, author)

        redis_server.stop(save=True)  # comes back with the entries cached above
        for path in (detail, COLLECTS, f"{COLLECTS}{collect_id}/payments/") * 3:
            response = server.client.get(path, headers=author.headers)
            assert response.status_code == 200, response.text
            assert response.headers["x-cache"] == "BYPASS"
        server.donate(donor, collect_id, "50.00")
        during = server.client.get(detail, headers=author.headers)
        assert (during.status_code, during.headers["x-cache"]) == (200, "BYPASS")
        assert during.json()["collected_amount"] == "150.00"
        logged_in = server.client.post(
            "/auth/jwt/create/", json={"username": donor.username, "password": PASSWORD}
        )
        assert logged_in.status_code == 200, "the login throttle fails open"

        redis_server.start()
        seen: list[tuple[int, str, str]] = []

        def hit_again() -> bool:
            response = server.client.get(detail, headers=author.headers)
            seen.append(
                (
                    response.status_code,
                    response.headers["x-cache"],
                    response.json()["collected_amount"],
                )
            )
            return response.headers["x-cache"] == "HIT"

        wait_until(hit_again, timeout=10, interval=0.05, what="a cache hit after the restart")
        assert {status for status, _, _ in seen} == {200}
        assert {amount for _, _, amount in seen} == {"150.00"}, seen
        listed = server.client.get(COLLECTS, headers=author.headers).json()["results"]
        assert listed[0]["collected_amount"] == "150.00"
