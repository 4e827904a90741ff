"""Cover images with Pillow: checked at the edge, processed in the background."""

from __future__ import annotations

import io
import threading
import warnings
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from fundraising.application.ports.files import InvalidImage

MAX_PIXELS = 40_000_000
COVER_BOX = (1200, 800)
FORMATS = ("JPEG", "PNG", "WEBP")
QUALITY = 85
NOT_AN_IMAGE = "Upload a valid JPEG, PNG or WebP image."
# Reduce by an integer factor to at least twice the cover's size, then resample (as thumbnail).
REDUCING_GAP = 2
BAND_PIXELS = 1 << 20  # a full-size image is converted a band of about this many pixels at a time


class PillowImages:
    """Decoding is bounded: at most `MAX_PIXELS`, and a few decodes at a time per process."""

    def __init__(self, *, concurrent_decodes: int = 2) -> None:
        self._decoding = threading.BoundedSemaphore(concurrent_decodes)

    def check(self, data: BinaryIO) -> None:
        with self._decoding, self._open(data) as image:
            if image.format == "JPEG":
                image.draft("RGB", (image.width // 8 or 1, image.height // 8 or 1))
            self._decode(image)

    def make_cover(self, data: bytes) -> bytes:
        """Decoded once and shrunk right away: the full-size image is never copied, and it is
        freed before the small one is turned upright, fitted and encoded."""
        with self._decoding, self._open(io.BytesIO(data)) as image:
            if image.format == "JPEG":
                image.draft("RGB", COVER_BOX)
            self._decode(image)
            cover = _shrunk(image, _reduction(image.size))
        ImageOps.exif_transpose(cover, in_place=True)
        cover.thumbnail(COVER_BOX, Image.Resampling.LANCZOS)  # never enlarges
        cover.info = {}  # the JPEG saver would copy a comment (or EXIF) found there
        out = io.BytesIO()
        # Nothing but pixels is written: no EXIF, GPS, ICC or comments survive.
        cover.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
        return out.getvalue()

    @staticmethod
    def _open(data: BinaryIO) -> Image.Image:
        too_large = f"The image is larger than {MAX_PIXELS // 1_000_000} megapixels."
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
                image = Image.open(data, formats=FORMATS)
        except Image.DecompressionBombError:
            raise InvalidImage(too_large) from None
        except (UnidentifiedImageError, OSError):
            raise InvalidImage(NOT_AN_IMAGE) from None
        if image.width * image.height > MAX_PIXELS:
            image.close()
            raise InvalidImage(too_large)
        return image

    @staticmethod
    def _decode(image: Image.Image) -> None:
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise InvalidImage("The image is corrupt or truncated.") from None


def _reduction(size: tuple[int, int]) -> int:
    """The integer factor that leaves at least `REDUCING_GAP` times the cover's size, whichever
    way the EXIF orientation turns the picture."""
    width, height = size
    across, down = COVER_BOX
    ratio = min(max(width / across, height / down), max(height / across, width / down))
    return max(1, int(ratio / REDUCING_GAP))


def _shrunk(image: Image.Image, factor: int) -> Image.Image:
    """`image` flattened to RGB and reduced `factor` times, a band of rows at a time, so that
    no full-size copy is ever made; with the `info` where `exif_transpose` finds the orientation."""
    width, height = image.size
    small = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, BAND_PIXELS // (width * factor))
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(top + rows, height)))
        small.paste(_flattened(band).reduce(factor), (0, top // factor))
    small.info = dict(image.info)
    return small


def _flattened(image: Image.Image) -> Image.Image:
    """RGB; transparent parts (an alpha channel or a colour key) become white, not black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
