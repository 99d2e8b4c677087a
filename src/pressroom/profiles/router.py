"""Public profiles and following."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from pressroom.auth.dependencies import OPTIONAL_AUTH, OptionalCaller, ProfileWriter
from pressroom.core.db import ReaderDep, SessionDep
from pressroom.core.errors import error_responses
from pressroom.core.responses import json_response
from pressroom.core.text import Line
from pressroom.profiles import schemas
from pressroom.profiles.service import ProfileReadService, ProfileService
from pressroom.profiles.views import ProfileView

router = APIRouter(prefix="/profiles", tags=["profiles"])


async def get_profile_service(session: SessionDep) -> ProfileService:
    return ProfileService(session)


async def get_profile_read_service(reader: ReaderDep) -> ProfileReadService:
    return ProfileReadService(reader)


ProfileServiceDep = Annotated[ProfileService, Depends(get_profile_service)]
ProfileReadServiceDep = Annotated[ProfileReadService, Depends(get_profile_read_service)]
UsernamePath = Annotated[Line, Path(max_length=64, description="Case-insensitive username.")]


def _profile(view: ProfileView) -> Response:
    return json_response({"profile": view.to_json()})


@router.get(
    "/{username}",
    summary="Get a profile",
    response_model=schemas.ProfileResponse,
    responses=error_responses(401, 404, 422),
    openapi_extra=OPTIONAL_AUTH,
)
async def get_profile(
    username: UsernamePath, caller: OptionalCaller, service: ProfileReadServiceDep
) -> Response:
    return _profile(await service.get(username, caller.id if caller else None))


@router.post(
    "/{username}/follow",
    summary="Follow a user (idempotent)",
    response_model=schemas.ProfileResponse,
    responses=error_responses(401, 404, 422),
)
async def follow_user(
    username: UsernamePath, caller: ProfileWriter, service: ProfileServiceDep
) -> Response:
    return _profile(await service.follow(username, caller.id))


@router.delete(
    "/{username}/follow",
    summary="Unfollow a user (idempotent)",
    response_model=schemas.ProfileResponse,
    responses=error_responses(401, 404, 422),
)
async def unfollow_user(
    username: UsernamePath, caller: ProfileWriter, service: ProfileServiceDep
) -> Response:
    return _profile(await service.unfollow(username, caller.id))
