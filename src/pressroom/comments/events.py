"""The comment events written to the outbox (see core/outbox)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.comments.views import CommentView
from pressroom.core.outbox import record

CREATED = "comment.created"
DELETED = "comment.deleted"


async def comment_created(
    session: AsyncSession, article_id: int, slug: str, view: CommentView
) -> None:
    comment = view.to_json()
    comment["author"].pop("following", None)  # per-viewer: never in an event
    payload = {"comment_id": view.id, "article_id": article_id, "slug": slug, "comment": comment}
    await record(session, CREATED, payload)


async def comment_deleted(
    session: AsyncSession, comment_id: int, article_id: int, slug: str, author: str
) -> None:
    payload = {"comment_id": comment_id, "article_id": article_id, "slug": slug, "author": author}
    await record(session, DELETED, payload)
