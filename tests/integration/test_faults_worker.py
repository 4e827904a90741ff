"""Faults in the worker: killed while it processes a cover, or after storing it."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import text

from tests.e2e.cli_helpers import Database
from tests.integration.fault_helpers import COLLECTS
from tests.integration.fixtures_services import (
    SmtpSink,
    smtp_sink_fixture,  # noqa: F401  (fixture)
    wait_until,
)
from tests.integration.processes import Account, Api, Deployment, deployment, slow_png

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.redis]


LEASE_SECONDS = 5  # the test profile's task lease


@pytest.fixture(scope="module")
def big_png() -> bytes:
    picture = slow_png()
    assert len(picture) < 2 * 1024 * 1024
    return picture


def _media_files(deployed: Deployment) -> set[str]:
    """Every file under the media folder, temporary ones included, relative to it."""
    root = deployed.media_dir
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def _media_files_once_settled(deployed: Deployment) -> set[str]:
    """The media files once the upload is gone: it is deleted right after the cover is recorded."""
    wait_until(
        lambda: not any(name.startswith("uploads/") for name in _media_files(deployed)),
        timeout=5,
        what="the upload deleted",
    )
    return _media_files(deployed)


def _upload(api: Api, author: Account, picture: bytes) -> int:
    created = api.http.post(
        COLLECTS,
        data={"title": "Подарок с обложкой"},
        files={"cover": ("photo.png", picture, "image/png")},
        headers=author.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["cover_status"] == "processing"
    return int(created.json()["id"])


def _cover_status(db: Database, collect_id: int) -> str:
    return str(db.scalar("SELECT cover_status FROM collects WHERE id = :id", id=collect_id))


def _processed(api: Api, author: Account, collect_id: int) -> dict[str, Any]:
    """The collect once its cover is no longer `processing` (within the lease and a margin)."""

    def done() -> dict[str, Any] | None:
        body = api.detail(collect_id, author).json()
        return None if body["cover_status"] == "processing" else dict(body)

    return wait_until(done, timeout=LEASE_SECONDS + 20, interval=0.1, what="the cover processed")


def _published(api: Api, collect: dict[str, Any]) -> str:
    """The processed cover's key under the media folder, checked to be a real cover."""
    assert collect["cover_status"] == "ready", collect
    image = api.http.get(collect["cover_url"])
    assert image.status_code == 200, image.text
    with Image.open(io.BytesIO(image.content)) as picture:
        assert picture.format == "JPEG"
        assert picture.width <= 1200 and picture.height <= 800, picture.size
    return urlsplit(str(collect["cover_url"])).path.removeprefix("/media/")


def test_a_cover_whose_worker_was_killed_is_processed_by_the_next_one(
    tmp_path: Path, smtp_sink: SmtpSink, big_png: bytes
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        deployed.serve(workers=2)
        worker = deployed.worker()
        api = deployed.api()
        author = api.account("author")
        collect_id = _upload(api, author, big_png)

        with deployed.database() as db:
            claimed = (
                "SELECT COUNT(*) FROM outbox WHERE task LIKE '%process_cover%' "
                "AND claimed_until IS NOT NULL AND finished_at IS NULL"
            )
            wait_until(
                lambda: db.scalar(claimed) == 1,
                timeout=15,
                interval=0.005,
                what="the worker claiming the cover",
            )
            worker.kill()
            assert db.scalar(claimed) == 1, "killed before it finished"
            assert _cover_status(db, collect_id) == "processing"

            deployed.worker()
            collect = _processed(api, author, collect_id)
            published = _published(api, collect)
            unfinished = (
                "SELECT COUNT(*) FROM outbox WHERE finished_at IS NULL OR dead_at IS NOT NULL"
            )
            wait_until(lambda: db.scalar(unfinished) == 0, what="every task finished")
        assert _media_files_once_settled(deployed) == {published}


def test_a_worker_killed_after_storing_a_cover_leaves_no_orphan_file(
    tmp_path: Path, smtp_sink: SmtpSink, big_png: bytes
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        deployed.serve(workers=2)
        worker = deployed.worker()
        api = deployed.api()
        author = api.account("author")
        collect_id = _upload(api, author, big_png)

        with deployed.database() as db, db.engine.connect() as lock:
            # The collect's row held: the worker's recording transaction waits for it.
            lock.execute(
                text("SELECT id FROM collects WHERE id = :id FOR UPDATE"), {"id": collect_id}
            )
            wait_until(
                lambda: any(name.startswith("covers/") for name in _media_files(deployed)),
                timeout=20,
                interval=0.01,
                what="the worker storing the processed cover",
            )
            assert _cover_status(db, collect_id) == "processing", "not recorded yet"
            worker.kill()
            lock.rollback()

        deployed.worker()
        published = _published(api, _processed(api, author, collect_id))
        assert _media_files_once_settled(deployed) == {published}


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def test_the_supervisor_stops_everything_non_zero_when_a_worker_process_dies(
    tmp_path: Path,
) -> None:
    """A worker killed under `--processes 2` is not left missing: the supervisor stops the
    other one and exits non-zero, so that what runs it (compose, systemd) restarts it whole."""
    with deployment(tmp_path) as deployed:
        supervisor = deployed.start("worker", "--processes", "2")
        supervisor.wait_for_log("worker running", count=2)
        first, second = _children(supervisor.pid)

        os.kill(first, signal.SIGKILL)

        wait_until(supervisor.exited, timeout=15, what="the supervisor to exit")
        assert supervisor.exit_code() != 0, supervisor.tail()
        assert f"(pid {first}) exited with -9" in supervisor.log(), supervisor.tail()
        wait_until(lambda: not Path(f"/proc/{second}").exists(), timeout=15, what="the other")
