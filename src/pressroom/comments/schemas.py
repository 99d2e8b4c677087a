"""Request and response models of the comment endpoints (the API contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from pressroom.core.schemas import APIModel, max_bytes
from pressroom.core.text import Text
from pressroom.profiles.schemas import Profile

MAX_COMMENT_BYTES = 8 * 1024


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("can't be blank")
    return value


CommentBody = Annotated[
    Text,
    Field(min_length=1, max_length=MAX_COMMENT_BYTES, description="At most 8 KiB of UTF-8."),
    AfterValidator(_not_blank),
    AfterValidator(max_bytes(MAX_COMMENT_BYTES)),
]


class NewComment(APIModel):
    body: CommentBody


class NewCommentRequest(APIModel):
    comment: NewComment


class Comment(APIModel):
    id: int
    created_at: datetime
    updated_at: datetime
    body: str
    author: Profile


class SingleCommentResponse(APIModel):
    comment: Comment


class MultipleCommentsResponse(APIModel):
    comments: list[Comment]
