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
        with self._decoding, self._open(io.BytesIO(data)) as image:
            if image.format == "JPEG":
                image.draft("RGB", COVER_BOX)
            self._decode(image)
            oriented = ImageOps.exif_transpose(image)
            cover = _flattened(oriented)
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


def _flattened(image: Image.Image) -> Image.Image:
    """RGB; transparent parts (an alpha channel or a colour key) become white, not black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
