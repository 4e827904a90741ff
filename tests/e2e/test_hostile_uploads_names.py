"""Hostile file names and media paths: a name never chooses where a cover is stored or served."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from fundraising.settings import Settings
from tests.e2e.conftest import assert_problem, check_each, image_bytes
from tests.e2e.cover_helpers import (
    COLLECTS,
    MakeAccount,
    assert_clean_jpeg,
    media_files,
    post_cover,
    published,
)

CANARY = "CANARY-7f3a9c: a file next to the media folder"


def multipart(filename: bytes, content: bytes, *, star: bool = False) -> tuple[bytes, str]:
    """A form with a title and a cover whose file name is sent exactly as given."""
    boundary = uuid.uuid4().hex
    disposition = b"filename*=UTF-8''" + filename if star else b'filename="' + filename + b'"'
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="title"\r\n\r\nnamed\r\n'
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="cover"; '
        + disposition
        + b"\r\nContent-Type: image/png\r\n\r\n"
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


NAMES: list[tuple[bytes, bool]] = [
    (b"../../etc/passwd.png", False),
    (b"../../../../../../../../tmp/evil.png", False),
    (b"/etc/passwd", False),
    (b"..\\..\\windows\\win.ini.png", False),
    (b"C:\\evil.png", False),
    (b"evil\x00.png", False),
    (b"evil.png\x00.jpg", False),
    (b"%2e%2e%2f%2e%2e%2fevil.png", False),
    (b"..%2F..%2Fevil.png", True),
    (b".htaccess", False),
    (b"evil.php", False),
    (b"con.png", False),
    ("évil ünïcode ✓.png".encode(), False),
    (b"e" * 4096 + b".png", False),
    (b"", False),
]


def test_file_names_never_choose_where_a_cover_is_stored(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings, tmp_path: Path
) -> None:
    account = make_account()
    png = image_bytes("PNG", (20, 10))
    stored = []

    def stored_under_a_server_name(case: tuple[bytes, bool]) -> None:
        filename, star = case
        body, content_type = multipart(filename, png, star=star)
        response = client.post(
            COLLECTS, content=body, headers={**account.headers, "Content-Type": content_type}
        )
        if response.status_code == 400:  # a form the parser refuses is fine as well
            assert_problem(response, 400)
            return
        assert response.status_code == 201, response.text
        url, content = published(client, account, response.json()["id"])
        assert_clean_jpeg(content)
        stored.append(url)

    check_each(NAMES, stored_under_a_server_name)
    assert len(stored) >= len(NAMES) - 3, stored  # most names are simply accepted
    assert len(set(stored)) == len(stored)
    files = media_files(settings)
    assert all(re.fullmatch(r"covers/[0-9a-f]{48}\.jpg", name) for name in files), files
    outside = [
        str(path.relative_to(tmp_path))
        for path in tmp_path.rglob("*")
        if path.is_file() and settings.media_dir not in path.parents
    ]
    service_files = {settings.secret_key_file, settings.cache_changes_file}
    assert all(name.startswith("mail/") or tmp_path / name in service_files for name in outside), (
        outside
    )
    assert not any((tmp_path / name).exists() for name in ("etc", "tmp", "evil.png"))


def test_media_paths_never_leave_the_media_folder(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings, tmp_path: Path
) -> None:
    account = make_account()
    (tmp_path / "canary.txt").write_text(CANARY)
    response = post_cover(client, account, image_bytes("PNG"))
    url, _ = published(client, account, response.json()["id"])
    name = url.rsplit("/", 1)[1]
    attempts = [
        "/media/%2e%2e/canary.txt",
        "/media/..%2fcanary.txt",
        "/media/%2e%2e%2fcanary.txt",
        "/media/covers/%2e%2e/%2e%2e/canary.txt",
        "/media/..%5ccanary.txt",
        "/media/%252e%252e/canary.txt",
        "/media/covers/..%2f..%2fcanary.txt",
        f"/media/covers/{name.upper()}",
        "/media/",
        "/media/covers/",
        "/media/uploads/",
    ]

    def contained(path: str) -> None:
        answer = client.get(path, headers=account.headers)
        assert answer.status_code in (400, 404), (answer.status_code, answer.text[:100])
        assert CANARY.encode() not in answer.content

    check_each(attempts, contained)


def test_odd_media_paths_are_a_404_not_a_500(client: TestClient[Any]) -> None:
    paths = [
        "/media/%00",
        "/media/covers/cover.jpg%00.txt",
        "/media/" + "a" * 300,
        "/media/covers/" + "a" * 300 + ".jpg",
        "/docs/static/%00",
        "/docs/static/swagger-ui.css%00",
        "/docs/static/" + "a" * 300,
    ]
    check_each(paths, lambda path: assert_problem(client.get(path), 404))
