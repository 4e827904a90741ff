"""/api/v1/collects/: list, read (cached), create, change, delete, and a collect's feed."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, BinaryIO, cast

from litestar import Request, Response, delete, get, patch, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, Parameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from fundraising.application.errors import ValidationFailed
from fundraising.application.pagination import DEFAULT_PAGE_SIZE
from fundraising.application.ports.queries import CollectFilter, CollectOrdering
from fundraising.application.use_cases.collects import (
    CollectChange,
    CollectDeletion,
    CollectFields,
    CreateCollect,
    DeleteCollect,
    NewCollect,
    UpdateCollect,
)
from fundraising.application.use_cases.covers import Upload
from fundraising.application.views import CollectView
from fundraising.domain.collect import UNSET, Occasion
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
    MAX_ID,
    SECURED,
    base_url,
    existing_id,
    media_url,
    use_case,
)
from fundraising.entrypoints.http.openapi import body, problems
from fundraising.entrypoints.http.pages import COLLECT_LIST_QUERY, links, page_request
from fundraising.entrypoints.http.threads import in_thread

TAGS = ["collects"]
SEARCH_MAX = 255
CollectId = Annotated[int, Parameter(description="A collect id (a positive 64-bit integer).")]
NOT_MODIFIED = {304: ResponseSpec(None, description="Not modified (If-None-Match matched).")}


def _author(value: str | None, user_id: NamedDependency[int]) -> int | None:
    if value is None:
        return None
    if value == "me":
        return user_id
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise ValidationFailed.single("author", 'Must be "me" or a user id.')


def _search(value: str | None) -> str | None:
    if value and any(unicodedata.category(char) == "Cc" for char in value):
        raise ValidationFailed.single("search", "Must not contain control characters.")
    if value and len(value) > SEARCH_MAX:
        raise ValidationFailed.single("search", f"Must be at most {SEARCH_MAX} characters long.")
    return value or None


def _shown(body: bytes, views: Sequence[CollectView], now: datetime) -> Rendered:
    """A body kept by the cache no longer than the first status it shows stays true."""
    changes = [at for view in views if (at := view.status_changes_at(now)) is not None]
    return Rendered(body, (min(changes) - now).total_seconds() if changes else None)


@get(
    "/api/v1/collects/",
    tags=TAGS,
    summary="List collects, newest first",
    security=SECURED,
    dependencies=AUTHENTICATED,
    responses={
        200: ResponseSpec(schemas.CollectPage, generate_examples=False),
        **NOT_MODIFIED,
        **problems(400, 401, 404),
    },
)
async def list_collects(
    request: Request[Any, Any, Any],
    state: State,
    user_id: NamedDependency[int],
    occasion: FromQuery[Occasion | None] = None,
    is_active: FromQuery[bool | None] = None,
    author: Annotated[str | None, QueryParameter(description='"me" or a user id.')] = None,
    search: Annotated[
        str | None,
        QueryParameter(
            description="Title or description contains (any case).", max_length=SEARCH_MAX
        ),
    ] = None,
    ordering: FromQuery[CollectOrdering] = CollectOrdering.CREATED_AT_DESC,
    page: FromQuery[int] = 1,
    page_size: Annotated[int, QueryParameter(description="At most 100.")] = DEFAULT_PAGE_SIZE,
) -> Response[bytes]:
    filters = CollectFilter(
        occasion=occasion,
        is_active=is_active,
        author_id=_author(author, user_id),
        search=_search(search),
        ordering=ordering,
    )
    wanted = page_request(request, page, page_size)
    list_collects = state.container.list_collects()
    clock = state.container.clock()
    base = media_url(request)

    def render() -> Rendered:
        found = list_collects(filters, wanted)
        next_link, previous_link = links(request, found, COLLECT_LIST_QUERY)
        now = clock.now()
        results = [schemas.collect(view, base, now) for view in found.items]
        page = schemas.CollectPage(found.count, next_link, previous_link, results)
        return _shown(schemas.encode(page), found.items, now)

    return await cached_json(request, state.response_cache, user_id, render)


@get(
    "/api/v1/collects/{collect_id:int}/",
    tags=TAGS,
    summary="A collect with its newest 20 donations",
    security=SECURED,
    dependencies=AUTHENTICATED,
    responses={
        200: ResponseSpec(schemas.CollectDetailed, generate_examples=False),
        **NOT_MODIFIED,
        **problems(401, 404),
    },
)
async def get_collect(
    request: Request[Any, Any, Any],
    state: State,
    user_id: NamedDependency[int],
    collect_id: CollectId,
) -> Response[bytes]:
    existing_id(collect_id, "collect")
    get_collect = state.container.get_collect()
    clock = state.container.clock()
    base = media_url(request)

    def render() -> Rendered:
        detail, now = get_collect(collect_id), clock.now()
        return _shown(
            schemas.encode(schemas.collect_detail(detail, base, now)), [detail.collect], now
        )

    return await cached_json(request, state.response_cache, user_id, render)


@get(
    "/api/v1/collects/{collect_id:int}/payments/",
    tags=TAGS,
    summary="A collect's donations, newest first",
    security=SECURED,
    dependencies=AUTHENTICATED,
    responses={
        200: ResponseSpec(schemas.FeedPage, generate_examples=False),
        **NOT_MODIFIED,
        **problems(400, 401, 404),
    },
)
async def list_feed(
    request: Request[Any, Any, Any],
    state: State,
    user_id: NamedDependency[int],
    collect_id: CollectId,
    page: FromQuery[int] = 1,
    page_size: Annotated[int, QueryParameter(description="At most 100.")] = DEFAULT_PAGE_SIZE,
) -> Response[bytes]:
    existing_id(collect_id, "collect")
    wanted = page_request(request, page, page_size)
    list_feed = state.container.list_feed()

    def render() -> Rendered:
        found = list_feed(collect_id, wanted)
        next_link, previous_link = links(request, found)
        results = [schemas.feed_item(entry) for entry in found.items]
        return Rendered(
            schemas.encode(schemas.FeedPage(found.count, next_link, previous_link, results))
        )

    return await cached_json(request, state.response_cache, user_id, render)


async def _fields(
    request: Request[Any, Any, Any], json_schema: type[Any], form_schema: type[Any]
) -> CollectFields:
    """The collect fields of a JSON or multipart body; a cover is only ever a multipart file."""
    if is_multipart(request):
        fields = read_fields(await form(request), form_schema, from_form=True)
    else:
        fields = read_fields(await json_object(request), json_schema)
    cover = fields.get("cover")
    return CollectFields(
        title=fields.get("title"),
        occasion=fields.get("occasion"),
        description=fields.get("description"),
        goal_amount=fields.get("goal_amount"),
        end_date=fields.get("end_date"),
        is_active=fields.get("is_active"),
        cover=Upload(cast(BinaryIO, cover.file)) if isinstance(cover, UploadFile) else cover,
        rejected=fields.errors,
    )


async def _closed(fields: CollectFields) -> None:
    if isinstance(fields.cover, Upload):
        fields.cover.file.close()


@post(
    "/api/v1/collects/",
    status_code=HTTP_201_CREATED,
    tags=TAGS,
    summary="Open a collect (JSON, or multipart with a cover)",
    security=SECURED,
    dependencies={**AUTHENTICATED, "create_collect": use_case("create_collect")},
    request_max_body_size=MAX_FORM_BODY,
    operation_class=body(schemas.CollectCreate, form=schemas.CollectCreateForm),
    responses=problems(400, 401, 413, 415),
)
async def create_collect(
    request: Request[Any, Any, Any],
    state: State,
    user_id: NamedDependency[int],
    create_collect: NamedDependency[CreateCollect],
) -> Response[schemas.CollectDetailed]:
    fields = await _fields(request, schemas.CollectCreate, schemas.CollectCreateForm)
    fields = CollectFields(
        title=fields.title,
        occasion=fields.occasion,
        description=fields.description,
        goal_amount=fields.goal_amount,
        end_date=fields.end_date,
        cover=fields.cover if isinstance(fields.cover, Upload) else UNSET,
        rejected=fields.rejected,
    )
    try:
        detail = await in_thread(create_collect, NewCollect(user_id, fields))
    finally:
        await _closed(fields)
    location = f"{base_url(request)}/api/v1/collects/{detail.collect.id}/"
    return Response(
        schemas.collect_detail(detail, media_url(request), state.container.clock().now()),
        status_code=HTTP_201_CREATED,
        headers={"Location": location},
    )


@patch(
    "/api/v1/collects/{collect_id:int}/",
    tags=TAGS,
    summary="Change a collect (author only); cover: a file to replace, empty or null to remove",
    security=SECURED,
    dependencies={**AUTHENTICATED, "update_collect": use_case("update_collect")},
    request_max_body_size=MAX_FORM_BODY,
    operation_class=body(schemas.CollectUpdate, form=schemas.CollectUpdateForm),
    responses=problems(400, 401, 403, 404, 409, 413, 415),
)
async def update_collect(
    request: Request[Any, Any, Any],
    state: State,
    user_id: NamedDependency[int],
    collect_id: CollectId,
    update_collect: NamedDependency[UpdateCollect],
) -> schemas.CollectDetailed:
    existing_id(collect_id, "collect")
    fields = await _fields(request, schemas.CollectUpdate, schemas.CollectUpdateForm)
    try:
        detail = await in_thread(update_collect, CollectChange(collect_id, user_id, fields))
    finally:
        await _closed(fields)
    return schemas.collect_detail(detail, media_url(request), state.container.clock().now())


@delete(
    "/api/v1/collects/{collect_id:int}/",
    status_code=HTTP_204_NO_CONTENT,
    tags=TAGS,
    summary="Delete a collect without payments (author only)",
    security=SECURED,
    dependencies={**AUTHENTICATED, "delete_collect": use_case("delete_collect")},
    responses=problems(401, 403, 404, 409),
)
async def delete_collect(
    user_id: NamedDependency[int],
    collect_id: CollectId,
    delete_collect: NamedDependency[DeleteCollect],
) -> None:
    existing_id(collect_id, "collect")
    await in_thread(delete_collect, CollectDeletion(collect_id, user_id))


HANDLERS = [list_collects, get_collect, list_feed, create_collect, update_collect, delete_collect]
