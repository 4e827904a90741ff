"""Pagination in DRF's shape: count, absolute next/previous links, results."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from litestar import Request

from fundraising.application.errors import ValidationFailed
from fundraising.application.pagination import PageRequest
from fundraising.application.views import Page
from fundraising.entrypoints.http import schemas
from fundraising.entrypoints.http.urls import base_url

V = TypeVar("V")
S = TypeVar("S")

_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
PAGING = ("page", "page_size")
COLLECT_LIST_QUERY = ("occasion", "is_active", "author", "mine", "search", "ordering", *PAGING)


def page_request(request: Request[Any, Any, Any], page: int, page_size: int) -> PageRequest:
    """The page asked for; `1e3` or `1.0` are not integers, whatever a number parser makes of
    them."""
    for name in ("page", "page_size"):
        if any(not _INTEGER.fullmatch(raw) for raw in request.query_params.getall(name, [])):
            raise ValidationFailed.single(name, "Must be an integer.")
    return PageRequest.of(page, page_size)


def page_of(
    request: Request[Any, Any, Any],
    found: Page[V],
    shown: Callable[[V], S],
    known: tuple[str, ...] = PAGING,
) -> schemas.Page[S]:
    """A page of a list as the contract shows it: the items `shown`, with absolute links to the
    pages around it."""
    next_link, previous_link = _links(request, found, known)
    return schemas.Page(
        found.count, next_link, previous_link, [shown(item) for item in found.items]
    )


def _links(
    request: Request[Any, Any, Any], page: Page[Any], known: tuple[str, ...]
) -> tuple[str | None, str | None]:
    """The next and previous pages, with the query parameters the list knows (others change
    nothing, so they are not repeated)."""
    # The path as the client wrote it (Litestar's own drops the trailing slash); some servers
    # leave the query on raw_path.
    raw = request.scope.get("raw_path", b"").decode("latin-1").partition("?")[0]
    path = raw or request.url.path
    base = f"{base_url(request)}{path}"
    others = [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key in known and key != "page"
    ]

    def link(number: int) -> str:
        return f"{base}?{urlencode([*others, ('page', str(number))])}"

    return (
        link(page.number + 1) if page.has_next else None,
        link(page.number - 1) if page.has_previous else None,
    )
