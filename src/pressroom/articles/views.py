"""Read models of articles as a given caller sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pressroom.core.models import isoformat
from pressroom.profiles.views import ProfileView


@dataclass(slots=True)
class ArticleView:
    id: int
    slug: str
    title: str
    description: str
    body: str | None
    created_at: datetime
    updated_at: datetime
    favorites_count: int
    favorited: bool
    author: ProfileView
    tags: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
        }
        if self.body is not None:
            data["body"] = self.body
        data["tagList"] = self.tags
        data["createdAt"] = isoformat(self.created_at)
        data["updatedAt"] = isoformat(self.updated_at)
        data["favorited"] = self.favorited
        data["favoritesCount"] = self.favorites_count
        data["author"] = self.author.to_json()
        return data


@dataclass(frozen=True, slots=True)
class ArticlePage:
    articles: list[ArticleView]
    count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": [article.to_json() for article in self.articles],
            "articlesCount": self.count,
        }
