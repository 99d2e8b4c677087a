from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from pressroom.apikeys.service import ApiKeyService
from pressroom.core.db import SessionDep

MAX_ID = 2**31 - 1


async def get_api_key_service(session: SessionDep) -> ApiKeyService:
    return ApiKeyService(session)


ApiKeyServiceDep = Annotated[ApiKeyService, Depends(get_api_key_service)]
ApiKeyId = Annotated[int, Path(ge=1, le=MAX_ID, description="The key's id.")]
