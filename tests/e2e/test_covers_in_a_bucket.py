"""Covers in an S3-compatible bucket (moto's server): uploaded through the API, processed,
published under FUNDRAISING_MEDIA_URL, gone from the bucket with their collect; /media/ is not
served by the app then."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from fundraising.settings import Settings
from tests.e2e.conftest import e2e_settings, image_bytes, wait_for
from tests.e2e.cover_helpers import COLLECTS, MakeAccount
from tests.integration.fixtures_services import (
    S3Server,
    s3_server_fixture,  # noqa: F401  (fixture)
)


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    name = s3_server.bucket()
    s3_server.publish(name, "media/covers/")  # uploads awaiting processing stay private
    return name


@pytest.fixture
def settings(e2e_database: str, tmp_path: Path, s3_server: S3Server, bucket: str) -> Settings:
    return e2e_settings(e2e_database, tmp_path, **s3_server.settings(f"s3://{bucket}/media"))


def test_a_cover_is_published_from_the_bucket_and_leaves_with_its_collect(
    client: TestClient[Any],
    make_account: MakeAccount,
    settings: Settings,
    s3_server: S3Server,
    bucket: str,
) -> None:
    author = make_account()
    created = client.post(
        COLLECTS,
        data={"title": "обложка в бакете"},
        files={"cover": ("c.png", image_bytes("PNG", (40, 30)), "image/png")},
        headers=author.headers,
    )
    assert created.status_code == 201, created.text
    detail_url = f"{COLLECTS}{created.json()['id']}/"

    def ready() -> Any:
        detail = client.get(detail_url, headers=author.headers).json()
        return detail if detail["cover_status"] == "ready" else None

    cover_url = wait_for(ready, timeout=15)["cover_url"]
    assert settings.media_url is not None
    assert cover_url.startswith(f"{settings.media_url}covers/"), cover_url
    with urllib.request.urlopen(cover_url, timeout=5) as published:  # from the bucket itself
        assert published.read(3) == b"\xff\xd8\xff"
    assert s3_server.keys(bucket) == [f"media/{cover_url.removeprefix(settings.media_url)}"]
    key = cover_url.removeprefix(settings.media_url)
    assert client.get(f"/media/{key}").status_code == 404, "the app serves no /media/"

    deleted = client.delete(detail_url, headers=author.headers)
    assert deleted.status_code == 204, deleted.text
    assert wait_for(lambda: s3_server.keys(bucket) == []), s3_server.keys(bucket)
