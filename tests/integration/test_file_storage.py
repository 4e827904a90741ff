"""The file-storage port's two adapters, local files and an S3-compatible bucket (moto's
server), held to the same rules; and the settings, readiness and URLs of a bucket."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fundraising.adapters.files.keys import s3_location
from fundraising.adapters.files.local import LocalFileStorage
from fundraising.adapters.files.s3 import S3FileStorage, s3_client
from fundraising.application.ports.files import FileStorage
from fundraising.container import Container
from fundraising.settings import Settings
from tests.e2e.conftest import e2e_settings
from tests.integration.fixtures_services import (
    S3Server,
    s3_server_fixture,  # noqa: F401  (fixture)
)


def bucket_storage(server: S3Server, url: str) -> S3FileStorage:
    client = s3_client(
        endpoint_url=server.endpoint_url,
        region=server.REGION,
        access_key_id=server.ACCESS_KEY,
        secret_access_key=server.SECRET_KEY,
    )
    return S3FileStorage(client, url)


@pytest.fixture(name="storage", params=["local", "s3"])
def storage_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server
) -> FileStorage:
    if request.param == "local":
        return LocalFileStorage(tmp_path / "media")
    return bucket_storage(s3_server, f"s3://{s3_server.bucket()}/media")


def test_a_saved_file_reads_back_under_a_fresh_unguessable_key(storage: FileStorage) -> None:
    first = storage.save(io.BytesIO(b"one"), folder="uploads", suffix=".upload")
    second = storage.save(io.BytesIO(b"two"), folder="uploads", suffix=".upload")
    assert re.fullmatch(r"uploads/[0-9a-f]{48}\.upload", first), first
    assert first != second
    assert storage.read(first) == b"one"
    assert storage.read(second) == b"two"
    assert storage.exists(first)


def test_saving_under_a_name_again_replaces_the_file(storage: FileStorage) -> None:
    key = storage.save(io.BytesIO(b"old"), folder="covers", suffix=".jpg", name="abc")
    again = storage.save(io.BytesIO(b"new"), folder="covers", suffix=".jpg", name="abc")
    assert key == again == "covers/abc.jpg"
    assert storage.read(key) == b"new"


def test_a_missing_file_is_not_found_and_deleting_it_is_harmless(storage: FileStorage) -> None:
    with pytest.raises(FileNotFoundError):
        storage.read("uploads/nothing.upload")
    assert not storage.exists("uploads/nothing.upload")
    storage.delete("uploads/nothing.upload")
    key = storage.save(io.BytesIO(b"x"), folder="uploads", suffix=".upload")
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.read(key)


def test_a_bucket_keeps_files_under_its_prefix_with_their_content_type(
    s3_server: S3Server,
) -> None:
    bucket = s3_server.bucket()
    storage = bucket_storage(s3_server, f"s3://{bucket}/site/media/")
    key = storage.save(io.BytesIO(b"\xff\xd8jpeg"), folder="covers", suffix=".jpg")
    assert s3_server.keys(bucket) == [f"site/media/{key}"]
    head = s3_server.client().head_object(Bucket=bucket, Key=f"site/media/{key}")
    assert head["ContentType"] == "image/jpeg"


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("s3://covers", ("covers", "")),
        ("s3://covers/", ("covers", "")),
        ("s3://covers/a/b/", ("covers", "a/b/")),
    ],
)
def test_an_s3_url_names_a_bucket_and_a_prefix(url: str, location: tuple[str, str]) -> None:
    assert s3_location(url) == location


# --- settings, readiness, links ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["covers", "https://bucket.example.com", "s3://", "s3:///x"])
def test_a_storage_url_that_names_no_bucket_is_refused_by_name(url: str) -> None:
    with pytest.raises(ValidationError, match="FUNDRAISING_STORAGE_URL"):
        Settings(_env_file=None, storage_url=url, media_url="https://cdn.example.com")  # type: ignore[call-arg]


def test_a_bucket_needs_the_url_browsers_read_its_files_from() -> None:
    with pytest.raises(ValidationError, match="FUNDRAISING_MEDIA_URL"):
        Settings(_env_file=None, storage_url="s3://covers")  # type: ignore[call-arg]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        storage_url="s3://covers",
        media_url="https://cdn.example.com/covers",
    )
    assert settings.media_url == "https://cdn.example.com/covers/"


@contextmanager
def container_with(tmp_path: Path, **storage: Any) -> Iterator[Container]:
    container = Container(
        settings=e2e_settings(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path, **storage)
    )
    try:
        yield container
    finally:
        container.shutdown_resources()


@pytest.fixture(name="bucket_container")
def bucket_container_fixture(tmp_path: Path, s3_server: S3Server) -> Iterator[Container]:
    with container_with(tmp_path, **s3_server.settings(f"s3://{s3_server.bucket()}")) as found:
        yield found


def test_readiness_reports_the_bucket(bucket_container: Container, s3_server: S3Server) -> None:
    assert bucket_container.readiness().check()["storage"] == "ok"
    bucket = s3_location(bucket_container.settings().storage_url)[0]
    s3_server.client().delete_bucket(Bucket=bucket)
    assert bucket_container.readiness().check()["storage"].startswith("unavailable")


def test_local_files_are_no_readiness_check(tmp_path: Path) -> None:
    with container_with(tmp_path) as container:
        assert "storage" not in container.readiness().check()


def test_links_to_files_in_a_bucket_start_with_the_media_url(bucket_container: Container) -> None:
    media_url = bucket_container.settings().media_url
    assert media_url is not None
    assert bucket_container.links().media() == media_url
