"""OpenAPI links: how an answer feeds the next request — register, log in, open a collect,
donate to it, read it back, and undo what was made. Client generators show them; fuzzers
such as schemathesis follow them through real objects instead of guessing ids."""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import Link

_BEARER = "header.Authorization"
_SAME_CALLER = {_BEARER: "$request.header.Authorization"}


def _link(
    operation_id: str,
    description: str,
    parameters: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Link:
    return Link(
        operation_id=operation_id,
        description=description,
        parameters={**_SAME_CALLER, **(parameters or {})},
        request_body=body,
    )


_NEW_COLLECT = {"collect_id": "$response.body#/id"}
_THE_MEMBER = {"collect_id": "$request.path.collect_id", "member_id": "$response.body#/user"}

LINKS: dict[tuple[str, str], dict[str, Link]] = {
    ("registerUser", "201"): {
        "LogIn": Link(
            operation_id="createTokens",
            description="Log in as the new user.",
            request_body={
                "username": "$request.body#/username",
                "password": "$request.body#/password",
            },
        )
    },
    ("createTokens", "200"): {
        "GetMe": _link("getMe", "Who the token is.", {_BEARER: "Bearer {$response.body#/access}"}),
        "CreateCollect": _link(
            "createCollect", "Open a collect.", {_BEARER: "Bearer {$response.body#/access}"}
        ),
    },
    ("createCollect", "201"): {
        "GetCollect": _link("getCollect", "Read the new collect.", _NEW_COLLECT),
        "UpdateCollect": _link("updateCollect", "Change it.", _NEW_COLLECT),
        "Donate": _link("donate", "Donate to it.", body={"collect": "$response.body#/id"}),
        "ListFeed": _link("listFeed", "Its donations.", _NEW_COLLECT),
        "InviteParticipant": _link("inviteParticipant", "Invite someone.", _NEW_COLLECT),
        "DeleteCollect": _link("deleteCollect", "Delete it.", _NEW_COLLECT),
    },
    ("donate", "201"): {
        "GetPayment": _link(
            "getPayment", "Read the payment.", {"payment_id": "$response.body#/id"}
        ),
        "GetCollect": _link(
            "getCollect", "Read the collect's new total.", {"collect_id": "$request.body#/collect"}
        ),
        "RefundPayment": _link("refundPayment", "Refund it.", {"payment_id": "$response.body#/id"}),
    },
    ("inviteParticipant", "201"): {
        "AddOrganiser": _link(
            "addOrganiser",
            "Make them an organiser.",
            {"collect_id": "$request.path.collect_id"},
            body={"user": "$response.body#/user"},
        ),
        "RemoveParticipant": _link("removeParticipant", "Remove them.", _THE_MEMBER),
    },
    ("addOrganiser", "201"): {
        "RemoveOrganiser": _link("removeOrganiser", "Make them a participant again.", _THE_MEMBER),
    },
    ("postUpdate", "201"): {
        "DeleteUpdate": _link(
            "deleteUpdate",
            "Delete the update.",
            {"collect_id": "$request.path.collect_id", "update_id": "$response.body#/id"},
        ),
    },
    ("createWebhook", "201"): {
        "ListDeliveries": _link(
            "listDeliveries", "Its delivery log.", {"webhook_id": "$response.body#/id"}
        ),
        "DeleteWebhook": _link("deleteWebhook", "Delete it.", {"webhook_id": "$response.body#/id"}),
    },
}
"""The links of each (operationId, status) answer."""
