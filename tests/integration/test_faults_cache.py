"""Faults in the cache Redis: killed under load, and back with its data after a donation."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.integration.fault_helpers import (
    COLLECTS,
    PAYMENTS,
    PROMPT_SECONDS,
    _donation,
    _shown,
    _unexpected_errors,
)
from tests.integration.fixtures_services import (
    SmtpSink,
    smtp_sink_fixture,  # noqa: F401  (fixture)
    wait_until,
)
from tests.integration.processes import Load, Seen, deployment, observe

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.redis]


BYPASS_TRANSITION = 0.5  # requests already past the cache lookup when Redis died
OUTAGE_SECONDS = 2.5


def _wait_for_each_path(
    load: Load, paths: tuple[str, ...], condition: Callable[[Seen], bool], what: str
) -> None:
    wait_until(
        lambda: all(
            any(seen.path == path and condition(seen) for seen in load.seen) for path in paths
        ),
        timeout=15,
        interval=0.05,
        what=what,
    )


def test_reads_survive_the_cache_being_killed_and_use_it_again_once_it_is_back(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        server = deployed.serve(workers=2)
        api = deployed.api()
        author, donor = api.account("author"), api.account("donor")
        collect_id = api.collect(author, "Подарок к юбилею", goal_amount="1000")["id"]
        paid = api.donate(donor, collect_id, "100.00", "cache-before")
        assert paid.status_code == 201, paid.text
        answered = [(time.monotonic(), (1, "100.00"))]  # when each donation was answered

        paths = (f"{COLLECTS}{collect_id}/", COLLECTS)

        def read(number: int, http: httpx.Client, seen: list[Seen]) -> None:
            seen.append(observe(http, "GET", paths[number % 2], headers=donor.headers))

        # A new connection per request, so that both server processes answer reads.
        with Load(deployed.url, 4, read, fresh_connections=True) as load:
            _wait_for_each_path(load, paths, lambda s: s.cache == "HIT", "cache hits")
            deployed.cache.close()  # SIGKILL
            killed_at = time.monotonic()
            _wait_for_each_path(
                load, paths, lambda s: s.started > killed_at and s.cache == "BYPASS", "bypasses"
            )

            during = observe(
                api.http,
                "POST",
                PAYMENTS,
                json=_donation(collect_id, "250.00", "cache-during"),
                headers=donor.headers,
            )
            assert during.status == 201, during.describe()
            assert during.ended - during.started < PROMPT_SECONDS, during.describe()
            answered.append((during.ended, (2, "350.00")))
            fresh = observe(api.http, "GET", paths[0], headers=donor.headers)
            assert fresh.status == 200, fresh.describe()
            assert (fresh.cache, _shown(fresh, collect_id)) == ("BYPASS", (2, "350.00"))

            time.sleep(max(0.0, killed_at + OUTAGE_SECONDS - time.monotonic()))  # load goes on
            restarting_at = time.monotonic()
            deployed.cache.start()  # same port, empty
            _wait_for_each_path(
                load,
                paths,
                lambda s: s.started > restarting_at and s.cache == "HIT",
                "cache hits again after the restart",
            )
        seen = load.stop()

        failed = [s.describe() for s in seen if s.status != 200]
        assert not failed, f"{len(failed)} of {len(seen)} reads failed:\n" + "\n".join(failed[:20])
        outage = [
            s for s in seen if killed_at + BYPASS_TRANSITION < s.started and s.ended < restarting_at
        ]
        assert len(outage) > 20, "the reads went on during the outage"
        cached = [s.describe() for s in outage if s.cache != "BYPASS"]
        assert not cached, "not BYPASS while Redis was down:\n" + "\n".join(cached[:20])

        for each in seen:
            due = max(shown for at, shown in answered if at < each.started)
            assert _shown(each, collect_id) >= due, f"totals went backwards: {each.describe()}"
            assert _shown(each, collect_id) in {(1, "100.00"), (2, "350.00")}, each.describe()
        assert not _unexpected_errors(server), server.tail()


def test_a_cache_that_comes_back_with_its_data_never_hides_a_donation_made_meanwhile(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with deployment(tmp_path, smtp=smtp_sink) as deployed:
        server = deployed.serve(workers=2)
        api = deployed.api()
        author, donor = api.account("author"), api.account("donor")
        collect_id = api.collect(author, "Свадьба Ольги")["id"]
        assert api.donate(donor, collect_id, "100.00", "persisted-1").status_code == 201
        wait_until(
            lambda: api.detail(collect_id, donor).headers["x-cache"] == "HIT",
            what="the detail cached",
        )
        with closing(deployed.cache.client()) as cache:
            cache.save()  # what an append-only or snapshotting Redis has on disk
        deployed.cache.close()  # SIGKILL

        during = api.donate(donor, collect_id, "250.00", "persisted-2")
        assert during.status_code == 201, during.text
        shown = api.detail(collect_id, donor)
        assert (shown.headers["x-cache"], shown.json()["collected_amount"]) == ("BYPASS", "350.00")

        server.stop()  # the app restarts while Redis is still down
        deployed.serve(workers=2)
        deployed.cache.start()  # back, with what it had on disk
        with closing(deployed.cache.client()) as cache:
            assert cache.dbsize() > 0, "Redis came back with its data"

        api = deployed.api()
        answers = []
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            answers.append(
                observe(api.http, "GET", f"{COLLECTS}{collect_id}/", headers=donor.headers)
            )
            time.sleep(0.05)
        stale = [
            s.describe()
            for s in answers
            if s.status != 200 or s.body["collected_amount"] != "350.00"
        ]
        assert not stale, f"{len(stale)} of {len(answers)} reads hide the donation:\n" + "\n".join(
            stale[:5]
        )
