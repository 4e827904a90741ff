"""Hostile covers: oversized streams against a real server process, polyglots, truncated
files, decompression bombs, bloated metadata and filenames that try to pick a path.

A cover is either refused (400 on `cover`, 413 when too big) or accepted and published as a
clean JPEG under /media/ with a name the server made up: nothing of what came with the
pixels (appended archives, scripts, EXIF, GPS, comments) is ever served back.
"""

from __future__ import annotations

import io
import re
import socket
import struct
import threading
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from PIL import Image, PngImagePlugin

from fundraising.settings import Settings
from tests.e2e.conftest import (
    PASSWORD,
    Account,
    assert_problem,
    check_each,
    image_bytes,
    wait_for,
)
from tests.e2e.test_served import Served, serving

MakeAccount = Callable[..., Account]
COLLECTS = "/api/v1/collects/"
BASE = "http://testserver.local"
MIB = 1024 * 1024
CANARY = "CANARY-7f3a9c: a file next to the media folder"
PUBLISHED = re.compile(rf"{re.escape(BASE)}/media/covers/[0-9a-f]{{32}}\.jpg")
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


# --- helpers ---


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
    assert all(re.fullmatch(r"covers/[0-9a-f]{32}\.jpg", name) for name in files), files


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


# --- file names ---


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
    assert all(re.fullmatch(r"covers/[0-9a-f]{32}\.jpg", name) for name in files), files
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


# --- 50 MiB against a real server process ---


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class PeakRss:
    """Samples a process's resident memory in the background and keeps the highest value."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.002)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.pid))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    """One `fundraising serve` process (SQLite) for the module, warmed up, and a token."""
    with serving(tmp_path_factory.mktemp("served")) as served:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            account = {
                "username": "uploader",
                "email": "uploader@example.com",
                "password": PASSWORD,
            }
            assert http.post("/auth/users/", json=account).status_code == 201
            tokens = http.post(
                "/auth/jwt/create/", json={"username": "uploader", "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {tokens.json()['access']}"}
            # warm up: a real cover (Pillow, the worker) and a refused 3 MiB form
            warm = http.post(
                COLLECTS,
                data={"title": "warm"},
                files={"cover": ("w.png", image_bytes("PNG"), "image/png")},
                headers=headers,
            )
            assert warm.status_code == 201, warm.text
            big = http.post(
                COLLECTS,
                data={"title": "warm"},
                files={"cover": ("w.png", b"\0" * 3 * MIB, "image/png")},
                headers=headers,
            )
            assert big.status_code == 413, big.text
        yield served, headers
        served.stop()


def form_stream(total: int, sent: list[int]) -> Iterator[bytes]:
    """A multipart form whose cover is `total` bytes, produced 64 KiB at a time."""
    yield (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nhuge\r\n'
        b'--b\r\nContent-Disposition: form-data; name="cover"; filename="huge.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n"
    )
    chunk = b"\0" * 64 * 1024
    while sent[0] < total:
        sent[0] += len(chunk)
        yield chunk
    yield b"\r\n--b--\r\n"


def test_a_streamed_50_mib_body_is_a_413_and_memory_stays_flat(
    server: tuple[Served, dict[str, str]],
) -> None:
    served, headers = server
    form = {**headers, "Content-Type": "multipart/form-data; boundary=b"}
    with httpx.Client(base_url=served.url, timeout=60) as http:
        created = http.post(COLLECTS, json={"title": "target"}, headers=headers)
        target = f"{COLLECTS}{created.json()['id']}/"
        before = rss(served.process.pid)
        with PeakRss(served.process.pid) as memory:
            answers = []
            for method, path, content_type in [
                ("POST", COLLECTS, form),
                ("PATCH", target, form),
                ("POST", "/api/v1/payments/", {**headers, "Content-Type": "application/json"}),
            ]:
                sent = [0]
                response = http.request(
                    method, path, content=form_stream(50 * MIB, sent), headers=content_type
                )
                assert "content-length" not in response.request.headers  # chunked
                answers.append((method, path, response))
        for method, path, response in answers:
            assert response.status_code == 413, (method, path, response.text)
            body = response.json()
            assert body["status"] == 413 and body["detail"], body
        growth = memory.peak - before
        assert growth < 20 * MIB, f"RSS grew by {growth / MIB:.1f} MiB"
        listed = http.get(COLLECTS, params={"author": "me"}, headers=headers).json()
        assert [item["title"] for item in listed["results"]] == ["target", "warm"]
        assert http.get(target, headers=headers).json()["cover_status"] == "none"


def raw_request(served: Served, head: bytes, body: Iterator[bytes] | None = None) -> bytes:
    """Send `head` and as much of `body` as the server takes; return what it answered.

    A plain socket, because httpx (h11) will not send more than the Content-Length it was
    given, nor a head without its body."""
    port = int(served.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        try:
            for chunk in body or ():
                connection.sendall(chunk)
        except OSError:  # the server answered and closed: it stopped reading, as it should
            pass
        answer = b""
        try:
            while data := connection.recv(65536):
                answer += data
        except OSError:
            pass
    return answer


def head(served: Served, headers: dict[str, str], length: int, path: str = COLLECTS) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {served.url.removeprefix('http://')}",
        f"Authorization: {headers['Authorization']}",
        "Content-Type: multipart/form-data; boundary=b",
        f"Content-Length: {length}",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match.group(1))


def test_a_50_mib_content_length_is_refused_before_any_body_is_sent(
    server: tuple[Served, dict[str, str]],
) -> None:
    served, headers = server
    before = rss(served.process.pid)
    # only the head: a server that waited for the announced body would never answer
    answer = raw_request(served, head(served, headers, 50 * MIB))
    assert status_of(answer) == 413, answer[:300]
    assert b"application/problem+json" in answer.lower()
    assert rss(served.process.pid) - before < 20 * MIB


def test_a_50_mib_body_behind_a_small_content_length_keeps_memory_flat(
    server: tuple[Served, dict[str, str]],
) -> None:
    served, headers = server
    sent = [0]
    before = rss(served.process.pid)
    with PeakRss(served.process.pid) as memory:
        answer = raw_request(served, head(served, headers, 1000), form_stream(50 * MIB, sent))
    assert 400 <= status_of(answer) < 500, answer[:300]
    growth = memory.peak - before
    assert growth < 20 * MIB, f"RSS grew by {growth / MIB:.1f} MiB"
    with httpx.Client(base_url=served.url, timeout=10) as http:
        assert http.get("/health/live").status_code == 200
        listed = http.get(COLLECTS, params={"author": "me"}, headers=headers).json()
        assert "huge" not in [item["title"] for item in listed["results"]]


def test_a_literal_dot_dot_path_never_leaves_the_media_folder(
    server: tuple[Served, dict[str, str]],
) -> None:
    served, _ = server
    host = served.url.removeprefix("http://")
    for target in (
        "/media/../serve.log",
        "/media/../fundraising.sqlite3",
        "/media/covers/../../serve.log",
        "/media/..%2fserve.log",
        "/media/%2e%2e/%2e%2e/etc/passwd",
    ):
        request = f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        answer = raw_request(served, request.encode())
        assert status_of(answer) in (400, 404), (target, answer[:300])
        assert b"SQLite format" not in answer and b"Uvicorn running" not in answer, target
        assert b"root:" not in answer, target
