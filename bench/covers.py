"""What one cover at the 40-megapixel limit costs in memory: `python -m bench.covers`.

Each file is checked (as at the upload edge) and made into a cover (as in the worker) in a fresh
interpreter; the figure is that interpreter's peak resident size above its size after the
imports. Printed, never judged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PIL import Image
from tests.image_memory import MIB, SIZE, cover_memory, forty_megapixels

# name, mode of the picture, format, size (WebP is at most 16,383 pixels across), save options
FILES: list[tuple[str, str, str, tuple[int, int], dict[str, Any]]] = [
    ("PNG, RGBA with transparency", "RGBA", "PNG", SIZE, {}),
    ("PNG, RGB", "RGB", "PNG", SIZE, {}),
    ("JPEG, quality 90", "RGB", "JPEG", SIZE, {"quality": 90}),
    ("WebP, RGBA lossless", "RGBA", "WEBP", (16_000, 2_500), {"lossless": True}),
]


def main() -> None:
    print(f"{'40-megapixel file':<30} {'size':>11} {'file KiB':>8} {'peak MiB':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name, mode, fmt, size, options in FILES:
            path = Path(folder) / f"cover.{fmt.lower()}"
            forty_megapixels(mode).resize(size, Image.Resampling.NEAREST).save(path, fmt, **options)
            growth, _ = cover_memory(path)
            dimensions = f"{size[0]}x{size[1]}"
            print(
                f"{name:<30} {dimensions:>11} {path.stat().st_size / 1024:>8.0f} "
                f"{growth / MIB:>8.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
