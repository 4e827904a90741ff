"""Memory caches of several processes over one changes file on the local disk: a change made in
one is seen by the others' next lookup, only what changed goes stale, a file that is replaced,
cut or deleted drops everything, and concurrent writers lose no change."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fundraising.adapters.cache.changes import Changes, ChangesFile
from fundraising.adapters.cache.memory import MemoryCache
from fundraising.application.errors import Unavailable
from fundraising.application.ports.cache import LISTS, CachedResponse, collect_scope

USER = 7  # whose "tokens valid after" stamp each lookup also reads

SCOPES = (collect_scope(1), collect_scope(2), LISTS)


def entry(text: str) -> CachedResponse:
    return CachedResponse.of(text.encode())


def cached(cache: MemoryCache, scope: str) -> CachedResponse | None:
    return asyncio.run(cache.lookup(scope, "page", USER)).entry


def store(cache: MemoryCache, scope: str) -> None:
    """Cache a page of `scope`, and check that it is a hit."""
    version = asyncio.run(cache.lookup(scope, "page", USER)).version
    assert version is not None
    asyncio.run(cache.store(scope, version, "page", entry(scope)))
    assert cached(cache, scope) == entry(scope)


def hits(cache: MemoryCache) -> set[str]:
    return {scope for scope in SCOPES if cached(cache, scope) is not None}


@pytest.fixture(name="path")
def path_fixture(tmp_path: Path) -> Path:
    return tmp_path / "var" / "cache-changes"


@pytest.fixture(name="caches")
def caches_fixture(path: Path) -> Iterator[tuple[MemoryCache, MemoryCache]]:
    """Two caches as two processes would have them, each with every scope cached."""
    web, cli = MemoryCache(ChangesFile(path)), MemoryCache(ChangesFile(path))
    for cache in (web, cli):
        for scope in SCOPES:
            store(cache, scope)
    yield web, cli
    web.close()
    cli.close()


def test_a_change_is_seen_by_the_other_caches_next_lookup(
    caches: tuple[MemoryCache, MemoryCache],
) -> None:
    web, cli = caches
    cli.collect_changed(1)
    assert hits(web) == {collect_scope(2)}
    assert hits(cli) == {collect_scope(2)}


def test_a_revocation_is_seen_by_the_other_caches_next_lookup(
    caches: tuple[MemoryCache, MemoryCache],
) -> None:
    web, cli = caches
    assert asyncio.run(web.lookup(LISTS, "page", USER)).tokens_valid_after is None
    asyncio.run(web.remember_tokens_valid_after(USER, 0.0))
    cli.tokens_revoked(USER, datetime(2026, 12, 3, 12, 0, 0, 500000, tzinfo=UTC))

    found = asyncio.run(web.lookup(LISTS, "page", USER))
    assert (
        found.tokens_valid_after == datetime(2026, 12, 3, 12, 0, 0, 500000, tzinfo=UTC).timestamp()
    )
    assert found.entry == entry(LISTS), "a revocation makes nothing stale"
    assert asyncio.run(web.tokens_valid_after(USER + 1)) is None, "another user: unknown"


def test_a_revocation_that_cannot_be_written_fails_the_revoking_write(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_bytes(b"")
    cache = MemoryCache(ChangesFile(blocked / "cache-changes"))
    with pytest.raises(Unavailable):
        cache.tokens_revoked(USER, datetime.now(UTC))


def test_its_own_changes_stay_fine_grained(
    caches: tuple[MemoryCache, MemoryCache],
) -> None:
    web, _ = caches
    for _ in range(3):
        web.collect_changed(1)
        assert hits(web) == {collect_scope(2)}
        store(web, collect_scope(1))
        store(web, LISTS)


def test_a_store_rendered_before_another_process_changed_is_never_served(
    caches: tuple[MemoryCache, MemoryCache],
) -> None:
    web, cli = caches
    scope = collect_scope(3)
    before = asyncio.run(web.lookup(scope, "page", USER)).version
    assert before is not None
    cli.collect_changed(3)
    asyncio.run(web.store(scope, before, "page", entry("rendered before the change")))
    assert cached(web, scope) is None


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as file:
        file.write(data)


def _replace(path: Path) -> None:
    aside = path.with_name("aside")
    aside.write_bytes(b"")
    os.replace(aside, path)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(_replace, id="replaced"),
        pytest.param(lambda path: path.write_bytes(b""), id="truncated"),
        pytest.param(Path.unlink, id="deleted"),
        pytest.param(lambda path: _append(path, b"garbage\n"), id="garbled"),
    ],
)
def test_a_file_that_changed_in_unknown_ways_drops_everything(
    caches: tuple[MemoryCache, MemoryCache], path: Path, damage: Callable[[Path], object]
) -> None:
    web, cli = caches
    cli.collect_changed(1)
    assert hits(web) == {collect_scope(2)}
    store(web, collect_scope(1))
    store(web, LISTS)

    rendered_before = asyncio.run(web.lookup(collect_scope(1), "page", USER)).version
    assert rendered_before is not None

    damage(path)

    assert hits(web) == set()
    asyncio.run(web.store(collect_scope(1), rendered_before, "page", entry("old")))
    assert cached(web, collect_scope(1)) is None, "a body rendered before the reset"
    for scope in SCOPES:
        store(web, scope)
    cli.collect_changed(2)
    assert hits(web) == {collect_scope(1)}, "back to fine-grained changes after the reset"


def test_a_writer_rotates_the_file_past_its_bound_and_readers_drop_everything(
    path: Path,
) -> None:
    web, cli = MemoryCache(ChangesFile(path)), MemoryCache(ChangesFile(path, max_bytes=10))
    try:
        for scope in SCOPES:
            store(web, scope)
        cli.collect_changed(1)
        assert hits(web) == {collect_scope(2)}
        store(web, collect_scope(1))
        store(web, LISTS)
        for _ in range(6):
            cli.collect_changed(3)
        assert path.read_bytes() == b"3\n", "rotated at the 6th line (12 bytes)"
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
        assert hits(web) == set()
    finally:
        web.close()
        cli.close()


def test_an_unwritable_file_leaves_the_writer_fine_and_the_reader_bypassing(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_bytes(b"")
    cache = MemoryCache(ChangesFile(blocked / "cache-changes"))
    cache.collect_changed(1)  # never raises
    found = asyncio.run(cache.lookup(collect_scope(1), "page", USER))
    assert found.bypassed


def test_a_line_seen_half_written_is_read_whole_once_complete(path: Path) -> None:
    reader = ChangesFile(path)
    reader.read()
    _append(path, b"4")
    assert reader.read() == Changes()
    _append(path, b"56\nu7:1")
    assert reader.read() == Changes({456})
    _append(path, b"700.25\n")
    assert reader.read() == Changes(revoked={7: 1700.25})
    reader.close()


# --- concurrent writers -----------------------------------------------------------------------


def _append_all(path: Path, ids: list[int]) -> None:
    changes = ChangesFile(path)
    for collect_id in ids:
        changes.append(collect_id)


def test_writers_in_threads_and_processes_lose_no_change(path: Path) -> None:
    reader = ChangesFile(path)
    assert reader.read() is None, "a first read starts afresh"
    batches = [list(range(start, start + 300)) for start in range(1, 1801, 300)]
    spawn = multiprocessing.get_context("spawn")
    workers: list[threading.Thread | multiprocessing.process.BaseProcess] = [
        *(spawn.Process(target=_append_all, args=(path, ids)) for ids in batches[:3]),
        *(threading.Thread(target=_append_all, args=(path, ids)) for ids in batches[3:]),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [getattr(worker, "exitcode", 0) for worker in workers] == [0] * len(workers)

    assert reader.read() == Changes(set(range(1, 1801)))
    lines = path.read_bytes().splitlines()
    assert len(lines) == 1800, "every line whole, none interleaved"
    assert reader.read() == Changes(), "nothing twice"
    reader.close()


def test_rotations_under_concurrent_writers_lose_no_change(path: Path) -> None:
    """Writers rotating the file every few lines while a reader follows it. A reset (a read
    that answers None) covers what was written before it; every other change is reported. An
    append that overlaps a reset may have landed on either side of it: left unchecked."""
    reader = ChangesFile(path)
    reader.read()
    ticks = itertools.count()  # orders the events of every thread (next() is atomic)
    ids = itertools.count(1)
    spans: dict[int, tuple[int, int]] = {}  # collect id → (its append began, returned)
    resets: list[tuple[int, int]] = []
    reported: set[int] = set()

    def write() -> None:
        changes = ChangesFile(path, max_bytes=200)
        for _ in range(400):
            collect_id, began = next(ids), next(ticks)
            changes.append(collect_id)
            spans[collect_id] = (began, next(ticks))
            time.sleep(0.0002)  # let the reader in between

    def follow() -> None:
        began = next(ticks)
        changed = reader.read()
        if changed is None:
            resets.append((began, next(ticks)))
        else:
            reported.update(changed.collects)

    writers = [threading.Thread(target=write) for _ in range(4)]
    for writer in writers:
        writer.start()
    while any(writer.is_alive() for writer in writers):
        follow()
    for writer in writers:
        writer.join(timeout=60)
    follow()
    reader.close()

    def accounted(collect_id: int) -> bool:
        began, returned = spans[collect_id]
        return (
            collect_id in reported
            or any(returned < reset for reset, _ in resets)
            or any(began < end and start < returned for start, end in resets)
        )

    assert len(spans) == 1600
    assert len(resets) > 1 and reported, "the reader did not follow the writers"
    assert [cid for cid in spans if not accounted(cid)] == []
