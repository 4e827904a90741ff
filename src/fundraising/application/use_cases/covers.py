"""Cover pictures: checking and staging uploads, and processing them in the background."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from attrs import frozen

from fundraising.application.ports.clock import Clock
from fundraising.application.ports.files import FileStorage, ImageProcessor, InvalidImage
from fundraising.application.ports.tasks import ProcessCover
from fundraising.application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from fundraising.application.unit_of_work import retrying_transaction
from fundraising.domain.collect import UNCHANGED, Unchanged
from fundraising.domain.errors import FieldErrors

log = logging.getLogger(__name__)
UPLOAD_FOLDER = "uploads"
COVER_FOLDER = "covers"


@frozen(eq=False)
class Upload:
    """An uploaded file; the edge has already limited its size."""

    file: BinaryIO


@frozen
class StagedCover:
    """A cover change made ready before the transaction, which only records it: `source` is
    the stored upload (None removes the cover, UNCHANGED leaves it); `refusal` says why an upload
    was not stored."""

    source: str | Unchanged | None
    refusal: str | None = None

    def report(self, errors: FieldErrors) -> None:
        """Add a refused upload to the other invalid fields, where those are checked: after the
        existence and permission checks, so that a 404 or 403 still comes first."""
        if self.refusal is not None:
            errors.add("cover", self.refusal)


@frozen
class Covers:
    """What the collect use cases need of files: check, stage, and delete after commit."""

    storage: FileStorage
    images: ImageProcessor

    @contextmanager
    def staging(self, cover: Upload | Unchanged | None) -> Iterator[StagedCover]:
        """Check and store an upload before the transaction opens, so that no lock is held
        while it is decoded; what was stored is deleted again if the block raises."""
        staged = self._staged(cover)
        try:
            yield staged
        except BaseException:
            if isinstance(staged.source, str):
                self.storage.delete(staged.source)
            raise

    def _staged(self, cover: Upload | Unchanged | None) -> StagedCover:
        if not isinstance(cover, Upload):
            return StagedCover(cover)
        cover.file.seek(0)
        try:
            self.images.check(cover.file)
        except InvalidImage as invalid:
            return StagedCover(UNCHANGED, refusal=str(invalid))
        cover.file.seek(0)
        return StagedCover(self.storage.save(cover.file, folder=UPLOAD_FOLDER, suffix=".upload"))

    def delete_after_commit(self, uow: UnitOfWork, keys: tuple[str, ...]) -> None:
        for key in keys:
            uow.after_commit(lambda key=key: self.storage.delete(key))  # type: ignore[misc]


@frozen
class ProcessCoverTask:
    """Make the published image of an upload; idempotent, and a superseded upload is left alone."""

    uow_factory: UnitOfWorkFactory
    storage: FileStorage
    images: ImageProcessor
    clock: Clock

    def __call__(self, task: ProcessCover) -> None:
        with self.uow_factory() as uow:
            collect = uow.collects.get(task.collect_id)
        if collect is None or collect.cover.source != task.source:
            return
        try:
            image: bytes | None = self.images.make_cover(self.storage.read(task.source))
        except (InvalidImage, FileNotFoundError) as error:
            log.warning("cover %s of collect %s failed: %s", task.source, task.collect_id, error)
            image = None
        key = self._store(task.source, image)
        try:
            self._record(task, key)
        except BaseException:
            if key:
                self.storage.delete(key)
            raise

    def give_up(self, task: ProcessCover) -> None:
        """Called when retries are exhausted: the cover ends `failed`, never stuck `processing`."""
        self._record(task, None)

    def _store(self, source: str, image: bytes | None) -> str | None:
        """Named after its upload: a worker that dies before recording it leaves a file the
        next attempt overwrites and records, never an orphan."""
        if image is None:
            return None
        name = source.rpartition("/")[2].partition(".")[0]
        return self.storage.save(io.BytesIO(image), folder=COVER_FOLDER, suffix=".jpg", name=name)

    def _record(self, task: ProcessCover, key: str | None) -> None:
        def record(uow: UnitOfWork) -> None:
            collect = uow.collects.get(task.collect_id, for_update=True)
            if collect is None or not collect.finish_cover(task.source, key, self.clock.now()):
                if key:
                    self.storage.delete(key)
                return
            uow.collects.save(collect)
            uow.after_commit(lambda: self.storage.delete(task.source))
            uow.commit()

        retrying_transaction(self.uow_factory, record)
