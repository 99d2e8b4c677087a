"""Articles as the API shows them, rendered straight from result rows.

A list renders up to 100 rows per request, so each row becomes the JSON-ready `article`
object in one step, without intermediate objects. The shapes are the contract in
`schemas.Article` (with `body`) and `schemas.ArticleListItem` (without).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pressroom.core.models import isoformat
from pressroom.core.reads import Record
from pressroom.tags.queries import parse_tag_names

ArticleJSON = dict[str, Any]


def article_json(row: Record, *, with_body: bool) -> ArticleJSON:
    """A row of `queries.article` or `queries.page` as the viewer sees the article."""
    data: ArticleJSON = {
        "slug": row["slug"],
        "title": row["title"],
        "description": row["description"],
    }
    if with_body:
        data["body"] = row["body"]
    data["tagList"] = parse_tag_names(row["tags"])
    data["createdAt"] = isoformat(row["created_at"])
    data["updatedAt"] = isoformat(row["updated_at"])
    data["favorited"] = bool(row["favorited"])
    data["favoritesCount"] = row["favorites_count"]
    data["author"] = {
        "username": row["username"],
        "bio": row["bio"],
        "image": row["image"],
        "following": bool(row["following"]),
    }
    return data


@dataclass(frozen=True, slots=True)
class ArticlePage:
    articles: list[ArticleJSON]
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"articles": self.articles, "articlesCount": self.count}
