"""Popular tags."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pressroom.core.db import ReaderDep
from pressroom.core.responses import json_response
from pressroom.tags import schemas
from pressroom.tags.service import POPULAR_TAGS, TagReadService

router = APIRouter(tags=["tags"])


@router.get(
    "/tags",
    summary=f"The {POPULAR_TAGS} most used tags, most used first",
    response_model=schemas.TagsResponse,
)
async def get_tags(reader: ReaderDep) -> Response:
    return json_response({"tags": await TagReadService(reader).popular()})
