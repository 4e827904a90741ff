"""Cached GETs of /api/v1/collects/…: HIT/MISS, ETag and 304, freshness after writes,
no leak between users, and no SQL on a hit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import event

from fundraising.container import Container
from tests.e2e.conftest import Account, create_collect, donate, image_bytes, wait_for
from tests.fakes import FixedClock

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"


def paths(collect_id: int) -> list[str]:
    return [
        f"{COLLECTS}?author=me",
        f"{COLLECTS}{collect_id}/",
        f"{COLLECTS}{collect_id}/payments/",
    ]


@contextmanager
def statements_of_requests(container: Container) -> Iterator[list[str]]:
    """SQL statements run while the block runs, except those of the background task threads
    (the outbox relay and the Dramatiq workers poll and deliver e-mails on their own)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        thread = threading.current_thread()
        if thread.name == "outbox-relay" or type(thread).__module__.startswith("dramatiq"):
            return
        seen.append(statement)

    engine = container.engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_second_get_is_a_hit_with_the_same_body_and_etag(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    for path in paths(collect_id):
        first = client.get(path, headers=account.headers)
        second = client.get(path, headers=account.headers)
        assert (first.status_code, second.status_code) == (200, 200), path
        assert first.headers["x-cache"] == "MISS", path
        assert second.headers["x-cache"] == "HIT", path
        assert first.headers["etag"] and first.headers["etag"] == second.headers["etag"]
        assert first.content == second.content
        assert second.headers["content-type"].startswith("application/json")
        assert second.headers["x-request-id"]
        echoed = client.get(path, headers={**account.headers, "X-Request-ID": "hit-id.1"})
        assert echoed.headers["x-cache"] == "HIT"
        assert echoed.headers["x-request-id"] == "hit-id.1"


def test_if_none_match_gives_a_304_without_a_body(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    for path in paths(collect_id):
        etag = client.get(path, headers=account.headers).headers["etag"]
        for candidate in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            response = client.get(path, headers={**account.headers, "If-None-Match": candidate})
            assert response.status_code == 304, (path, candidate)
            assert response.content == b""
            assert response.headers["etag"] == etag
        other = client.get(path, headers={**account.headers, "If-None-Match": '"stale"'})
        assert other.status_code == 200
        assert other.json()


def test_the_etag_changes_with_the_content(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    path = f"{COLLECTS}{collect_id}/"
    etag = client.get(path, headers=account.headers).headers["etag"]
    client.patch(path, json={"title": "changed"}, headers=account.headers)
    response = client.get(path, headers={**account.headers, "If-None-Match": etag})
    assert response.status_code == 200
    assert response.json()["title"] == "changed"
    assert response.headers["etag"] != etag


def warm(client: TestClient[Any], account: Account, path: str) -> dict[str, Any]:
    """GET twice, so that the path is cached; returns the body."""
    client.get(path, headers=account.headers)
    response = client.get(path, headers=account.headers)
    assert response.headers["x-cache"] == "HIT", path
    return dict(response.json())


def fresh(client: TestClient[Any], account: Account, path: str) -> Any:
    response = client.get(path, headers=account.headers)
    assert response.headers.get("x-cache") == "MISS", path
    return response


def test_a_new_collect_shows_in_the_cached_list_at_once(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    list_path = f"{COLLECTS}?author=me"
    everything = f"{COLLECTS}?page_size=100"
    assert warm(client, account, list_path)["count"] == 0
    before = warm(client, account, everything)["count"]
    collect_id = create_collect(client, account, title="fresh")
    listed = fresh(client, account, list_path).json()
    assert [item["id"] for item in listed["results"]] == [collect_id]
    assert fresh(client, account, everything).json()["count"] == before + 1


def test_a_patch_shows_in_the_cached_detail_and_lists_at_once(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account, title="before")
    detail_path = f"{COLLECTS}{collect_id}/"
    list_path = f"{COLLECTS}?author=me"
    inactive_path = f"{COLLECTS}?author=me&is_active=false"
    warm(client, account, detail_path)
    warm(client, account, list_path)
    assert warm(client, account, inactive_path)["count"] == 0
    patched = client.patch(
        detail_path, json={"title": "after", "is_active": False}, headers=account.headers
    )
    assert patched.status_code == 200
    assert fresh(client, account, detail_path).json()["title"] == "after"
    assert fresh(client, account, list_path).json()["results"][0]["title"] == "after"
    assert fresh(client, account, inactive_path).json()["count"] == 1


def test_a_delete_shows_in_the_cached_detail_and_list_at_once(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    detail_path = f"{COLLECTS}{collect_id}/"
    list_path = f"{COLLECTS}?author=me"
    warm(client, account, detail_path)
    warm(client, account, f"{detail_path}payments/")
    assert warm(client, account, list_path)["count"] == 1
    assert client.delete(detail_path, headers=account.headers).status_code == 204
    assert client.get(detail_path, headers=account.headers).status_code == 404
    assert client.get(f"{detail_path}payments/", headers=account.headers).status_code == 404
    assert fresh(client, account, list_path).json()["count"] == 0


def test_a_donation_shows_in_the_cached_detail_feed_and_list_at_once(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    author = make_account()
    donor = make_account("Мария", "Иванова")
    collect_id = create_collect(client, author, goal_amount="200")
    detail_path = f"{COLLECTS}{collect_id}/"
    feed_path = f"{detail_path}payments/"
    list_path = f"{COLLECTS}?author={author.id}"
    for path in (detail_path, feed_path, list_path):
        warm(client, author, path)
        warm(client, donor, path)
    assert donate(client, donor, collect_id, "50").status_code == 201
    detail = fresh(client, donor, detail_path).json()
    assert (detail["collected_amount"], detail["donations_count"], detail["progress"]) == (
        "50.00",
        1,
        25.0,
    )
    assert detail["payments"][0]["donor_name"] == "Мария Иванова"
    assert fresh(client, author, feed_path).json()["count"] == 1
    assert fresh(client, author, list_path).json()["results"][0]["collected_amount"] == "50.00"


def test_a_processed_cover_shows_in_the_cached_detail(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    created = client.post(
        COLLECTS,
        data={"title": "cover"},
        files={"cover": ("c.png", image_bytes(), "image/png")},
        headers=account.headers,
    ).json()
    path = f"{COLLECTS}{created['id']}/"

    def ready() -> bool:
        return bool(client.get(path, headers=account.headers).json()["cover_status"] == "ready")

    assert wait_for(ready), "the cached detail never showed the processed cover"


def test_author_me_is_never_served_to_another_user(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    alice = make_account()
    bob = make_account()
    alices = create_collect(client, alice, title="Alice's")
    path = f"{COLLECTS}?author=me"
    assert [item["id"] for item in warm(client, alice, path)["results"]] == [alices]
    response = client.get(path, headers=bob.headers)
    assert response.json()["count"] == 0
    bobs = create_collect(client, bob, title="Bob's")
    assert [item["id"] for item in client.get(path, headers=bob.headers).json()["results"]] == [
        bobs
    ]
    assert [item["id"] for item in client.get(path, headers=alice.headers).json()["results"]] == [
        alices
    ]


def test_a_hit_runs_no_sql(
    client: TestClient[Any], make_account: MakeAccount, container: Container
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    assert donate(client, account, collect_id, "5").status_code == 201
    for path in paths(collect_id):
        with statements_of_requests(container) as on_miss:
            assert client.get(path, headers=account.headers).headers["x-cache"] == "MISS"
        assert on_miss, "the listener saw no statement on a miss: it measures nothing"
        with statements_of_requests(container) as on_hit:
            assert client.get(path, headers=account.headers).headers["x-cache"] == "HIT"
            etag = client.get(path, headers=account.headers).headers["etag"]
            not_modified = client.get(path, headers={**account.headers, "If-None-Match": etag})
            assert not_modified.status_code == 304
        assert on_hit == [], path


@pytest.mark.settings(cache_enabled=False)
def test_without_the_cache_every_get_is_a_miss(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    collect_id = create_collect(client, account)
    for path in paths(collect_id):
        responses = [client.get(path, headers=account.headers) for _ in range(3)]
        assert [r.headers["x-cache"] for r in responses] == ["MISS"] * 3, path
        etag = responses[0].headers["etag"]
        assert etag == responses[2].headers["etag"]
        not_modified = client.get(path, headers={**account.headers, "If-None-Match": etag})
        assert not_modified.status_code == 304
    client.patch(f"{COLLECTS}{collect_id}/", json={"title": "new"}, headers=account.headers)
    assert client.get(f"{COLLECTS}{collect_id}/", headers=account.headers).json()["title"] == "new"


def test_errors_are_not_cached(client: TestClient[Any], make_account: MakeAccount) -> None:
    account = make_account()
    for path in (f"{COLLECTS}{2**62}/", f"{COLLECTS}?ordering=bad", f"{COLLECTS}?page=99"):
        first = client.get(path, headers=account.headers)
        second = client.get(path, headers=account.headers)
        assert first.status_code == second.status_code
        assert first.status_code in (400, 404)
        assert second.headers.get("x-cache") != "HIT"


def test_unknown_query_parameters_change_nothing_and_make_no_entry(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    """Each unknown parameter used to make an entry of its own (up to ~2 MB each, for 300 s)."""
    account = make_account()
    collect_id = create_collect(client, account)
    create_collect(client, account)
    for path in paths(collect_id):
        sep = "&" if "?" in path else "?"
        first = client.get(f"{path}{sep}page_size=1&junk=1", headers=account.headers)
        other = client.get(f"{path}{sep}page_size=1&junk=2&x={'y' * 1000}", headers=account.headers)
        assert (first.headers["x-cache"], other.headers["x-cache"]) == ("MISS", "HIT"), path
        assert other.content == first.content
        assert "junk" not in first.text, "links repeat only what the list knows"


def test_a_search_longer_than_a_title_is_a_400(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    found = client.get(COLLECTS, params={"search": "я" * 255}, headers=account.headers)
    assert found.status_code == 200
    refused = client.get(COLLECTS, params={"search": "я" * 256}, headers=account.headers)
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["search"]


def test_a_cached_collect_never_shows_open_after_its_end(
    client: TestClient[Any], make_account: MakeAccount, clock: FixedClock
) -> None:
    """`ended` comes with the clock, not with a write: an entry lives no longer than that."""
    account = make_account()
    ends = clock.now() + timedelta(seconds=1)
    collect_id = create_collect(client, account, end_date=ends.isoformat())
    detail = f"{COLLECTS}{collect_id}/"
    listing = f"{COLLECTS}?author=me"
    for path in (detail, listing):
        assert client.get(path, headers=account.headers).headers["x-cache"] == "MISS"
        assert client.get(path, headers=account.headers).headers["x-cache"] == "HIT"

    time.sleep(1.2)  # the entries' lifetime, in real time
    clock.advance(seconds=2)

    after = client.get(detail, headers=account.headers)
    assert (after.headers["x-cache"], after.json()["status"]) == ("MISS", "ended")
    listed = client.get(listing, headers=account.headers).json()["results"]
    assert [item["status"] for item in listed if item["id"] == collect_id] == ["ended"]


def test_a_body_over_a_mebibyte_is_answered_but_not_kept(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    """The cache shares Redis with the broker and the limits: no answer may take over it."""
    account = make_account()
    for number in range(60):
        create_collect(client, account, title=f"big {number}", description="ж" * 10_000)
    path = f"{COLLECTS}?author=me&page_size=100"
    first = client.get(path, headers=account.headers)
    second = client.get(path, headers=account.headers)
    assert len(first.content) > 1024 * 1024
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "MISS")
    assert second.content == first.content
    small = f"{COLLECTS}?author=me&page_size=10"
    client.get(small, headers=account.headers)
    assert client.get(small, headers=account.headers).headers["x-cache"] == "HIT"
