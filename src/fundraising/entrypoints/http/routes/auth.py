"""/auth/: registration, JWT tokens, and the current user."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from fundraising.application.errors import ValidationFailed
from fundraising.application.use_cases.auth import (
    Credentials,
    GetCurrentUser,
    LogIn,
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


async def _token_request(request: Request[Any, Any, Any], schema: type[Any]) -> Fields:
    """The fields of a token request; one that is not a string is a 400 at once."""
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
    async def register(
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
        fields = await _token_request(request, schemas.Credentials)
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
    ) -> schemas.AccessToken:
        refresh = (await _token_request(request, schemas.RefreshRequest)).get("refresh", None)
        return schemas.AccessToken(await in_thread(refresh_access, refresh))

    @post(
        "/jwt/verify/",
        status_code=HTTP_200_OK,
        summary="Check that a token is valid",
        operation_class=body(schemas.VerifyRequest),
        responses=problems(400, 401, 413, 415),
    )
    async def verify(
        self, request: Request[Any, Any, Any], verify_token: Injected[VerifyToken]
    ) -> schemas.Empty:
        verify_token((await _token_request(request, schemas.VerifyRequest)).get("token", None))
        return schemas.Empty()

    @get(
        "/users/me/",
        summary="The current user",
        security=SECURED,
        dependencies=AUTHENTICATED,
        responses=problems(401),
    )
    async def me(
        self, user_id: Injected[int], current_user: Injected[GetCurrentUser]
    ) -> schemas.User:
        return schemas.user(await in_thread(current_user, user_id))
