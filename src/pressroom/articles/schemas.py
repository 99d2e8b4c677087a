"""Request and response models of the article endpoints (the API contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from pressroom.core.pagination import MAX_LIMIT, MAX_OFFSET
from pressroom.core.schemas import APIModel, max_bytes, reject_null
from pressroom.core.text import Line, Text
from pressroom.profiles.schemas import Profile

MAX_TAGS = 10
MAX_BODY_BYTES = 64 * 1024


def _tag_list(value: list[str] | None) -> list[str]:
    """Trimmed, blanks dropped, de-duplicated and sorted; at most MAX_TAGS remain."""
    tags = sorted({tag.strip() for tag in value or [] if tag.strip()})
    if len(tags) > MAX_TAGS:
        raise ValueError(f"must have at most {MAX_TAGS} tags")
    return tags


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("can't be blank")
    return value


Title = Annotated[
    Line, Field(min_length=1, max_length=256), AfterValidator(_not_blank), AfterValidator(str.strip)
]
Description = Annotated[Text, Field(min_length=1, max_length=1024), AfterValidator(_not_blank)]
Body = Annotated[
    Text,
    Field(min_length=1, max_length=MAX_BODY_BYTES, description="At most 64 KiB of UTF-8."),
    AfterValidator(_not_blank),
    AfterValidator(max_bytes(MAX_BODY_BYTES)),
]
TagName = Annotated[Line, Field(max_length=32)]
TagList = Annotated[
    list[TagName] | None,
    Field(
        max_length=50,
        description="At most 10 distinct tags of 1-32 characters; returned sorted, "
        "without duplicates; blank entries are dropped.",
    ),
    AfterValidator(_tag_list),
]


class NewArticle(APIModel):
    title: Title
    description: Description
    body: Body
    tag_list: TagList = None


class NewArticleRequest(APIModel):
    article: NewArticle


class UpdateArticle(APIModel):
    """Only the fields sent change; a changed title changes the slug."""

    title: Title | None = None
    description: Description | None = None
    body: Body | None = None
    tag_list: TagList = None

    _null_is_blank = field_validator("title", "description", "body", mode="before")(reject_null)


class UpdateArticleRequest(APIModel):
    article: UpdateArticle


class Article(APIModel):
    slug: str
    title: str
    description: str
    body: str
    tag_list: list[str]
    created_at: datetime
    updated_at: datetime
    favorited: bool
    favorites_count: int
    author: Profile


class ArticleListItem(APIModel):
    """An article in a list: everything but `body`."""

    slug: str
    title: str
    description: str
    tag_list: list[str]
    created_at: datetime
    updated_at: datetime
    favorited: bool
    favorites_count: int
    author: Profile


class SingleArticleResponse(APIModel):
    article: Article


class MultipleArticlesResponse(APIModel):
    articles: list[ArticleListItem]
    articles_count: int = Field(description="How many articles match the filters in total.")


class ListArticlesQuery(BaseModel):
    """The list's query parameters: validated as one model, not five separate parameters."""

    model_config = ConfigDict(extra="ignore")

    tag: Line | None = Field(None, max_length=32, description="Only articles with this tag.")
    author: Line | None = Field(None, max_length=64, description="Only this author's.")
    favorited: Line | None = Field(
        None, max_length=64, description="Only articles this user favorited."
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description=f"Page size, 1-{MAX_LIMIT}.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description=f"Items to skip, 0-{MAX_OFFSET}.")
