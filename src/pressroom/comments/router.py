"""Comments on an article."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from pressroom.articles.dependencies import SlugPath
from pressroom.auth.dependencies import OPTIONAL_AUTH, CommentWriter, OptionalCaller
from pressroom.auth.rate_limits import limit_comment_creation
from pressroom.comments import schemas
from pressroom.comments.service import CommentReadService, CommentService
from pressroom.core.db import ReaderDep, SessionDep
from pressroom.core.errors import error_responses
from pressroom.core.pagination import MAX_LIMIT, Offset
from pressroom.core.responses import json_response

router = APIRouter(prefix="/articles/{slug}/comments", tags=["comments"])

MAX_ID = 2**31 - 1


async def get_comment_service(session: SessionDep) -> CommentService:
    return CommentService(session)


async def get_comment_read_service(reader: ReaderDep) -> CommentReadService:
    return CommentReadService(reader)


CommentServiceDep = Annotated[CommentService, Depends(get_comment_service)]
CommentReadServiceDep = Annotated[CommentReadService, Depends(get_comment_read_service)]
CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The comment's id.")]


@router.post(
    "",
    summary="Comment on an article",
    status_code=201,
    response_model=schemas.SingleCommentResponse,
    responses=error_responses(401, 404, 422, 429),
    dependencies=[Depends(limit_comment_creation)],
)
async def create_comment(
    slug: SlugPath,
    body: schemas.NewCommentRequest,
    caller: CommentWriter,
    service: CommentServiceDep,
) -> Response:
    comment = await service.create(slug, caller.id, body.comment)
    return json_response({"comment": comment.to_json()}, status_code=201)


@router.get(
    "",
    summary="An article's comments, newest first",
    response_model=schemas.MultipleCommentsResponse,
    responses=error_responses(401, 404, 422),
    openapi_extra=OPTIONAL_AUTH,
)
async def get_comments(
    slug: SlugPath,
    caller: OptionalCaller,
    service: CommentReadServiceDep,
    limit: Annotated[
        int | None,
        Query(ge=1, le=MAX_LIMIT, description="Page size; all comments when absent."),
    ] = None,
    offset: Offset = 0,
) -> Response:
    comments = await service.list(slug, caller.id if caller else None, limit=limit, offset=offset)
    return json_response({"comments": [comment.to_json() for comment in comments]})


@router.delete(
    "/{comment_id}",
    summary="Delete a comment (comment author only)",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
)
async def delete_comment(
    slug: SlugPath, comment_id: CommentId, caller: CommentWriter, service: CommentServiceDep
) -> Response:
    await service.delete(slug, comment_id, caller.id)
    return Response(status_code=204)
