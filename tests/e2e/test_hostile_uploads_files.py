"""Hostile covers: polyglots, disguised formats, truncated files, decompression bombs, EXIF."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from typing import Any

from litestar.testing import TestClient
from PIL import Image, PngImagePlugin

from fundraising.settings import Settings
from tests.e2e.conftest import assert_problem, check_each, image_bytes, wait_for
from tests.e2e.cover_helpers import (
    COLLECTS,
    MakeAccount,
    assert_clean_jpeg,
    media_files,
    post_cover,
    published,
)

# --- files ---


def noise(fmt: str, size: tuple[int, int] = (256, 192), **options: Any) -> bytes:
    """An image whose data cannot be compressed away, so that a cut lands in the pixels."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, bytes(range(256)) * (size[0] * size[1] * 3 // 256)).save(
        out, fmt, **options
    )
    return out.getvalue()


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.html", "<html><script>alert(document.cookie)</script></html>")
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header claiming `width`×`height`, with a few bytes of pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) is rewritten to claim `width`×`height`."""
    data = bytearray(image_bytes("JPEG", (16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def exif_bloated_jpeg() -> bytes:
    """~60 KB of EXIF: a script in the description, GPS coordinates, and a PHP comment."""
    exif = Image.Exif()
    exif[0x010E] = "<script>alert(1)</script>" * 2400  # ImageDescription
    exif[0x013B] = "evil artist"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    blob = exif.tobytes()
    assert len(blob) > 60_000
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 60, 90)).save(
        out, "JPEG", exif=blob, comment=b"<?php system($_GET['c']); ?>"
    )
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert('evil')</script>")
    info.add_itxt("Description", "<html>evil</html>", lang="en")
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 128, 0, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (255, 0, 0)).save(out, "GIF")
    return out.getvalue()


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
    b'onload="alert(1)"><script>alert(document.domain)</script><rect width="10" height="10"/>'
    b"</svg>"
)


# --- polyglots and disguises ---


def test_polyglots_are_published_as_clean_jpegs_only(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    account = make_account()
    png = image_bytes("PNG", (64, 48))
    jpeg = image_bytes("JPEG", (64, 48))
    html = b"<html><body><script>alert(document.cookie)</script></body></html>\n"
    accepted = {
        "png.zip": png + zip_archive(),
        "png.html": png + html,
        "jpeg.html": jpeg + html,
        "jpeg.php": jpeg + b"<?php system($_GET['c']); ?>",
        "webp.zip": image_bytes("WEBP", (64, 48)) + zip_archive(),
        "exif-script.jpg": exif_bloated_jpeg(),
        "text-chunks.png": png_with_text(),
    }

    def cleaned(name: str) -> None:
        response = post_cover(client, account, accepted[name], name)
        assert response.status_code == 201, response.text
        assert response.json()["cover_status"] in ("processing", "ready")
        _, content = published(client, account, response.json()["id"])
        assert_clean_jpeg(content)

    check_each(list(accepted), cleaned)
    # every upload itself is gone: only the published covers are left
    assert wait_for(lambda: len(media_files(settings)) == len(accepted)), media_files(settings)
    files = media_files(settings)
    assert all(re.fullmatch(r"covers/[0-9a-f]{48}\.jpg", name) for name in files), files


def test_disguised_and_foreign_formats_are_a_400_on_cover(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    account = make_account()
    bmp, tiff, ico = io.BytesIO(), io.BytesIO(), io.BytesIO()
    Image.new("RGB", (8, 8)).save(bmp, "BMP")
    Image.new("RGB", (8, 8)).save(tiff, "TIFF")
    Image.new("RGB", (16, 16)).save(ico, "ICO")
    refused = [
        ("cover.jpg", gif()),  # a GIF renamed .jpg
        ("cover.svg", SVG),
        ("cover.png", SVG),
        ("cover.jpg", b"<html><script>alert(1)</script></html>"),
        ("cover.jpg", b"GIF89a<script>alert(1)</script>"),
        ("cover.jpg", zip_archive()),
        ("cover.png", b"\x89PNG\r\n\x1a\n<script>alert(1)</script>"),
        ("cover.bmp", bmp.getvalue()),
        ("cover.tiff", tiff.getvalue()),
        ("cover.ico", ico.getvalue()),
        ("cover.pdf", b"%PDF-1.4\n1 0 obj<</JS(app.alert(1))>>endobj\n%%EOF"),
    ]
    check_each(
        refused,
        lambda case: assert_problem(post_cover(client, account, case[1], case[0]), 400, "cover"),
    )
    listed = client.get(COLLECTS, params={"author": "me"}, headers=account.headers).json()
    assert listed["count"] == 0
    assert media_files(settings) == []  # nothing of a refused upload stays on disk


def test_truncated_images_are_a_400_on_cover(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    account = make_account()
    jpeg, png, webp = noise("JPEG", quality=95), noise("PNG"), noise("WEBP", lossless=True)
    progressive = noise("JPEG", progressive=True, quality=95)
    cases = {
        "jpeg cut in its scan": jpeg[: len(jpeg) * 6 // 10],
        "progressive jpeg cut": progressive[: len(progressive) * 6 // 10],
        "jpeg headers only": jpeg[: jpeg.index(b"\xff\xda") + 4],
        "png cut in its pixels": png[: len(png) * 6 // 10],
        "png signature and header only": png[:33],
        "webp cut in its pixels": webp[: len(webp) * 6 // 10],
        "webp header only": webp[:30],
    }
    check_each(
        list(cases),
        lambda name: assert_problem(post_cover(client, account, cases[name], name), 400, "cover"),
    )
    assert media_files(settings) == []


# --- decompression bombs ---


def test_decompression_bombs_are_a_400_naming_megapixels(
    client: TestClient[Any], make_account: MakeAccount, settings: Settings
) -> None:
    account = make_account()
    one_bit = io.BytesIO()
    Image.new("1", (7000, 6000)).save(one_bit, "PNG")  # 42 megapixels in ~5 KB
    bombs = {
        "png claiming 20000x20000": png_claiming(20_000, 20_000),
        "png claiming 65535x65535": png_claiming(65_535, 65_535),
        "png claiming 40000001x1": png_claiming(40_000_001, 1),
        "jpeg claiming 20000x20000": jpeg_claiming(20_000, 20_000),
        "jpeg claiming 65535x65535": jpeg_claiming(65_535, 65_535),
        "valid 1-bit png of 42 megapixels": one_bit.getvalue(),
    }

    def refused(name: str) -> None:
        content = bombs[name]
        assert len(content) < 64 * 1024  # small on disk
        problem = assert_problem(post_cover(client, account, content, name), 400, "cover")
        assert "megapixel" in problem["errors"][0]["message"], problem

    check_each(list(bombs), refused)
    assert media_files(settings) == []


def test_exactly_40_megapixels_is_accepted(
    client: TestClient[Any], make_account: MakeAccount
) -> None:
    account = make_account()
    out = io.BytesIO()
    Image.new("L", (8000, 5000), 128).save(out, "JPEG", quality=50)  # 40,000,000 pixels
    response = post_cover(client, account, out.getvalue())
    assert response.status_code == 201, response.text
    _, content = published(client, account, response.json()["id"])
    assert assert_clean_jpeg(content).size == (1200, 750)


def test_a_60_kb_exif_block_is_stripped(client: TestClient[Any], make_account: MakeAccount) -> None:
    account = make_account()
    original = exif_bloated_jpeg()
    response = post_cover(client, account, original)
    assert response.status_code == 201, response.text
    _, content = published(client, account, response.json()["id"])
    image = assert_clean_jpeg(content, b"evil artist")
    assert image.size == (120, 80)
    assert len(content) < len(original) // 4
