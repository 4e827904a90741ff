"""/auth/: registration, JWT tokens, and the current user."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from fundraising.application.errors import ValidationFailed
from fundraising.application.use_cases.auth import (
    Credentials as Login,
)
from fundraising.application.use_cases.auth import (
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
    client_address,
    use_case,
)
from fundraising.entrypoints.http.openapi import body, problems
from fundraising.entrypoints.http.threads import in_thread

TAGS = ["auth"]


@post(
    "/auth/users/",
    status_code=HTTP_201_CREATED,
    tags=TAGS,
    summary="Register a user",
    dependencies={"register_user": use_case("register_user")},
    operation_class=body(schemas.UserRegistration),
    responses=problems(400, 409, 413, 415, 429),
)
async def register(
    request: Request[Any, Any, Any], register_user: NamedDependency[RegisterUser]
) -> schemas.User:
    fields = read_fields(await json_object(request), schemas.UserRegistration)
    registration = Registration(
        username=fields.get("username", ""),
        email=fields.get("email", ""),
        password=fields.get("password", ""),
        first_name=fields.get("first_name", ""),
        last_name=fields.get("last_name", ""),
        client_address=client_address(request),
        rejected=fields.errors,
    )
    return schemas.user(await in_thread(register_user, registration))


async def _valid(request: Request[Any, Any, Any], schema: type[msgspec.Struct]) -> Fields:
    """The fields of a token request; a missing or non-string one is a 400."""
    fields = read_fields(await json_object(request), schema)
    if fields.errors:
        raise ValidationFailed(fields.errors)
    return fields


@post(
    "/auth/jwt/create/",
    status_code=HTTP_200_OK,
    tags=TAGS,
    summary="Log in: an access and a refresh token",
    dependencies={"log_in": use_case("log_in")},
    operation_class=body(schemas.Credentials),
    responses=problems(400, 401, 413, 415, 429),
)
async def create_tokens(
    request: Request[Any, Any, Any], log_in: NamedDependency[LogIn]
) -> schemas.TokenPair:
    fields = await _valid(request, schemas.Credentials)
    login = Login(fields.get("username"), fields.get("password"), client_address(request))
    pair = await in_thread(log_in, login)
    return schemas.TokenPair(pair.access, pair.refresh)


@post(
    "/auth/jwt/refresh/",
    status_code=HTTP_200_OK,
    tags=TAGS,
    summary="A new access token from a refresh token",
    dependencies={"refresh_access": use_case("refresh_access")},
    operation_class=body(schemas.RefreshRequest),
    responses=problems(400, 401, 413, 415),
)
async def refresh_token(
    request: Request[Any, Any, Any], refresh_access: NamedDependency[RefreshAccess]
) -> schemas.AccessToken:
    refresh = (await _valid(request, schemas.RefreshRequest)).get("refresh")
    return schemas.AccessToken(await in_thread(refresh_access, refresh))


@post(
    "/auth/jwt/verify/",
    status_code=HTTP_200_OK,
    tags=TAGS,
    summary="Check that a token is valid",
    dependencies={"verify_token": use_case("verify_token")},
    operation_class=body(schemas.VerifyRequest),
    responses=problems(400, 401, 413, 415),
)
async def verify(
    request: Request[Any, Any, Any], verify_token: NamedDependency[VerifyToken]
) -> schemas.Empty:
    verify_token((await _valid(request, schemas.VerifyRequest)).get("token"))
    return schemas.Empty()


@get(
    "/auth/users/me/",
    tags=TAGS,
    summary="The current user",
    security=SECURED,
    dependencies={**AUTHENTICATED, "current_user": use_case("current_user")},
    responses=problems(401),
)
async def me(
    user_id: NamedDependency[int], current_user: NamedDependency[GetCurrentUser]
) -> schemas.User:
    return schemas.user(await in_thread(current_user, user_id))


HANDLERS = [register, create_tokens, refresh_token, verify, me]
