"""Every SQL statement about comments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, false, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.comments.models import Comment
from pressroom.comments.views import CommentView
from pressroom.profiles.models import Follow
from pressroom.profiles.views import ProfileView
from pressroom.users.models import User


class CommentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, values: dict[str, Any]) -> int:
        result = await self.session.execute(insert(Comment).values(values).returning(Comment.id))
        return result.scalar_one()

    async def author_of(self, comment_id: int, article_id: int) -> int | None:
        return await self.session.scalar(
            select(Comment.author_id).where(
                Comment.id == comment_id, Comment.article_id == article_id
            )
        )

    async def delete(self, comment_id: int) -> None:
        await self.session.execute(delete(Comment).where(Comment.id == comment_id))

    async def view(self, comment_id: int, viewer_id: int | None) -> CommentView | None:
        query = _comment_select(viewer_id).where(Comment.id == comment_id)
        row = (await self.session.execute(query)).first()
        return None if row is None else _view(row)

    async def for_article(
        self, article_id: int, viewer_id: int | None, *, limit: int | None, offset: int
    ) -> list[CommentView]:
        """Newest first, in one statement."""
        query = (
            _comment_select(viewer_id)
            .where(Comment.article_id == article_id)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_view(row) for row in await self.session.execute(query)]


def _comment_select(viewer_id: int | None) -> Any:
    following: Any = false()
    if viewer_id is not None:
        following = exists().where(
            Follow.follower_id == viewer_id, Follow.followee_id == Comment.author_id
        )
    return select(
        Comment.id,
        Comment.body,
        Comment.created_at,
        Comment.updated_at,
        User.username,
        User.bio,
        User.image,
        following.label("following"),
    ).join(User, User.id == Comment.author_id)


def _view(row: Row[Any]) -> CommentView:
    return CommentView(
        id=row.id,
        body=row.body,
        created_at=row.created_at,
        updated_at=row.updated_at,
        author=ProfileView(
            username=row.username, bio=row.bio, image=row.image, following=bool(row.following)
        ),
    )
