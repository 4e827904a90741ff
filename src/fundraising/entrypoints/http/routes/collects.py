"""/api/v1/collects/: list, read (cached), create, change, delete, and a collect's feed."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, BinaryIO, cast

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, Parameter, QueryParameter
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from fundraising.application.errors import ValidationFailed
from fundraising.application.pagination import DEFAULT_PAGE_SIZE
from fundraising.application.ports.cache import ResponseCache
from fundraising.application.ports.clock import Clock
from fundraising.application.ports.queries import CollectFilter, CollectOrdering
from fundraising.application.use_cases.cancellation import CancelCollect
from fundraising.application.use_cases.collects import (
    CollectChange,
    CollectDeletion,
    CollectFields,
    CreateCollect,
    DeleteCollect,
    GetCollect,
    ListCollects,
    ListFeed,
    NewCollect,
    UpdateCollect,
)
from fundraising.application.use_cases.covers import Upload
from fundraising.application.views import CollectView
from fundraising.domain.collect import UNCHANGED, Occasion
from fundraising.domain.ids import is_id
from fundraising.entrypoints.http import schemas
from fundraising.entrypoints.http.bodies import (
    MAX_FORM_BODY,
    form,
    is_multipart,
    json_object,
    read_fields,
)
from fundraising.entrypoints.http.caching import Rendered, cached_json
from fundraising.entrypoints.http.dependencies import (
    AUTHENTICATED,
    SECURED,
    Injected,
    existing_id,
)
from fundraising.entrypoints.http.openapi import body, problems
from fundraising.entrypoints.http.pages import (
    COLLECT_LIST_QUERY,
    page_of,
    page_request,
)
from fundraising.entrypoints.http.threads import in_thread
from fundraising.entrypoints.http.urls import base_url, media_url

SEARCH_MAX = 255
CollectId = Annotated[int, Parameter(description="A collect id (a positive 64-bit integer).")]
PageSize = Annotated[
    int, QueryParameter(description="1 or more; above 100 gives 100.", schema_extra={"minimum": 1})
]
NOT_MODIFIED = {304: ResponseSpec(None, description="Not modified (If-None-Match matched).")}


def _cached(page: Any, *statuses: int) -> dict[int, ResponseSpec]:
    """The answers of a cached read: the body, a 304, and the problems."""
    return {
        200: ResponseSpec(page, generate_examples=False),
        **NOT_MODIFIED,
        **problems(*statuses),
    }


AUTHOR = r"^(me|[1-9][0-9]{0,17})$"  # ids up to 10^18 (bigger ones are accepted, not shown)


def _author(value: str | None, user_id: int) -> int | None:
    if value is None:
        return None
    if value == "me":
        return user_id
    if value.isascii() and value.isdigit() and is_id(int(value)):
        return int(value)
    raise ValidationFailed.single("author", 'Must be "me" or a user id.')


def _search(value: str | None) -> str | None:
    if value and any(unicodedata.category(char) == "Cc" for char in value):
        raise ValidationFailed.single("search", "Must not contain control characters.")
    if value and len(value) > SEARCH_MAX:
        raise ValidationFailed.single("search", f"Must be at most {SEARCH_MAX} characters long.")
    return value or None


def _shown(
    body: bytes, views: Sequence[CollectView], now: datetime, audience: frozenset[int] | None
) -> Rendered:
    """A body kept by the cache no longer than the first status it shows stays true."""
    changes = [at for view in views if (at := view.status_changes_at(now)) is not None]
    fresh_for = (min(changes) - now).total_seconds() if changes else None
    return Rendered(body, fresh_for, audience)


async def _fields(
    request: Request[Any, Any, Any], json_schema: type[Any], form_schema: type[Any]
) -> CollectFields:
    """The collect fields of a JSON or multipart body; a cover is only ever a multipart file."""
    if is_multipart(request):
        fields = read_fields(await form(request), form_schema, from_form=True)
    else:
        fields = read_fields(await json_object(request), json_schema)
    cover = fields.get("cover")
    hidden = fields.get("hidden_from")
    return CollectFields(
        title=fields.get("title"),
        occasion=fields.get("occasion"),
        description=fields.get("description"),
        goal_amount=fields.get("goal_amount"),
        end_date=fields.get("end_date"),
        is_active=fields.get("is_active"),
        visibility=fields.get("visibility"),
        hidden_from=tuple(hidden) if isinstance(hidden, list) else hidden,
        suggested_amount=fields.get("suggested_amount"),
        cover=Upload(cast(BinaryIO, cover.file)) if isinstance(cover, UploadFile) else cover,
        conversion_errors=fields.errors,
    )


def _closed(fields: CollectFields) -> None:
    if isinstance(fields.cover, Upload):
        fields.cover.file.close()


class CollectController(Controller):
    path = "/api/v1/collects"
    tags = ("collects",)
    security = SECURED
    dependencies = AUTHENTICATED

    @get(
        "/",
        summary="List collects, newest first",
        responses=_cached(schemas.CollectPage, 400, 401, 404),
    )
    async def list_collects(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        list_collects: Injected[ListCollects],
        clock: Injected[Clock],
        response_cache: Injected[ResponseCache | None],
        occasion: FromQuery[Occasion | None] = None,
        is_active: FromQuery[bool | None] = None,
        author: Annotated[
            str | None,
            QueryParameter(description='"me" or a user id.', schema_extra={"pattern": AUTHOR}),
        ] = None,
        mine: Annotated[
            bool,
            QueryParameter(
                description="true: every collect the caller authors, organises or takes part "
                "in, of any visibility (else public collects only)."
            ),
        ] = False,
        search: Annotated[
            str | None,
            QueryParameter(
                description="Title or description contains (any case); no control characters.",
                max_length=SEARCH_MAX,
                schema_extra={"pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"},  # Unicode's Cc
            ),
        ] = None,
        ordering: FromQuery[CollectOrdering] = CollectOrdering.CREATED_AT_DESC,
        page: FromQuery[int] = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> Response[bytes]:
        filters = CollectFilter(
            occasion=occasion,
            is_active=is_active,
            author_id=_author(author, user_id),
            search=_search(search),
            ordering=ordering,
            member_id=user_id if mine else None,
        )
        wanted = page_request(request, page, page_size)
        media = media_url(request)

        def render() -> Rendered:
            found, now = list_collects(filters, wanted), clock.now()
            shown = page_of(
                request,
                found.value,
                lambda view: schemas.collect(view, media, now),
                COLLECT_LIST_QUERY,
            )
            return _shown(schemas.encode(shown), found.value.items, now, found.audience)

        return await cached_json(request, response_cache, user_id, render)

    @get(
        "/{collect_id:int}/",
        summary="A collect with its newest 20 donations",
        responses=_cached(schemas.CollectDetailed, 401, 404),
    )
    async def get_collect(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        get_collect: Injected[GetCollect],
        clock: Injected[Clock],
        response_cache: Injected[ResponseCache | None],
    ) -> Response[bytes]:
        existing_id(collect_id, "collect")
        media = media_url(request)

        def render() -> Rendered:
            found, now = get_collect(collect_id, user_id), clock.now()
            shown = schemas.collect_detail(found.value, media, now)
            return _shown(schemas.encode(shown), [found.value.collect], now, found.audience)

        return await cached_json(request, response_cache, user_id, render)

    @get(
        "/{collect_id:int}/payments/",
        summary="A collect's donations, newest first",
        responses=_cached(schemas.FeedPage, 400, 401, 404),
    )
    async def list_feed(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        list_feed: Injected[ListFeed],
        response_cache: Injected[ResponseCache | None],
        page: FromQuery[int] = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> Response[bytes]:
        existing_id(collect_id, "collect")
        wanted = page_request(request, page, page_size)

        def render() -> Rendered:
            found = list_feed(collect_id, user_id, wanted)
            body = schemas.encode(page_of(request, found.value, schemas.feed_item))
            return Rendered(body, audience=found.audience)

        return await cached_json(request, response_cache, user_id, render)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Open a collect (JSON, or multipart with a cover)",
        request_max_body_size=MAX_FORM_BODY,
        operation_class=body(schemas.CollectCreate, form=schemas.CollectCreateForm),
        responses=problems(400, 401, 413, 415),
    )
    async def create_collect(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        create_collect: Injected[CreateCollect],
        clock: Injected[Clock],
    ) -> Response[schemas.CollectDetailed]:
        given = await _fields(request, schemas.CollectCreate, schemas.CollectCreateForm)
        fields = CollectFields(
            title=given.title,
            occasion=given.occasion,
            description=given.description,
            goal_amount=given.goal_amount,
            end_date=given.end_date,
            visibility=given.visibility,
            hidden_from=given.hidden_from,
            suggested_amount=given.suggested_amount,
            cover=given.cover if isinstance(given.cover, Upload) else UNCHANGED,
            conversion_errors=given.conversion_errors,
        )
        try:
            detail = await in_thread(create_collect, NewCollect(user_id, fields))
        finally:
            _closed(fields)
        return Response(
            schemas.collect_detail(detail, media_url(request), clock.now()),
            status_code=HTTP_201_CREATED,
            headers={"Location": f"{base_url(request)}/api/v1/collects/{detail.collect.id}/"},
        )

    @patch(
        "/{collect_id:int}/",
        summary="Change a collect (author only); cover: a file to replace, empty or null to remove",
        request_max_body_size=MAX_FORM_BODY,
        operation_class=body(schemas.CollectUpdate, form=schemas.CollectUpdateForm),
        responses=problems(400, 401, 403, 404, 409, 413, 415),
    )
    async def update_collect(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        update_collect: Injected[UpdateCollect],
        clock: Injected[Clock],
    ) -> schemas.CollectDetailed:
        existing_id(collect_id, "collect")
        fields = await _fields(request, schemas.CollectUpdate, schemas.CollectUpdateForm)
        try:
            detail = await in_thread(update_collect, CollectChange(collect_id, user_id, fields))
        finally:
            _closed(fields)
        return schemas.collect_detail(detail, media_url(request), clock.now())

    @delete(
        "/{collect_id:int}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a collect without payments (author only)",
        responses=problems(401, 403, 404, 409),
    )
    async def delete_collect(
        self,
        user_id: Injected[int],
        collect_id: CollectId,
        delete_collect: Injected[DeleteCollect],
    ) -> None:
        existing_id(collect_id, "collect")
        await in_thread(delete_collect, CollectDeletion(collect_id, user_id))

    @post(
        "/{collect_id:int}/cancel/",
        status_code=HTTP_202_ACCEPTED,
        summary="Cancel a collect for good (author only); every payment is refunded in batches",
        responses=problems(401, 403, 404, 409),
    )
    async def cancel_collect(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        cancel_collect: Injected[CancelCollect],
        clock: Injected[Clock],
    ) -> schemas.CollectDetailed:
        existing_id(collect_id, "collect")
        detail = await in_thread(cancel_collect, CollectDeletion(collect_id, user_id))
        return schemas.collect_detail(detail, media_url(request), clock.now())
