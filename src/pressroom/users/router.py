"""Registration, login and the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pressroom.auth.dependencies import CurrentCaller, ProfileWriter, SessionServiceDep, client_of
from pressroom.auth.rate_limits import LoginThrottleDep, limit_registration
from pressroom.core.errors import InsufficientScope, error_responses
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
    responses=error_responses(401, 403, 422, 429),
)
async def login(
    request: Request,
    body: schemas.LoginUserRequest,
    service: LoginServiceDep,
    sessions: SessionServiceDep,
    throttle: LoginThrottleDep,
) -> Response:
    await throttle.before_check(request, body.user.email)
    user = await service.authenticate(body.user.email, body.user.password)
    await throttle.succeeded(body.user.email)
    token = await sessions.start_conduit(user, client_of(request))
    return _user(AccountView.of(user), token)


@router.post(
    "/users",
    summary="Register a new account",
    status_code=201,
    response_model=schemas.UserResponse,
    responses=error_responses(409, 422, 429),
    dependencies=[Depends(limit_registration)],
)
async def register(
    request: Request,
    body: schemas.NewUserRequest,
    service: UserServiceDep,
    sessions: SessionServiceDep,
) -> Response:
    user = await service.register(body.user)
    token = await sessions.start_conduit(user, client_of(request))
    return _user(AccountView.of(user), token, status_code=201)


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
    responses=error_responses(401, 403, 409, 422),
)
async def update_current_user(
    body: schemas.UpdateUserRequest,
    caller: ProfileWriter,
    service: UserServiceDep,
    sessions: SessionServiceDep,
) -> Response:
    """A new password ends every other session of the user. Changing the password or the
    email needs a session token: an API key cannot take over its owner's account."""
    sent = body.user.model_fields_set
    credentials_change = "password" in sent or "email" in sent
    if credentials_change and caller.session_id is None:
        raise InsufficientScope([], message="changing email or password needs a session token")
    user = await service.update(caller.id, body.user)
    if "password" in sent and body.user.password is not None:
        await sessions.end_all(caller.id, keep=caller.session_id)
    return _user(AccountView.of(user), caller.token)
