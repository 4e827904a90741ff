"""/api/v1/webhooks/: a user's webhooks and the log of their deliveries."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromQuery, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from fundraising.application.pagination import DEFAULT_PAGE_SIZE
from fundraising.application.use_cases.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    ListDeliveries,
    ListWebhooks,
    NewWebhook,
    WebhookRequest,
)
from fundraising.entrypoints.http import schemas
from fundraising.entrypoints.http.bodies import json_object, read_fields
from fundraising.entrypoints.http.dependencies import AUTHENTICATED, SECURED, Injected, existing_id
from fundraising.entrypoints.http.openapi import body, problems
from fundraising.entrypoints.http.pages import page_of, page_request
from fundraising.entrypoints.http.routes.collects import PageSize
from fundraising.entrypoints.http.threads import in_thread

WebhookId = Annotated[int, Parameter(description="A webhook id.")]


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ("webhooks",)
    security = SECURED
    dependencies = AUTHENTICATED

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Subscribe a URL to the events of a collect you run, or of all of them",
        description=(
            "Events: `payment.created`, `payment.refunded`, `collect.goal_reached`, "
            "`collect.closed` (closed, cancelled or ended). Each is POSTed per Standard "
            "Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), signed with "
            "the `secret` of this answer, which is never shown again. At most 10 per user."
        ),
        operation_class=body(schemas.WebhookCreate),
        responses=problems(400, 401, 404, 413, 415),
    )
    async def create_webhook(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        create_webhook: Injected[CreateWebhook],
    ) -> schemas.WebhookCreated:
        fields = read_fields(await json_object(request), schemas.WebhookCreate)
        new = NewWebhook(
            user_id,
            fields.get("url", None),
            fields.get("events", None),
            fields.get("collect", None),
            conversion_errors=fields.errors,
        )
        return schemas.created_webhook(await in_thread(create_webhook, new))

    @get(
        "/",
        summary="Your webhooks, newest first (without their secrets)",
        responses=problems(400, 401, 404),
    )
    async def list_webhooks(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        list_webhooks: Injected[ListWebhooks],
        page: FromQuery[int] = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> schemas.WebhookPage:
        wanted = page_request(request, page, page_size)
        found = await in_thread(list_webhooks, user_id, wanted)
        return page_of(request, found, schemas.webhook)

    @delete(
        "/{webhook_id:int}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a webhook and its delivery log",
        responses=problems(401, 404),
    )
    async def delete_webhook(
        self, user_id: Injected[int], webhook_id: WebhookId, delete_webhook: Injected[DeleteWebhook]
    ) -> None:
        existing_id(webhook_id, "webhook")
        await in_thread(delete_webhook, WebhookRequest(webhook_id, user_id))

    @get(
        "/{webhook_id:int}/deliveries/",
        summary="A webhook's deliveries, newest first: each event, its attempts and outcome",
        responses=problems(400, 401, 404),
    )
    async def list_deliveries(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        webhook_id: WebhookId,
        list_deliveries: Injected[ListDeliveries],
        page: FromQuery[int] = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> schemas.DeliveryPage:
        existing_id(webhook_id, "webhook")
        wanted = page_request(request, page, page_size)
        found = await in_thread(list_deliveries, WebhookRequest(webhook_id, user_id), wanted)
        return page_of(request, found, schemas.delivery)
