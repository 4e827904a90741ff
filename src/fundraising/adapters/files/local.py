"""Files on the local disk (a volume shared by the app and the worker in production)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from fundraising.adapters.files.keys import file_key


class LocalFileStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        """The file of a key; a key that points outside the root is refused."""
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"invalid file key {key!r}")
        return path

    def save(self, data: BinaryIO, *, folder: str, suffix: str, name: str | None = None) -> str:
        key = file_key(folder, suffix, name)
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed: nobody ever sees half a file.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".part") as out:
            try:
                shutil.copyfileobj(data, out)
            except BaseException:
                os.unlink(out.name)
                raise
        os.replace(out.name, path)
        return key

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()
