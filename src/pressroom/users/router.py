"""Registration, login and the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pressroom.auth.dependencies import CurrentCaller, TokensDep
from pressroom.auth.rate_limits import LoginThrottleDep, limit_registration
from pressroom.core.errors import error_responses
from pressroom.core.responses import json_response
from pressroom.users import schemas
from pressroom.users.dependencies import LoginServiceDep, UserServiceDep
from pressroom.users.views import AccountView

router = APIRouter(tags=["users"])


def _user(account: AccountView, token: str, status_code: int = 200) -> Response:
    return json_response({"user": account.to_json(token)}, status_code=status_code)


@router.post(
    "/users/login",
    summary="Log in with email and password",
    response_model=schemas.UserResponse,
    responses=error_responses(401, 422, 429),
)
async def login(
    request: Request,
    body: schemas.LoginUserRequest,
    service: LoginServiceDep,
    tokens: TokensDep,
    throttle: LoginThrottleDep,
) -> Response:
    await throttle.before_check(request, body.user.email)
    user = await service.authenticate(body.user.email, body.user.password)
    await throttle.succeeded(body.user.email)
    return _user(AccountView.of(user), tokens.issue(user.id))


@router.post(
    "/users",
    summary="Register a new account",
    status_code=201,
    response_model=schemas.UserResponse,
    responses=error_responses(409, 422, 429),
    dependencies=[Depends(limit_registration)],
)
async def register(
    body: schemas.NewUserRequest, service: UserServiceDep, tokens: TokensDep
) -> Response:
    user = await service.register(body.user)
    return _user(AccountView.of(user), tokens.issue(user.id), status_code=201)


@router.get(
    "/user",
    summary="The current user",
    response_model=schemas.UserResponse,
    responses=error_responses(401),
)
async def get_current_user(caller: CurrentCaller) -> Response:
    return _user(caller.account, caller.token)


@router.put(
    "/user",
    summary="Update the current user (only the fields sent change)",
    response_model=schemas.UserResponse,
    responses=error_responses(401, 409, 422),
)
async def update_current_user(
    body: schemas.UpdateUserRequest, caller: CurrentCaller, service: UserServiceDep
) -> Response:
    user = await service.update(caller.id, body.user)
    return _user(AccountView.of(user), caller.token)
