"""What one cover at the pixel limit costs in memory: checked and processed in a fresh
interpreter, whose peak resident size is measured above its size after the imports (shared by
the integration test and `python -m bench.covers`)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from fundraising.adapters.files.images import PillowImages

SIZE = (8000, 5000)  # 40 megapixels, the largest cover accepted
MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


def forty_megapixels(mode: str) -> Image.Image:
    """A picture at the limit that compresses as well as a drawing (a PNG of ~200 KB): stripes
    and a disc, on a transparent background and half transparent when `mode` has alpha."""
    picture = Image.new(mode, SIZE, (20, 20, 220, 0))
    draw = ImageDraw.Draw(picture)
    for left in range(0, SIZE[0], 500):
        draw.rectangle((left, 0, left + 249, SIZE[1]), fill=(220, 20, 20, 255))
    draw.ellipse((1000, 1000, 7000, 4000), fill=(20, 200, 20, 128))
    return picture


def cover_memory(path: Path) -> tuple[int, tuple[int, int]]:
    """Bytes by which checking and processing the image in `path` raised the peak resident
    size of a fresh interpreter above its size after the imports; and the cover's size."""
    measured = subprocess.run(
        [sys.executable, "-m", "tests.image_memory", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    growth, width, height = json.loads(measured.stdout)
    return growth, (width, height)


def _status(field: str) -> int:
    """A size from /proc/self/status (VmRSS now, VmHWM the peak so far), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def _measure(path: Path) -> None:
    data = path.read_bytes()
    images = PillowImages()
    baseline = _status("VmRSS")
    images.check(io.BytesIO(data))
    cover = Image.open(io.BytesIO(images.make_cover(data)))
    print(json.dumps([_status("VmHWM") - baseline, *cover.size]))


if __name__ == "__main__":
    _measure(Path(sys.argv[1]))
