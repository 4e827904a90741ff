"""/api/v1/collects/{id}/…: joining a collect, and for those who run it, its share key,
participants, organisers and reminders."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromQuery, Parameter, QueryParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from fundraising.application.pagination import DEFAULT_PAGE_SIZE
from fundraising.application.use_cases.membership import (
    AddOrganiser,
    GetShareKey,
    Invitation,
    InviteParticipant,
    Join,
    JoinCollect,
    ListParticipants,
    MemberRequest,
    ParticipantsRequest,
    RemoveOrganiser,
    RemoveParticipant,
    RotateShareKey,
    SendReminders,
    ShareRequest,
)
from fundraising.entrypoints.http import schemas
from fundraising.entrypoints.http.bodies import json_object, optional_json_object, read_fields
from fundraising.entrypoints.http.dependencies import AUTHENTICATED, SECURED, Injected, existing_id
from fundraising.entrypoints.http.openapi import body, problems
from fundraising.entrypoints.http.pages import PAGING, page_of, page_request
from fundraising.entrypoints.http.routes.collects import CollectId, PageSize
from fundraising.entrypoints.http.threads import in_thread

MemberId = Annotated[int, Parameter(description="A member's user id.")]


class MemberController(Controller):
    path = "/api/v1/collects"
    tags = ("members",)
    security = SECURED
    dependencies = AUTHENTICATED

    @post(
        "/{collect_id:int}/join/",
        status_code=HTTP_200_OK,
        summary="Join a collect (a link collect takes its share key); a member stays one",
        operation_class=body(schemas.JoinRequest, required=False),
        responses=problems(400, 401, 404, 409, 413, 415),
    )
    async def join_collect(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        join_collect: Injected[JoinCollect],
    ) -> schemas.Participant:
        existing_id(collect_id, "collect")
        fields = read_fields(await optional_json_object(request), schemas.JoinRequest)
        join = Join(collect_id, user_id, fields.get("key", None), conversion_errors=fields.errors)
        return schemas.participant(await in_thread(join_collect, join))

    @get(
        "/{collect_id:int}/participants/",
        summary="Who takes part and what each paid (author and organisers), by joining time",
        responses=problems(400, 401, 403, 404),
    )
    async def list_participants(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        list_participants: Injected[ListParticipants],
        paid: Annotated[
            bool | None,
            QueryParameter(description="true: those who paid something; false: nothing yet."),
        ] = None,
        page: FromQuery[int] = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> schemas.ParticipantPage:
        existing_id(collect_id, "collect")
        wanted = ParticipantsRequest(
            collect_id, user_id, paid, page_request(request, page, page_size)
        )
        found = await in_thread(list_participants, wanted)
        return page_of(request, found, schemas.participant, ("paid", *PAGING))

    @post(
        "/{collect_id:int}/participants/",
        status_code=HTTP_201_CREATED,
        summary="Invite a registered user, by id or e-mail (author and organisers)",
        operation_class=body(schemas.InvitationRequest),
        responses=problems(400, 401, 403, 404, 409, 413, 415),
    )
    async def invite_participant(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        invite_participant: Injected[InviteParticipant],
    ) -> schemas.Participant:
        existing_id(collect_id, "collect")
        fields = read_fields(await json_object(request), schemas.InvitationRequest)
        invitation = Invitation(
            collect_id,
            user_id,
            user=fields.get("user", None),
            email=fields.get("email", None),
            conversion_errors=fields.errors,
        )
        return schemas.participant(await in_thread(invite_participant, invitation))

    @delete(
        "/{collect_id:int}/participants/{member_id:int}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a participant; their payments stay (author and organisers)",
        responses=problems(401, 403, 404, 409),
    )
    async def remove_participant(
        self,
        user_id: Injected[int],
        collect_id: CollectId,
        member_id: MemberId,
        remove_participant: Injected[RemoveParticipant],
    ) -> None:
        existing_id(collect_id, "collect")
        existing_id(member_id, "participant")
        await in_thread(remove_participant, MemberRequest(collect_id, user_id, member_id))

    @post(
        "/{collect_id:int}/organisers/",
        status_code=HTTP_201_CREATED,
        summary="Make a member an organiser (author only)",
        operation_class=body(schemas.OrganiserRequest),
        responses=problems(400, 401, 403, 404, 413, 415),
    )
    async def add_organiser(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        collect_id: CollectId,
        add_organiser: Injected[AddOrganiser],
    ) -> schemas.Participant:
        existing_id(collect_id, "collect")
        fields = read_fields(await json_object(request), schemas.OrganiserRequest)
        promotion = MemberRequest(
            collect_id, user_id, fields.get("user", None), conversion_errors=fields.errors
        )
        return schemas.participant(await in_thread(add_organiser, promotion))

    @delete(
        "/{collect_id:int}/organisers/{member_id:int}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="An organiser becomes a participant again (author only)",
        responses=problems(401, 403, 404),
    )
    async def remove_organiser(
        self,
        user_id: Injected[int],
        collect_id: CollectId,
        member_id: MemberId,
        remove_organiser: Injected[RemoveOrganiser],
    ) -> None:
        existing_id(collect_id, "collect")
        existing_id(member_id, "organiser")
        await in_thread(remove_organiser, MemberRequest(collect_id, user_id, member_id))

    @post(
        "/{collect_id:int}/reminders/",
        status_code=HTTP_202_ACCEPTED,
        summary="E-mail the members who have paid nothing yet (author and organisers)",
        responses=problems(401, 403, 404, 409),
    )
    async def send_reminders(
        self,
        user_id: Injected[int],
        collect_id: CollectId,
        send_reminders: Injected[SendReminders],
    ) -> schemas.RemindersSent:
        existing_id(collect_id, "collect")
        sent = await in_thread(send_reminders, ShareRequest(collect_id, user_id))
        return schemas.RemindersSent(sent.reminded, sent.skipped)

    @get(
        "/{collect_id:int}/share/",
        summary="The share key and link (author and organisers)",
        responses=problems(401, 403, 404),
    )
    async def get_share_key(
        self, user_id: Injected[int], collect_id: CollectId, get_share_key: Injected[GetShareKey]
    ) -> schemas.ShareKey:
        existing_id(collect_id, "collect")
        shared = await in_thread(get_share_key, ShareRequest(collect_id, user_id))
        return schemas.ShareKey(shared.key, shared.url)

    @post(
        "/{collect_id:int}/share/rotate/",
        status_code=HTTP_200_OK,
        summary="A new share key; the old one admits nobody any more (author and organisers)",
        responses=problems(401, 403, 404),
    )
    async def rotate_share_key(
        self,
        user_id: Injected[int],
        collect_id: CollectId,
        rotate_share_key: Injected[RotateShareKey],
    ) -> schemas.ShareKey:
        existing_id(collect_id, "collect")
        shared = await in_thread(rotate_share_key, ShareRequest(collect_id, user_id))
        return schemas.ShareKey(shared.key, shared.url)
