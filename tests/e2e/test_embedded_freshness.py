"""The embedded mode (no Redis) across processes: what the admin CLI or a `fundraising worker`
writes shows in a running `fundraising serve`'s next answer, though it comes from its cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.cli_helpers import Cli, assert_ok, database
from tests.e2e.conftest import image_bytes
from tests.e2e.test_served import STARTUP_SECONDS, Served, _log_in, _register, serving
from tests.integration.fixtures_services import exclusive_redis_db, wait_until

BROKER_DB = 9


@contextmanager
def embedded(root: Path, **env: str) -> Iterator[tuple[Served, Cli]]:
    """`fundraising serve`, and the command line beside it: one database, one changes file."""
    changes = str(root / "cache-changes")
    with serving(root, FUNDRAISING_CACHE_CHANGES_FILE=changes, **env) as served:
        url = f"sqlite:///{root / 'fundraising.sqlite3'}"
        yield served, Cli(root, url, FUNDRAISING_CACHE_CHANGES_FILE=changes, **env)


def cached(http: httpx.Client, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """GET `path` until the server answers it from its cache; the body of that hit."""
    http.get(path, headers=headers)
    hit = http.get(path, headers=headers)
    assert (hit.status_code, hit.headers["X-Cache"]) == (200, "HIT"), hit.text
    return dict(hit.json())


def test_admin_commands_show_in_the_servers_next_answer(tmp_path: Path) -> None:
    with (
        embedded(tmp_path) as (served, cli),
        httpx.Client(base_url=served.url, timeout=10) as http,
    ):
        author, donor = _register(http, "author"), _register(http, "donor")
        created = http.post("/api/v1/collects/", json={"title": "Подарок"}, headers=author)
        collect_id = created.json()["id"]
        paid = http.post(
            "/api/v1/payments/",
            json={"collect": collect_id, "amount": "250.50", "transaction_id": "sber_cli_1"},
            headers=donor,
        )
        assert paid.status_code == 201, paid.text
        with database(cli.database_url) as db:  # drift for `reconcile --fix` to repair
            db.execute(
                "UPDATE collects SET collected_kopecks = collected_kopecks + 10000 WHERE id = :id",
                id=collect_id,
            )
        detail, listing = f"/api/v1/collects/{collect_id}/", "/api/v1/collects/"

        assert cached(http, detail, author)["is_active"] is True
        assert_ok(cli.run("deactivate-collect", str(collect_id)))
        assert http.get(detail, headers=author).json()["is_active"] is False

        assert cached(http, detail, author)["collected_amount"] == "350.50"
        assert "fixed 1" in assert_ok(cli.run("reconcile", "--fix")).stdout
        assert http.get(detail, headers=author).json()["collected_amount"] == "250.50"

        assert cached(http, listing, author)["count"] == 1
        assert_ok(cli.run("generate-test-data", "--users", "2", "--collects", "3"))
        assert http.get(listing, headers=author).json()["count"] == 4
        served.stop()


def test_an_account_deactivated_from_the_command_line_is_refused_on_a_cache_hit(
    tmp_path: Path,
) -> None:
    with (
        embedded(tmp_path) as (served, cli),
        httpx.Client(base_url=served.url, timeout=10) as http,
    ):
        author = _register(http, "author")
        created = http.post("/api/v1/collects/", json={"title": "Подарок"}, headers=author)
        detail = f"/api/v1/collects/{created.json()['id']}/"
        cached(http, detail, author)

        assert_ok(cli.run("deactivate-user", "author"))
        refused = http.get(detail, headers=author)
        assert refused.status_code == 401, refused.text

        assert_ok(cli.run("activate-user", "author"))
        assert http.get(detail, headers=author).status_code == 401, "revoked tokens stay so"
        assert cached(http, detail, _log_in(http, "author"))["id"]
        served.stop()


@pytest.mark.redis
def test_a_cover_processed_by_a_worker_process_shows_in_the_cached_detail(tmp_path: Path) -> None:
    """A Redis broker but no Redis cache: the worker tells the server's memory cache."""
    with (
        exclusive_redis_db(BROKER_DB) as broker,
        embedded(tmp_path, FUNDRAISING_BROKER_URL=broker) as (served, cli),
        httpx.Client(base_url=served.url, timeout=10) as http,
    ):
        author = _register(http, "author")
        created = http.post(
            "/api/v1/collects/",
            data={"title": "С обложкой"},
            files={"cover": ("cover.png", image_bytes(), "image/png")},
            headers=author,
        )
        assert created.status_code == 201, created.text
        detail = f"/api/v1/collects/{created.json()['id']}/"
        assert cached(http, detail, author)["cover_status"] == "processing", "no worker yet"

        worker = cli.start("worker")
        try:
            ready = wait_until(
                lambda: (
                    (body := http.get(detail, headers=author).json())["cover_status"] == "ready"
                    and body
                ),
                timeout=STARTUP_SECONDS,
                interval=0.1,
                what="the processed cover showing in the cached detail",
            )
        finally:
            stopped = worker.stop()
        assert "Traceback" not in stopped.output, stopped.describe()
        assert ready["cover_url"].startswith(served.url)
        served.stop()
