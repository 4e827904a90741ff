"""What the hostile upload tests share: posting a cover, and checking what /media/ publishes for it.

A cover is either refused (400 on `cover`, 413 when too big) or accepted and published as a
clean JPEG under /media/ with a name the server made up: nothing of what came with the
pixels (appended archives, scripts, EXIF, GPS, comments) is ever served back.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from PIL import Image

from fundraising.settings import Settings
from tests.e2e.conftest import Account, wait_for

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"
BASE = "http://testserver.local"


PUBLISHED = re.compile(rf"{re.escape(BASE)}/media/covers/[0-9a-f]{{48}}\.jpg")
PAYLOADS = [
    b"PK\x03\x04",
    b"<script",
    b"<html",
    b"<?php",
    b"alert(",
    b"<svg",
    b"Exif\x00\x00",
    b"http://",
    b"evil",
]


def post_cover(
    client: TestClient[Any], account: Account, content: bytes, name: str = "c.jpg"
) -> Any:
    return client.post(
        COLLECTS,
        data={"title": f"cover {name[:40]}"},
        files={"cover": (name, content, "image/jpeg")},
        headers=account.headers,
    )


def published(client: TestClient[Any], account: Account, collect_id: int) -> tuple[str, bytes]:
    """The cover's URL and the bytes /media/ serves for it, once processing is done."""

    def ready() -> Any:
        detail = client.get(f"{COLLECTS}{collect_id}/", headers=account.headers).json()
        return detail if detail["cover_status"] in ("ready", "failed") else None

    detail = wait_for(ready, timeout=15)
    assert detail and detail["cover_status"] == "ready", detail
    url = detail["cover_url"]
    assert PUBLISHED.fullmatch(url), url
    response = client.get(url.removeprefix(BASE))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg", response.headers
    return url, response.content


def jpeg_markers(content: bytes) -> list[int]:
    """The markers of a JPEG's segments up to its scan (APPn, COM, DQT, SOF, DHT, ...)."""
    markers, at = [], 2
    while content[at] == 0xFF and content[at + 1] != 0xDA:
        markers.append(content[at + 1])
        at += 2 + struct.unpack(">H", content[at + 2 : at + 4])[0]
    return markers


def assert_clean_jpeg(content: bytes, *forbidden: bytes) -> Image.Image:
    assert content.startswith(b"\xff\xd8\xff") and content.endswith(b"\xff\xd9")
    for payload in (*PAYLOADS, *forbidden):
        assert payload not in content, payload
    # no comment (COM), EXIF/XMP (APP1), ICC (APP2) or any APPn but JFIF's APP0
    metadata = [marker for marker in jpeg_markers(content) if marker == 0xFE or marker > 0xE0]
    assert not metadata, [hex(marker) for marker in metadata]
    image = Image.open(io.BytesIO(content))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert not {"exif", "comment", "icc_profile", "xmp"} & set(image.info), image.info
    image.load()  # decodes to the end: nothing after the picture
    return image


def media_files(settings: Settings) -> list[str]:
    root = settings.media_dir
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
