"""Pagination in DRF's shape: count, absolute next/previous links, results."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request

from fundraising.application.views import Page


def links(request: Request[Any, Any, Any], page: Page[Any]) -> tuple[str | None, str | None]:
    base = f"{str(request.base_url).rstrip('/')}{request.url.path}"
    others = [(key, value) for key, value in request.query_params.multi_items() if key != "page"]

    def link(number: int) -> str:
        return f"{base}?{urlencode([*others, ('page', str(number))])}"

    return (
        link(page.number + 1) if page.has_next else None,
        link(page.number - 1) if page.has_previous else None,
    )
