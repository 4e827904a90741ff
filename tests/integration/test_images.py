"""Cover images with Pillow and real files: what is accepted, what the published JPEG looks
like, and that replacing and deleting covers leaves no file behind."""

from __future__ import annotations

import io
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from dependency_injector import providers
from PIL import ExifTags, Image, ImageCms

from fundraising.adapters.files import images as images_module
from fundraising.adapters.files.images import PillowImages
from fundraising.adapters.sql import migrate
from fundraising.application.ports.files import InvalidImage
from fundraising.application.ports.tasks import ProcessCover
from fundraising.application.use_cases.auth import Registration
from fundraising.application.use_cases.collects import (
    CollectChange,
    CollectDeletion,
    CollectFields,
    NewCollect,
)
from fundraising.application.use_cases.covers import Upload
from fundraising.application.use_cases.payments import Donation
from fundraising.container import Container
from fundraising.domain.collect import CoverStatus
from fundraising.domain.money import Money
from fundraising.settings import Settings
from tests.e2e.conftest import e2e_settings
from tests.image_memory import MIB, cover_memory, forty_megapixels
from tests.integration.fixtures_services import (
    S3Server,
    s3_server_fixture,  # noqa: F401  (fixture)
)

WHITE, RED, BLUE = (255, 255, 255), (220, 20, 20), (20, 20, 220)


@pytest.fixture(name="images")
def images_fixture() -> PillowImages:
    return PillowImages()


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def near(pixel: Any, colour: tuple[int, int, int], tolerance: int = 30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def quantization_at(quality: int) -> dict[int, list[int]]:
    """The JPEG quantization tables Pillow writes for an RGB image at `quality`."""
    return opened(encode(Image.new("RGB", (64, 64), RED), "JPEG", quality=quality)).quantization


# --- the published JPEG -----------------------------------------------------------------


def test_a_large_png_with_alpha_becomes_a_fitted_progressive_jpeg_on_white(
    images: PillowImages,
) -> None:
    source = Image.new("RGBA", (3000, 2000), (0, 0, 0, 0))  # transparent black
    source.paste((*RED, 255), (1500, 0, 3000, 2000))  # the right half opaque red
    data = encode(source, "PNG")
    images.check(io.BytesIO(data))

    cover = opened(images.make_cover(data))
    assert cover.format == "JPEG"
    assert cover.mode == "RGB"
    assert cover.size == (1200, 800)
    assert near(cover.getpixel((300, 400)), WHITE), "transparent areas are white, not black"
    assert near(cover.getpixel((900, 400)), RED)
    assert cover.info.get("progressive") or cover.info.get("progression")
    assert cover.quantization == quantization_at(85), "quality 85"
    assert cover.quantization != quantization_at(75)


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((3000, 2000), (1200, 800)),
        ((4000, 1000), (1200, 300)),
        ((1000, 3000), (267, 800)),
        ((1300, 500), (1200, 462)),
        ((1200, 800), (1200, 800)),
    ],
)
def test_covers_fit_within_1200_by_800_keeping_their_aspect_ratio(
    images: PillowImages, size: tuple[int, int], fitted: tuple[int, int]
) -> None:
    data = encode(Image.new("RGB", size, BLUE), "JPEG", quality=90)
    assert opened(images.make_cover(data)).size == fitted


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_small_image_is_not_enlarged(images: PillowImages, fmt: str) -> None:
    data = encode(Image.new("RGB", (50, 30), BLUE), fmt)
    images.check(io.BytesIO(data))
    assert opened(images.make_cover(data)).size == (50, 30)


def test_webp_with_alpha_is_accepted(images: PillowImages) -> None:
    source = Image.new("RGBA", (1600, 1600), (0, 0, 0, 0))
    source.paste((*RED, 255), (800, 0, 1600, 1600))
    data = encode(source, "WEBP", lossless=True)
    images.check(io.BytesIO(data))
    cover = opened(images.make_cover(data))
    assert (cover.format, cover.size) == ("JPEG", (800, 800))
    assert near(cover.getpixel((200, 400)), WHITE)
    assert near(cover.getpixel((600, 400)), RED)


def half_transparent_png(mode: str) -> bytes:
    """A PNG whose left half is fully transparent (by colour key or palette entry), right half
    red (or grey); the transparent colour itself is black."""
    if mode == "P":
        image = Image.new("P", (400, 200), 0)
        image.putpalette([0, 0, 0, *RED] + [0] * 762)
        image.paste(1, (200, 0, 400, 200))
        return encode(image, "PNG", transparency=0)
    image = Image.new(mode, (400, 200), 0)
    image.paste(RED if mode == "RGB" else 128, (200, 0, 400, 200))
    return encode(image, "PNG", transparency=(0, 0, 0) if mode == "RGB" else 0)


def test_a_palette_png_with_a_transparent_entry_is_white_where_transparent(
    images: PillowImages,
) -> None:
    cover = opened(images.make_cover(half_transparent_png("P")))
    assert near(cover.getpixel((100, 100)), WHITE)
    assert near(cover.getpixel((300, 100)), RED)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_colour_keyed_png_is_white_where_transparent(images: PillowImages, mode: str) -> None:
    assert "transparency" in opened(half_transparent_png(mode)).info
    cover = opened(images.make_cover(half_transparent_png(mode)))
    assert near(cover.getpixel((100, 100)), WHITE)


def photo_with_metadata(stored: tuple[int, int], orientation: int) -> bytes:
    """A camera-like JPEG: stored landscape, an EXIF orientation, GPS, camera make; a red block
    in the stored top-left corner shows where that corner ends up."""
    width, height = stored
    image = Image.new("RGB", stored, BLUE)
    image.paste(RED, (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 37.0, 4.0)
    data = encode(image, "JPEG", exif=exif, quality=90)
    written = opened(data).getexif()
    assert written[ExifTags.Base.Orientation] == orientation
    assert written.get_ifd(ExifTags.IFD.GPSInfo), "the source really carries GPS data"
    return data


@pytest.mark.parametrize(
    ("orientation", "red_corner"),
    [(6, "top-right"), (8, "bottom-left")],
    ids=["rotate-cw", "rotate-ccw"],
)
@pytest.mark.parametrize(
    ("stored", "published"),
    [((4000, 3000), (600, 800)), ((400, 300), (300, 400))],
    ids=["large", "small"],
)
def test_a_photo_is_turned_upright_and_loses_its_metadata(
    images: PillowImages,
    orientation: int,
    red_corner: str,
    stored: tuple[int, int],
    published: tuple[int, int],
) -> None:
    data = photo_with_metadata(stored, orientation)
    images.check(io.BytesIO(data))

    result = images.make_cover(data)
    cover = opened(result)
    assert cover.size == published
    assert cover.width < cover.height, "portrait after applying the orientation"
    w, h = cover.size
    corners = {
        "top-left": (w // 20, h // 20),
        "top-right": (w - w // 20, h // 20),
        "bottom-left": (w // 20, h - h // 20),
        "bottom-right": (w - w // 20, h - h // 20),
    }
    assert {name for name, xy in corners.items() if near(cover.getpixel(xy), RED)} == {red_corner}
    assert len(cover.getexif()) == 0
    assert "exif" not in cover.info
    assert b"Exif" not in result
    assert b"SecretCam" not in result


def test_a_large_turned_png_with_alpha_is_reduced_upright_on_white(images: PillowImages) -> None:
    """Large enough to be reduced a band at a time before it is turned and fitted."""
    source = Image.new("RGBA", (6000, 4500), (0, 0, 0, 0))
    source.paste((*RED, 255), (0, 0, 1500, 1125))  # the stored top-left corner
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    cover = opened(images.make_cover(encode(source, "PNG", exif=exif)))
    assert cover.size == (600, 800)
    assert near(cover.getpixel((570, 40)), RED), "turned clockwise: the corner is top-right"
    assert near(cover.getpixel((30, 40)), WHITE)
    assert near(cover.getpixel((570, 760)), WHITE)


def test_reducing_a_band_at_a_time_gives_the_pixels_of_reducing_at_once() -> None:
    size = (2500, 1700)  # several bands of rows, the last one cut short
    source = Image.frombytes("RGBA", size, os.urandom(size[0] * size[1] * 4))
    assert size[0] * size[1] > images_module.BAND_PIXELS
    reduced = images_module._shrunk(source, 3)
    assert reduced.tobytes() == images_module._flattened(source).reduce(3).tobytes()


def test_xmp_and_icc_profiles_do_not_survive(images: PillowImages) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>Author: Ivan</rdf:RDF></x:xmpmeta>'
    data = encode(Image.new("RGB", (300, 200), BLUE), "JPEG", icc_profile=profile, xmp=xmp)
    assert "xmp" in opened(data).info and "icc_profile" in opened(data).info

    result = images.make_cover(data)
    assert "xmp" not in opened(result).info
    assert not opened(result).info.get("icc_profile")
    assert b"Author: Ivan" not in result


def test_a_jpeg_comment_does_not_survive(images: PillowImages) -> None:
    data = encode(Image.new("RGB", (300, 200), BLUE), "JPEG", comment=b"Ivan, at home, Moscow")
    result = images.make_cover(data)
    assert b"Ivan, at home" not in result
    assert "comment" not in opened(result).info


# --- what is refused ---------------------------------------------------------------------


def rejected(images: PillowImages, data: bytes) -> str:
    with pytest.raises(InvalidImage) as refused:
        images.check(io.BytesIO(data))
    return str(refused.value)


def test_a_text_file_named_png_is_refused(images: PillowImages, tmp_path: Path) -> None:
    fake = tmp_path / "cover.png"
    fake.write_text("Это не картинка, а текст.\n" * 20)
    assert "JPEG, PNG or WebP" in rejected(images, fake.read_bytes())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_truncated_image_is_refused(images: PillowImages, fmt: str) -> None:
    noise = Image.effect_noise((800, 600), 60).convert("RGB")
    data = encode(noise, fmt)
    assert "corrupt or truncated" in rejected(images, data[: len(data) * 2 // 3])


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_other_formats_are_refused(images: PillowImages, fmt: str) -> None:
    data = encode(Image.new("RGB", (64, 64), BLUE), fmt)
    assert "JPEG, PNG or WebP" in rejected(images, data)


def test_a_png_over_40_megapixels_is_refused_before_decoding(images: PillowImages) -> None:
    data = encode(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(data) < 200_000, "small on disk, 100 megapixels once decoded"
    assert "40 megapixels" in rejected(images, data)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width`×`height` (1-bit grey) but carries almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_by_its_header(images: PillowImages) -> None:
    assert "40 megapixels" in rejected(images, png_header(100_000, 100_000))
    assert "40 megapixels" in rejected(images, png_header(8_000, 5_001))


def test_exactly_40_megapixels_is_accepted(images: PillowImages) -> None:
    images.check(io.BytesIO(encode(Image.new("1", (8_000, 5_000)), "PNG")))


# --- memory ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGBA", "RGB"])
def test_a_40_megapixel_png_is_checked_and_processed_within_300_mib(
    tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "forty.png"
    forty_megapixels(mode).save(path, "PNG")
    growth, size = cover_memory(path)
    assert size == (1200, 750)
    assert growth <= 300 * MIB, f"peak {growth / MIB:.0f} MiB above the size after imports"


# --- no orphan files, through the use cases over SQLite and local storage -----------------


def settings_in(tmp_path: Path, **storage: Any) -> Settings:
    database = f"sqlite:///{tmp_path / 'fundraising.sqlite3'}"
    migrate.upgrade(database)
    return e2e_settings(database, tmp_path, **storage)


@pytest.fixture(name="container")
def container_fixture(tmp_path: Path) -> Iterator[Container]:
    container = Container(settings=settings_in(tmp_path))
    yield container
    container.shutdown_resources()


@pytest.fixture(name="stored_container", params=["local", "s3"])
def stored_container_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server
) -> Iterator[tuple[Container, Callable[[], list[str]]]]:
    """A container with its covers in local files or in a bucket, and what the storage holds."""
    if request.param == "local":
        container = Container(settings=settings_in(tmp_path))
        root = container.storage().root

        def stored() -> list[str]:
            files = root.rglob("*") if root.exists() else ()
            return sorted(str(path.relative_to(root)) for path in files if path.is_file())

    else:
        bucket = s3_server.bucket()
        container = Container(
            settings=settings_in(tmp_path, **s3_server.settings(f"s3://{bucket}"))
        )

        def stored() -> list[str]:
            return s3_server.keys(bucket)

    yield container, stored
    container.shutdown_resources()


def upload(colour: tuple[int, int, int]) -> Upload:
    return Upload(io.BytesIO(encode(Image.new("RGB", (1600, 900), colour), "PNG")))


def test_replaced_and_deleted_covers_leave_no_files_behind(
    stored_container: tuple[Container, Callable[[], list[str]]],
) -> None:
    container, stored = stored_container
    author = container.register_user()(
        Registration("ivan", "ivan@example.com", "correct horse battery")
    )

    def cover() -> Any:
        with container.uow() as uow:
            found = uow.collects.get(collect_id)
        assert found is not None
        return found.cover

    def process(source: str) -> None:
        container.process_cover()(ProcessCover(collect_id, source))

    def change(**fields: Any) -> None:
        container.update_collect()(CollectChange(collect_id, author.id, CollectFields(**fields)))

    created = container.create_collect()(
        NewCollect(author.id, CollectFields(title="С обложкой", cover=upload(RED)))
    )
    collect_id = created.collect.id
    first = cover()
    assert first.status is CoverStatus.PROCESSING
    assert stored() == [first.source]
    process(first.source)
    assert cover().status is CoverStatus.READY
    assert stored() == [cover().image], "only the published cover"
    assert opened(container.storage().read(cover().image)).size == (1200, 675)

    change(cover=upload(BLUE))  # replaced once
    second = cover()
    assert stored() == [second.source], "the old cover went with the commit"
    process(second.source)
    assert stored() == [cover().image]

    change(cover=upload(WHITE))  # replaced twice, the second time before processing
    third = cover()
    change(cover=upload(RED))
    fourth = cover()
    process(third.source)  # the superseded task runs late
    process(fourth.source)
    assert cover().status is CoverStatus.READY
    assert stored() == [cover().image]
    process(fourth.source)  # delivered twice
    assert stored() == [cover().image]

    change(cover=None)
    assert cover().status is CoverStatus.NONE
    assert stored() == []

    change(cover=upload(BLUE))
    fifth = cover()
    process(fifth.source)
    change(cover=upload(RED))  # a pending upload as well as a ready image
    sixth = cover()
    container.delete_collect()(CollectDeletion(collect_id, author.id))
    process(sixth.source)  # the task of a deleted collect
    assert stored() == []


# --- an upload being decoded holds no lock ------------------------------------------------


class HeldImages(PillowImages):
    """Checks an upload only once let go, and tells when a check has begun."""

    def __init__(self) -> None:
        super().__init__()
        self.checking = threading.Event()
        self.let_go = threading.Event()

    def check(self, data: BinaryIO) -> None:
        self.checking.set()
        if not self.let_go.wait(timeout=120):
            raise AssertionError("the check was never let go")
        super().check(data)


def test_a_donation_completes_while_an_upload_to_its_collect_is_being_checked(
    container: Container,
) -> None:
    """On SQLite every writer takes the one write lock at BEGIN: a donation that completes while
    the PATCH is stuck in its image check shows that the check runs before the transaction."""
    held = HeldImages()
    container.images.override(providers.Object(held))
    register = container.register_user()
    author = register(Registration("ivan", "ivan@example.com", "correct horse battery"))
    donor = register(Registration("olga", "olga@example.com", "correct horse battery"))
    new = NewCollect(author.id, CollectFields(title="С обложкой"))
    collect_id = container.create_collect()(new).collect.id
    change = CollectChange(collect_id, author.id, CollectFields(cover=upload(RED)))
    with ThreadPoolExecutor(max_workers=1) as pool:
        patch = pool.submit(container.update_collect(), change)
        try:
            assert held.checking.wait(timeout=120)
            donation = Donation(donor.id, collect_id, Money.of("10.00"), "tx-during-upload")
            container.donate()(donation)
            assert not patch.done(), "the upload is still being checked"
        finally:
            held.let_go.set()
        detail = patch.result()
    assert detail.collect.cover_status is CoverStatus.PROCESSING
    assert detail.collect.collected_amount == Money.of("10.00")
