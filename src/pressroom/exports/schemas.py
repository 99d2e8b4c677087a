"""The export lines (the API contract): one JSON object per line, told apart by `type`.

Documentation and tests validate against these; the lines themselves are rendered by
`views` straight from rows. Unknown fields are refused here, so a test catches any field
(a password hash, a token) that should never leave the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, RootModel

from pressroom.core.schemas import APIModel


class Line(APIModel):
    model_config = ConfigDict(extra="forbid")


class HeaderLine(Line):
    """Always the first line."""

    type: Literal["export"]
    kind: Literal["user", "articles"]
    format: int = Field(description="1; raised only by an incompatible change to a line.")
    exported_at: datetime


class ProfileLine(Line):
    type: Literal["profile"]
    username: str
    email: str
    bio: str | None
    image: str | None
    created_at: datetime
    updated_at: datetime


class ExportAuthor(Line):
    username: str
    deleted: bool = Field(description="The author's account is soft-deleted.")


class ArticleLine(Line):
    type: Literal["article"]
    slug: str
    title: str
    description: str
    body: str
    tag_list: list[str]
    favorites_count: int
    created_at: datetime
    updated_at: datetime
    author: ExportAuthor | None = Field(
        default=None, description="In the admin export only (the user export is all theirs)."
    )


class CommentLine(Line):
    type: Literal["comment"]
    id: int
    article: str = Field(description="The slug of the article commented on.")
    body: str
    created_at: datetime
    updated_at: datetime


class FollowLine(Line):
    type: Literal["follow"]
    username: str = Field(description="The user followed.")
    created_at: datetime


class FavoriteLine(Line):
    type: Literal["favorite"]
    article: str = Field(description="The slug of the favorited article.")
    title: str
    author: str = Field(description="The article's author's username.")
    created_at: datetime


class EndLine(Line):
    """Always the last line. Without it, the connection broke before the export finished."""

    type: Literal["end"]
    complete: bool = Field(description="False when the export was cut short (see `reason`).")
    lines: int = Field(description="Data lines sent, without the first and the last.")
    reason: str | None = Field(default=None, description="Why an incomplete export ended.")


class UserExportLine(
    RootModel[
        Annotated[
            HeaderLine
            | ProfileLine
            | ArticleLine
            | CommentLine
            | FollowLine
            | FavoriteLine
            | EndLine,
            Field(discriminator="type"),
        ]
    ]
):
    """One line of `GET /api/user/export`."""


class ArticlesExportLine(
    RootModel[Annotated[HeaderLine | ArticleLine | EndLine, Field(discriminator="type")]]
):
    """One line of `GET /api/admin/exports/articles`."""
