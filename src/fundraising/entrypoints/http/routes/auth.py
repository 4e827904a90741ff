"""/auth/: registration, JWT tokens (rotated refresh tokens, logout), the account (activation,
passwords, profile, deletion) — the endpoints of djoser that a Django client knows."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from fundraising.application.errors import ValidationFailed
from fundraising.application.use_cases.accounts import (
    AccountDeletion,
    ActivateAccount,
    Activation,
    ConfirmPasswordReset,
    DeleteAccount,
    EmailRequest,
    PasswordChange,
    PasswordReset,
    ProfileChange,
    SendAccountEmail,
    SetPassword,
    UpdateProfile,
)
from fundraising.application.use_cases.auth import (
    Credentials,
    GetCurrentUser,
    LogIn,
    LogOut,
    RefreshAccess,
    RegisterUser,
    Registration,
    VerifyToken,
)
from fundraising.entrypoints.http import schemas
from fundraising.entrypoints.http.bodies import Fields, json_object, read_fields
from fundraising.entrypoints.http.dependencies import (
    AUTHENTICATED,
    SECURED,
    Injected,
    client_address,
)
from fundraising.entrypoints.http.openapi import body, problems
from fundraising.entrypoints.http.threads import in_thread


async def _fields(request: Request[Any, Any, Any], schema: type[Any]) -> Fields:
    """The fields of a small request; one that is not a string is a 400 at once (the use case
    says which are missing)."""
    fields = read_fields(await json_object(request), schema)
    if fields.errors:
        raise ValidationFailed(fields.errors)
    return fields


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post(
        "/users/",
        status_code=HTTP_201_CREATED,
        summary="Register a user",
        operation_class=body(schemas.UserRegistration),
        responses=problems(400, 409, 413, 415, 429),
    )
    async def register_user(
        self, request: Request[Any, Any, Any], register_user: Injected[RegisterUser]
    ) -> schemas.User:
        fields = read_fields(await json_object(request), schemas.UserRegistration)
        registration = Registration(
            username=fields.get("username", None),
            email=fields.get("email", None),
            password=fields.get("password", None),
            first_name=fields.get("first_name", ""),
            last_name=fields.get("last_name", ""),
            client_address=client_address(request),
            conversion_errors=fields.errors,
        )
        return schemas.user(await in_thread(register_user, registration))

    @post(
        "/jwt/create/",
        status_code=HTTP_200_OK,
        summary="Log in: an access and a refresh token",
        operation_class=body(schemas.Credentials),
        responses=problems(400, 401, 413, 415, 429),
    )
    async def create_tokens(
        self, request: Request[Any, Any, Any], log_in: Injected[LogIn]
    ) -> schemas.TokenPair:
        fields = await _fields(request, schemas.Credentials)
        credentials = Credentials(
            fields.get("username", None), fields.get("password", None), client_address(request)
        )
        pair = await in_thread(log_in, credentials)
        return schemas.TokenPair(pair.access, pair.refresh)

    @post(
        "/jwt/refresh/",
        status_code=HTTP_200_OK,
        summary="A new access token from a refresh token",
        operation_class=body(schemas.RefreshRequest),
        responses=problems(400, 401, 413, 415),
    )
    async def refresh_token(
        self, request: Request[Any, Any, Any], refresh_access: Injected[RefreshAccess]
    ) -> schemas.TokenPair:
        refresh = (await _fields(request, schemas.RefreshRequest)).get("refresh", None)
        pair = await in_thread(refresh_access, refresh)
        return schemas.TokenPair(pair.access, pair.refresh)

    @post(
        "/jwt/logout/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Log out: the refresh token's chain stops working",
        operation_class=body(schemas.RefreshRequest),
        responses=problems(400, 401, 413, 415),
    )
    async def log_out(self, request: Request[Any, Any, Any], log_out: Injected[LogOut]) -> None:
        refresh = (await _fields(request, schemas.RefreshRequest)).get("refresh", None)
        await in_thread(log_out, refresh)

    @post(
        "/jwt/verify/",
        status_code=HTTP_200_OK,
        summary="Check that a token is valid",
        operation_class=body(schemas.VerifyRequest),
        responses=problems(400, 401, 413, 415),
    )
    async def verify_token(
        self, request: Request[Any, Any, Any], verify_token: Injected[VerifyToken]
    ) -> schemas.Empty:
        token = (await _fields(request, schemas.VerifyRequest)).get("token", None)
        await in_thread(verify_token, token)
        return schemas.Empty()

    @get(
        "/users/me/",
        summary="The current user",
        security=SECURED,
        dependencies=AUTHENTICATED,
        responses=problems(401),
    )
    async def get_me(
        self, user_id: Injected[int], current_user: Injected[GetCurrentUser]
    ) -> schemas.User:
        return schemas.user(await in_thread(current_user, user_id))

    @patch(
        "/users/me/",
        summary="Change my names or e-mail (a new e-mail is to be verified again)",
        security=SECURED,
        dependencies=AUTHENTICATED,
        operation_class=body(schemas.ProfileChangeRequest),
        responses=problems(400, 401, 409, 413, 415),
    )
    async def update_me(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        update_profile: Injected[UpdateProfile],
    ) -> schemas.User:
        fields = await _fields(request, schemas.ProfileChangeRequest)
        change = ProfileChange(
            user_id,
            first_name=fields.get("first_name"),
            last_name=fields.get("last_name"),
            email=fields.get("email"),
        )
        return schemas.user(await in_thread(update_profile, change))

    @delete(
        "/users/me/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Leave: my personal data erased, my open collects closed",
        security=SECURED,
        dependencies=AUTHENTICATED,
        operation_class=body(schemas.AccountDeletionRequest),
        responses=problems(400, 401, 413, 415, 503),
    )
    async def delete_me(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        delete_account: Injected[DeleteAccount],
    ) -> None:
        fields = await _fields(request, schemas.AccountDeletionRequest)
        deletion = AccountDeletion(user_id, fields.get("current_password", None))
        await in_thread(delete_account, deletion)

    @post(
        "/users/activation/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Verify my e-mail address with the link's uid and token",
        operation_class=body(schemas.ActivationRequest),
        responses=problems(400, 413, 415),
    )
    async def activate_account(
        self, request: Request[Any, Any, Any], activate_account: Injected[ActivateAccount]
    ) -> None:
        fields = await _fields(request, schemas.ActivationRequest)
        activation = Activation(fields.get("uid", None), fields.get("token", None))
        await in_thread(activate_account, activation)

    @post(
        "/users/resend_activation/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Send the activation e-mail again (the answer never tells whether it exists)",
        operation_class=body(schemas.EmailRequest),
        responses=problems(400, 413, 415, 429),
    )
    async def resend_activation(
        self, request: Request[Any, Any, Any], resend_activation: Injected[SendAccountEmail]
    ) -> None:
        await in_thread(resend_activation, await _email_request(request))

    @post(
        "/users/reset_password/",
        status_code=HTTP_204_NO_CONTENT,
        summary="E-mail a password reset link (the answer never tells whether it exists)",
        operation_class=body(schemas.EmailRequest),
        responses=problems(400, 413, 415, 429),
    )
    async def reset_password(
        self, request: Request[Any, Any, Any], reset_password: Injected[SendAccountEmail]
    ) -> None:
        await in_thread(reset_password, await _email_request(request))

    @post(
        "/users/reset_password_confirm/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Set a new password with the reset link's uid and token",
        operation_class=body(schemas.PasswordResetConfirmRequest),
        responses=problems(400, 413, 415, 503),
    )
    async def reset_password_confirm(
        self,
        request: Request[Any, Any, Any],
        confirm_password_reset: Injected[ConfirmPasswordReset],
    ) -> None:
        fields = await _fields(request, schemas.PasswordResetConfirmRequest)
        reset = PasswordReset(
            fields.get("uid", None), fields.get("token", None), fields.get("new_password", None)
        )
        await in_thread(confirm_password_reset, reset)

    @post(
        "/users/set_password/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Change my password (every earlier token stops working)",
        security=SECURED,
        dependencies=AUTHENTICATED,
        operation_class=body(schemas.PasswordChangeRequest),
        responses=problems(400, 401, 413, 415, 503),
    )
    async def set_password(
        self,
        request: Request[Any, Any, Any],
        user_id: Injected[int],
        set_password: Injected[SetPassword],
    ) -> None:
        fields = await _fields(request, schemas.PasswordChangeRequest)
        change = PasswordChange(
            user_id, fields.get("current_password", None), fields.get("new_password", None)
        )
        await in_thread(set_password, change)


async def _email_request(request: Request[Any, Any, Any]) -> EmailRequest:
    email = (await _fields(request, schemas.EmailRequest)).get("email", None)
    return EmailRequest(email, client_address(request))
