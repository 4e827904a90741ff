"""Cover pictures: attaching, replacing, removing, processing in the background, no orphan files."""

from __future__ import annotations

from typing import BinaryIO

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundraising.application.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from fundraising.application.ports.tasks import OutboxMessage, ProcessCover
from fundraising.application.use_cases.collects import (
    CollectChange,
    CollectDeletion,
    CollectFields,
    NewCollect,
)
from fundraising.application.use_cases.covers import Covers, Upload
from fundraising.domain.collect import CoverStatus
from tests.fakes import (
    FakeFileStorage,
    FakeImages,
    FakeTaskQueue,
    image_upload,
)
from tests.unit.conftest import Core, new_core


class CommitWitnessQueue(FakeTaskQueue):
    """Records, for each publication, whether the latest unit of work had committed."""

    def __init__(self, core: Core) -> None:
        super().__init__()
        self.core = core
        self.committed_when_published: list[bool] = []

    def publish(self, message: OutboxMessage) -> None:
        self.committed_when_published.append(self.core.uows[-1].committed)
        super().publish(message)


class CommitWitnessStorage(FakeFileStorage):
    """Records, for each deletion, whether the latest unit of work had committed."""

    def __init__(self, core: Core) -> None:
        super().__init__()
        self.core = core
        self.committed_when_deleted: list[bool] = []

    def delete(self, key: str) -> None:
        self.committed_when_deleted.append(self.core.uows[-1].committed)
        super().delete(key)


def transaction_open(core: Core) -> bool:
    return any(uow.open for uow in core.uows)


class TransactionWitnessImages(FakeImages):
    """Records, for each check, whether a unit of work was open."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.checked_in_transaction: list[bool] = []

    def check(self, data: BinaryIO) -> None:
        self.checked_in_transaction.append(transaction_open(self.core))
        super().check(data)


class TransactionWitnessStorage(FakeFileStorage):
    """Records, for each file saved, whether a unit of work was open."""

    def __init__(self, core: Core) -> None:
        super().__init__()
        self.core = core
        self.saved_in_transaction: list[bool] = []

    def save(self, data: BinaryIO, *, folder: str, suffix: str, name: str | None = None) -> str:
        self.saved_in_transaction.append(transaction_open(self.core))
        return super().save(data, folder=folder, suffix=suffix, name=name)


def upload(content: bytes = b"IMG-picture") -> Upload:
    return Upload(image_upload(content))


def update(core: Core, collect_id: int, actor_id: int, **fields: object):
    return core.update_collect(CollectChange(collect_id, actor_id, CollectFields(**fields)))


def cover_tasks(core: Core) -> list[ProcessCover]:
    return [task for task in core.queue.tasks if isinstance(task, ProcessCover)]


def stored(core: Core, collect_id: int):
    return core.db.collects[collect_id].cover


def referenced_files(core: Core) -> set[str]:
    return {key for collect in core.db.collects.values() for key in collect.cover.files}


# attaching


def test_create_with_a_cover_starts_processing_it(core):
    detail = core.collect(core.user(), cover=upload())
    collect_id = detail.collect.id
    cover = stored(core, collect_id)
    assert detail.collect.cover_status is CoverStatus.PROCESSING
    assert detail.collect.cover_image is None
    assert cover.source is not None
    assert cover.source.startswith("uploads/")
    assert core.storage.files[cover.source] == b"IMG-picture"
    assert cover_tasks(core) == [ProcessCover(collect_id, cover.source)]


def test_the_process_cover_task_is_published_after_commit(core):
    core.queue = witness = CommitWitnessQueue(core)
    core.collect(core.user(), cover=upload())
    assert len(cover_tasks(core)) == 1
    assert witness.committed_when_published == [True, True]


def test_update_with_a_cover_starts_processing_it(core):
    ivan = core.user()
    collect_id = core.collect(ivan).collect.id
    detail = update(core, collect_id, ivan.id, cover=upload())
    source = stored(core, collect_id).source
    assert detail.collect.cover_status is CoverStatus.PROCESSING
    assert cover_tasks(core) == [ProcessCover(collect_id, source)]
    assert set(core.storage.files) == {source}


def test_an_invalid_image_on_create_is_a_validation_error_and_nothing_is_stored(core):
    with pytest.raises(ValidationFailed) as raised:
        core.collect(core.user(), cover=upload(b"GIF89a"))
    assert [e.field for e in raised.value.errors] == ["cover"]
    assert core.storage.files == {}
    assert core.db.collects == {}
    assert core.queue.published == []


def test_an_invalid_image_is_reported_with_the_other_invalid_fields(core):
    with pytest.raises(ValidationFailed) as raised:
        core.collect(core.user(), title="", cover=upload(b"not an image"))
    assert [e.field for e in raised.value.errors] == ["cover", "title"]


def test_an_invalid_image_on_update_changes_nothing(core):
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload()).collect.id
    before = stored(core, collect_id)
    files = dict(core.storage.files)
    with pytest.raises(ValidationFailed) as raised:
        update(core, collect_id, ivan.id, title="Changed", cover=upload(b"PDF"))
    assert [e.field for e in raised.value.errors] == ["cover"]
    assert stored(core, collect_id) == before
    assert core.db.collects[collect_id].title != "Changed"
    assert core.storage.files == files


def test_an_upload_is_checked_and_stored_before_the_transaction_opens(core):
    ivan = core.user()
    storage, images = TransactionWitnessStorage(core), TransactionWitnessImages(core)
    covers = Covers(storage, images)
    create = attrs.evolve(core.create_collect, covers=covers)
    change = attrs.evolve(core.update_collect, covers=covers)
    fields = CollectFields(title="Gift", cover=upload(b"IMG-first"))
    collect_id = create(NewCollect(ivan.id, fields)).collect.id
    change(CollectChange(collect_id, ivan.id, CollectFields(cover=upload(b"IMG-second"))))
    assert images.checked_in_transaction == [False, False]
    assert storage.saved_in_transaction == [False, False]
    assert storage.files == {stored(core, collect_id).source: b"IMG-second"}


def test_an_invalid_cover_is_reported_only_after_the_actor_existence_and_permission(core):
    ivan, olga, ghost = core.user("ivan"), core.user("olga"), core.user("ghost")
    collect_id = core.collect(ivan).collect.id
    del core.db.users[ghost.id]
    with pytest.raises(AuthenticationFailed):
        core.create_collect(NewCollect(ghost.id, CollectFields(title="", cover=upload(b"GIF"))))
    with pytest.raises(NotFound):
        update(core, collect_id + 100, ivan.id, cover=upload(b"GIF"))
    with pytest.raises(PermissionDenied):
        update(core, collect_id, olga.id, cover=upload(b"GIF"))
    assert core.storage.files == {}


@pytest.mark.parametrize(
    ("missing", "by_author", "title", "refusal"),
    [
        (True, True, "Gift", NotFound),
        (False, False, "Gift", PermissionDenied),
        (False, True, "", ValidationFailed),
    ],
    ids=["not-found", "not-the-author", "invalid-title"],
)
def test_an_upload_staged_for_a_refused_update_is_deleted_again(
    core, missing, by_author, title, refusal
):
    core.storage = storage = TransactionWitnessStorage(core)
    ivan, olga = core.user("ivan"), core.user("olga")
    collect_id = core.collect(ivan, cover=upload(b"IMG-old")).collect.id
    files = dict(storage.files)
    actor = ivan if by_author else olga
    with pytest.raises(refusal):
        update(core, collect_id + missing * 100, actor.id, title=title, cover=upload(b"IMG-new"))
    assert storage.saved_in_transaction == [False, False], "the new upload was stored, outside"
    assert storage.files == files


def test_an_upload_staged_for_an_invalid_new_collect_is_deleted_again(core):
    core.storage = storage = TransactionWitnessStorage(core)
    with pytest.raises(ValidationFailed) as raised:
        core.collect(core.user(), title="", cover=upload())
    assert [e.field for e in raised.value.errors] == ["title"]
    assert storage.saved_in_transaction == [False]
    assert storage.files == {}
    assert core.db.collects == {}


def test_an_upload_is_read_from_its_start_even_if_already_read(core):
    picture = upload(b"IMG-rewound")
    picture.file.read()
    collect_id = core.collect(core.user(), cover=picture).collect.id
    assert core.storage.files[stored(core, collect_id).source] == b"IMG-rewound"


# processing


def test_processing_makes_the_cover_ready(core):
    collect_id = core.collect(core.user(), cover=upload()).collect.id
    source = stored(core, collect_id).source
    core.cache.changed.clear()
    core.process_cover(ProcessCover(collect_id, source))
    cover = stored(core, collect_id)
    assert cover.status is CoverStatus.READY
    assert cover.image.startswith("covers/")
    assert core.storage.files == {cover.image: b"COVER:IMG-picture"}
    assert core.cache.changed == [collect_id]
    assert core.get_collect(collect_id).collect.cover_image == cover.image


def test_processing_deletes_the_source_only_after_commit(core):
    core.storage = witness = CommitWitnessStorage(core)
    core.collect(core.user(), cover=upload())
    core.process_cover(cover_tasks(core)[0])
    assert witness.committed_when_deleted == [True]


def test_processing_an_unreadable_upload_marks_the_cover_failed_and_leaves_no_file(core):
    collect_id = core.collect(core.user(), cover=upload()).collect.id
    source = stored(core, collect_id).source
    core.storage.files[source] = b"corrupted"
    core.process_cover(ProcessCover(collect_id, source))
    assert stored(core, collect_id).status is CoverStatus.FAILED
    assert core.storage.files == {}
    assert core.get_collect(collect_id).collect.cover_status is CoverStatus.FAILED


def test_processing_a_vanished_upload_marks_the_cover_failed(core):
    collect_id = core.collect(core.user(), cover=upload()).collect.id
    source = stored(core, collect_id).source
    del core.storage.files[source]
    core.process_cover(ProcessCover(collect_id, source))
    assert stored(core, collect_id).status is CoverStatus.FAILED
    assert core.storage.files == {}


def test_processing_a_superseded_upload_is_ignored(core):
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload(b"IMG-old")).collect.id
    old = cover_tasks(core)[0]
    update(core, collect_id, ivan.id, cover=upload(b"IMG-new"))
    new_source = stored(core, collect_id).source
    core.process_cover(old)
    assert stored(core, collect_id).status is CoverStatus.PROCESSING
    assert set(core.storage.files) == {new_source}


def test_processing_twice_makes_one_image(core):
    collect_id = core.collect(core.user(), cover=upload()).collect.id
    task = cover_tasks(core)[0]
    core.process_cover(task)
    core.process_cover(task)
    assert set(core.storage.files) == {stored(core, collect_id).image}


def test_processing_the_cover_of_a_deleted_collect_does_nothing(core):
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload()).collect.id
    task = cover_tasks(core)[0]
    core.delete_collect(CollectDeletion(collect_id, ivan.id))
    core.process_cover(task)
    assert core.storage.files == {}


def test_an_image_made_for_an_upload_superseded_meanwhile_is_deleted(core):
    """The upload is replaced while the worker makes its image: the image is thrown away."""
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload(b"IMG-old")).collect.id
    task = cover_tasks(core)[0]

    class ReplacedDuringProcessing(FakeImages):
        def make_cover(self, data: bytes) -> bytes:
            update(core, collect_id, ivan.id, cover=upload(b"IMG-new"))
            return super().make_cover(data)

    attrs.evolve(core.process_cover, images=ReplacedDuringProcessing())(task)
    assert stored(core, collect_id).status is CoverStatus.PROCESSING
    assert set(core.storage.files) == {stored(core, collect_id).source}


def test_giving_up_marks_the_cover_failed_and_deletes_the_upload(core):
    collect_id = core.collect(core.user(), cover=upload()).collect.id
    core.process_cover.give_up(cover_tasks(core)[0])
    assert stored(core, collect_id).status is CoverStatus.FAILED
    assert core.storage.files == {}


def test_giving_up_on_a_superseded_upload_changes_nothing(core):
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload()).collect.id
    old = cover_tasks(core)[0]
    update(core, collect_id, ivan.id, cover=upload())
    core.process_cover.give_up(old)
    assert stored(core, collect_id).status is CoverStatus.PROCESSING


# replacing and removing


def test_replacing_a_ready_cover_deletes_the_old_image_after_commit(core):
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload()).collect.id
    core.process_cover(cover_tasks(core)[0])
    old_image = stored(core, collect_id).image
    core.storage = witness = CommitWitnessStorage(core)
    core.storage.files = {old_image: b"COVER:IMG-picture"}
    update(core, collect_id, ivan.id, cover=upload(b"IMG-second"))
    new_source = stored(core, collect_id).source
    assert set(core.storage.files) == {new_source}
    assert witness.committed_when_deleted == [True]


def test_replacing_a_processing_cover_deletes_the_old_upload(core):
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload()).collect.id
    old_source = stored(core, collect_id).source
    update(core, collect_id, ivan.id, cover=upload())
    assert old_source not in core.storage.files
    assert set(core.storage.files) == {stored(core, collect_id).source}


def test_removing_a_cover_deletes_its_files_after_commit(core):
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload()).collect.id
    core.process_cover(cover_tasks(core)[0])
    image = stored(core, collect_id).image
    core.storage = witness = CommitWitnessStorage(core)
    core.storage.files = {image: b"COVER:IMG-picture"}
    detail = update(core, collect_id, ivan.id, cover=None)
    assert detail.collect.cover_status is CoverStatus.NONE
    assert detail.collect.cover_image is None
    assert core.storage.files == {}
    assert witness.committed_when_deleted == [True]


def test_removing_an_absent_cover_is_harmless(core):
    ivan = core.user()
    collect_id = core.collect(ivan).collect.id
    assert update(core, collect_id, ivan.id, cover=None).collect.cover_status is CoverStatus.NONE


def test_deleting_a_collect_deletes_its_cover_after_commit(core):
    ivan = core.user()
    collect_id = core.collect(ivan, cover=upload()).collect.id
    core.process_cover(cover_tasks(core)[0])
    image = stored(core, collect_id).image
    core.storage = witness = CommitWitnessStorage(core)
    core.storage.files = {image: b"COVER:IMG-picture"}
    core.delete_collect(CollectDeletion(collect_id, ivan.id))
    assert core.storage.files == {}
    assert witness.committed_when_deleted == [True]


# no orphans, whatever happens

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["create", "attach", "remove", "process", "give_up", "delete", "retitle"]),
        st.integers(min_value=0, max_value=5),
    ),
    max_size=25,
)


def apply(core: Core, author, operation: str, pick: int) -> None:
    collect_ids = sorted(core.db.collects)
    tasks = cover_tasks(core)
    if operation == "create":
        core.collect(author, cover=upload() if pick % 2 else None)
    elif operation in {"process", "give_up"} and tasks:
        task = tasks[pick % len(tasks)]
        if operation == "process":
            core.process_cover(task)
        else:
            core.process_cover.give_up(task)
    elif collect_ids and operation in {"attach", "remove", "delete", "retitle"}:
        collect_id = collect_ids[pick % len(collect_ids)]
        if operation == "attach":
            update(core, collect_id, author.id, cover=upload(b"IMG-%d" % pick))
        elif operation == "remove":
            update(core, collect_id, author.id, cover=None)
        elif operation == "retitle":
            update(core, collect_id, author.id, title=f"Title {pick}")
        else:
            core.delete_collect(CollectDeletion(collect_id, author.id))


@settings(max_examples=60, deadline=None)
@given(OPERATIONS)
def test_storage_holds_exactly_the_files_collects_refer_to(operations):
    core = new_core()
    author = core.user()
    for operation, pick in operations:
        apply(core, author, operation, pick)
        assert set(core.storage.files) == referenced_files(core)
    for task in cover_tasks(core):
        core.process_cover(task)
    assert set(core.storage.files) == referenced_files(core)
    assert all(c.cover.status is not CoverStatus.PROCESSING for c in core.db.collects.values())
