"""/api/v1/collects/{id}/updates/: a collect's news, read by whoever sees it, posted by those
who run it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromQuery, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from fundraising.application.pagination import DEFAULT_PAGE_SIZE
from fundraising.application.use_cases.updates import (
    DeleteUpdate,
    ListUpdates,
    NewUpdate,
    PostUpdate,
    UpdateRequest,
)
from fundraising.entrypoints.http import schemas
from fundraising.entrypoints.http.bodies import json_object, read_fields
from fundraising.entrypoints.http.dependencies import AUTHENTICATED, SECURED, Injected, existing_id
from fundraising.entrypoints.http.openapi import body, problems
from fundraising.entrypoints.http.pages import page_of, page_request
from fundraising.entrypoints.http.routes.collects import CollectId, PageSize
from fundraising.entrypoints.http.threads import in_thread

UpdateId = Annotated[int, Parameter(description="An update id.")]


class UpdateController(Controller):
    path = "/api/v1/collects"
    tags = ("updates",)
    security = SECURED
    dependencies = AUTHENTICATED

    @get(
        "/{collect_id:int}/updates/",
        summary="A collect's updates, newest first (whoever sees the collect)",
        responses=problems(400, 401, 404),
    )
    async def list_updates(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        list_updates: Injected[ListUpdates],
        page: FromQuery[int] = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> schemas.UpdatePage:
        existing_id(collect_id, "collect")
        wanted = page_request(request, page, page_size)
        found = await in_thread(list_updates, collect_id, user_id, wanted)
        return page_of(request, found, schemas.update)

    @post(
        "/{collect_id:int}/updates/",
        status_code=HTTP_201_CREATED,
        summary="Post an update, e-mailed to those who paid unless notify is false "
        "(author and organisers)",
        operation_class=body(schemas.UpdateCreate),
        responses=problems(400, 401, 403, 404, 413, 415),
    )
    async def post_update(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        post_update: Injected[PostUpdate],
    ) -> schemas.Update:
        existing_id(collect_id, "collect")
        fields = read_fields(await json_object(request), schemas.UpdateCreate)
        new = NewUpdate(
            collect_id,
            user_id,
            fields.get("text", None),
            fields.get("notify", True),
            conversion_errors=fields.errors,
        )
        return schemas.update(await in_thread(post_update, new))

    @delete(
        "/{collect_id:int}/updates/{update_id:int}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete an update (its writer, the author)",
        responses=problems(401, 403, 404),
    )
    async def delete_update(
        self,
        user_id: Injected[int],
        collect_id: CollectId,
        update_id: UpdateId,
        delete_update: Injected[DeleteUpdate],
    ) -> None:
        existing_id(collect_id, "collect")
        existing_id(update_id, "update")
        await in_thread(delete_update, UpdateRequest(collect_id, user_id, update_id))
