"""A response cache that raises, whatever it raises, is bypassed: the answer comes from the
database with `X-Cache: BYPASS`, never a 500 (for Redis, see tests/integration/test_redis_urls)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import TestClient

from fundraising.container import Container
from fundraising.entrypoints.http import caching
from tests.e2e.conftest import PASSWORD, Account, create_collect
from tests.fakes import FixedClock

COLLECTS = "/api/v1/collects/"


class FailingCache:
    """The app's own cache, except that its method named `failing` raises an error that no
    adapter anticipated (a bug, a TLS or protocol error of a client library)."""

    def __init__(self, cache: Any, failing: str) -> None:
        self._cache = cache
        self._failing = failing

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._cache, name)
        if name != self._failing:
            return method

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"the cache broke in {name}")

        return broken


@pytest.fixture
def container(container: Container, failing: str) -> Container:
    """The e2e container with its cache failing as the test says, before the app is built."""
    container.cache.override(providers.Object(FailingCache(container.cache(), failing)))
    return container


@pytest.mark.parametrize("failing", ["lookup", "store"])
def test_a_cache_that_raises_is_bypassed_and_logged_once_per_request(
    client: TestClient[Any],
    make_account: Callable[..., Account],
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    account = make_account()
    collect_id = create_collect(client, account, title="Подарок")
    paths = [f"{COLLECTS}{collect_id}/", f"{COLLECTS}{collect_id}/payments/", f"{COLLECTS}?page=1"]
    with caplog.at_level(logging.WARNING, logger=caching.__name__):
        for path in paths * 2:
            response = client.get(path, headers=account.headers)
            assert response.status_code == 200, response.text
            assert response.headers["x-cache"] == "BYPASS", path
            assert response.headers["etag"]
        assert client.get(paths[0], headers=account.headers).json()["title"] == "Подарок"

    warnings = [record for record in caplog.records if record.name == caching.__name__]
    assert len(warnings) == len(paths) * 2 + 1
    for record in warnings:
        assert record.levelno == logging.WARNING
        assert record.exc_info is not None
        assert str(record.exc_info[1]) == f"the cache broke in {failing}"


@pytest.mark.parametrize("failing", ["tokens_valid_after", "remember_tokens_valid_after"])
def test_a_cache_that_cannot_tell_revocations_leaves_the_check_to_the_database(
    client: TestClient[Any],
    make_account: Callable[..., Account],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    account = make_account()
    detail = f"{COLLECTS}{create_collect(client, account)}/"
    with caplog.at_level(logging.WARNING, logger=caching.__name__):
        for _ in range(3):
            assert client.get(detail, headers=account.headers).status_code == 200
        clock.advance(seconds=1)
        changed = client.post(
            "/auth/users/set_password/",
            json={"current_password": PASSWORD, "new_password": "amber-violet-harbour"},
            headers=account.headers,
        )
        assert changed.status_code == 204, changed.text
        assert client.get(detail, headers=account.headers).status_code == 401
    assert any(
        record.exc_info and str(record.exc_info[1]) == f"the cache broke in {failing}"
        for record in caplog.records
    )
