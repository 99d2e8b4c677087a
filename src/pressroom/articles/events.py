"""The article events written to the outbox (see core/outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.articles.views import ArticleJSON
from pressroom.core.outbox import record

CREATED = "article.created"
UPDATED = "article.updated"
DELETED = "article.deleted"
FAVORITED = "article.favorited"
UNFAVORITED = "article.unfavorited"


def public(view: ArticleJSON) -> dict[str, Any]:
    """The article as anyone sees it: no body, no per-viewer field (`favorited`, `following`)."""
    data = {key: value for key, value in view.items() if key not in ("body", "favorited")}
    data["author"] = {k: v for k, v in view["author"].items() if k != "following"}
    return data


async def article_written(
    session: AsyncSession,
    kind: str,
    article_id: int,
    view: ArticleJSON,
    *,
    previous_slug: str | None = None,
) -> None:
    """`article.created`, `article.updated` (with the slug it had) or `article.deleted`."""
    payload: dict[str, Any] = {"article_id": article_id, "article": public(view)}
    if kind == UPDATED:
        payload["previous_slug"] = previous_slug
    await record(session, kind, payload)


async def favorite_changed(
    session: AsyncSession, kind: str, article_id: int, view: ArticleJSON, user_id: int
) -> None:
    """`article.favorited` or `article.unfavorited` by `user_id` (only when it changed)."""
    payload = {
        "article_id": article_id,
        "slug": view["slug"],
        "user_id": user_id,
        "favoritesCount": view["favoritesCount"],
    }
    await record(session, kind, payload)
