"""Revocation through `fundraising serve` with two workers sharing a Redis cache: a revoked
token gets a 401 from whichever worker answers, on a cache hit too, and still after Redis
lost what it knew."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.processes import PASSWORD, Account, Api, deployment

pytestmark = [pytest.mark.mysql, pytest.mark.redis]
TRIES = 8  # requests after a revocation: with two workers, both answer some of them


def _hits(api: Api, collect_id: int, who: Account) -> None:
    """Read until the answers come from the cache."""
    statuses = [api.detail(collect_id, who) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200] * 4
    assert statuses[-1].headers["X-Cache"] == "HIT"


def _refused(api: Api, collect_id: int, who: Account) -> None:
    answers = [api.detail(collect_id, who) for _ in range(TRIES)]
    assert [r.status_code for r in answers] == [401] * TRIES, [r.text for r in answers]


def test_revoked_tokens_are_refused_by_every_worker_on_cache_hits(tmp_path: Path) -> None:
    with deployment(tmp_path) as deployed:
        deployed.serve(workers=2)
        api = deployed.api()
        try:
            author, donor = api.account("author"), api.account("donor")
            collect_id = api.collect(author, "Подарок")["id"]
            _hits(api, collect_id, donor)
            change = {"current_password": PASSWORD, "new_password": "amber-violet-harbour"}
            changed = api.http.post("/auth/users/set_password/", json=change, headers=donor.headers)
            assert changed.status_code == 204, changed.text
            _refused(api, collect_id, donor)

            # A command's cache starts a new epoch (it may have missed changes): no entry is
            # left to hit, and the refusal comes from the stamp the command recorded.
            _hits(api, collect_id, author)
            assert deployed.run("deactivate-user", author.username).code == 0
            _refused(api, collect_id, author)

            deployed.cache.stop()  # its data is lost: the stamps come from the database again
            deployed.cache.start()
            _refused(api, collect_id, author)
            _refused(api, collect_id, donor)
        finally:
            api.close()
