"""What the /api/v1/collects/ tests share: paths, a collect's fields, reads, ids of no collect."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient

from tests.e2e.conftest import Account

MakeAccount = Callable[..., Account]
BASE = "http://testserver.local"
COLLECTS = "/api/v1/collects/"
LIST_FIELDS = {
    "id",
    "title",
    "occasion",
    "description",
    "goal_amount",
    "collected_amount",
    "donors_count",
    "donations_count",
    "progress",
    "start_date",
    "end_date",
    "is_active",
    "status",
    "created_by",
    "author_name",
    "cover_url",
    "cover_status",
    "created_at",
    "updated_at",
    "visibility",
    "hidden_from",
    "suggested_amount",
    "participants_count",
}


def url(collect_id: int | str) -> str:
    return f"{COLLECTS}{collect_id}/"


def collect_of(client: TestClient[Any], account: Account, collect_id: int) -> dict[str, Any]:
    response = client.get(url(collect_id), headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def listing(client: TestClient[Any], account: Account, **params: Any) -> dict[str, Any]:
    response = client.get(COLLECTS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def tag() -> str:
    return uuid.uuid4().hex[:10]


MISSING_IDS = ["0", "-1", "abc", str(2**64), str(2**63 - 1), "1.5", "1e3", "%20"]
