"""Every SQL statement about comments."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, delete, exists, false, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.comments.models import Comment
from pressroom.comments.views import CommentView
from pressroom.core.reads import Reader, Record, SessionReader
from pressroom.profiles.models import Follow
from pressroom.profiles.views import ProfileView
from pressroom.users.models import User


class CommentReads:
    """Comments as a caller sees them: prebuilt statements, through any reader."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def view(self, comment_id: int, viewer_id: int | None) -> CommentView | None:
        params = {"key": comment_id, "viewer_id": viewer_id}
        row = await self.reader.first(_by_id(viewer_id is not None), params)
        return None if row is None else _view(row)

    async def for_article(
        self, article_id: int, viewer_id: int | None, *, limit: int | None, offset: int
    ) -> list[CommentView]:
        """Newest first, in one statement."""
        statement = _for_article(viewer_id is not None, paged=limit is not None)
        params = {"key": article_id, "viewer_id": viewer_id, "limit": limit, "offset": offset}
        return [_view(row) for row in await self.reader.all(statement, params)]


class CommentRepository:
    """Writing comments, inside the request's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.reads = CommentReads(SessionReader(session))

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


_VIEWER = bindparam("viewer_id", type_=Integer)


@cache
def _by_id(personal: bool) -> Select[Any]:
    return _comment_select(personal).where(Comment.id == bindparam("key"))


@cache
def _for_article(personal: bool, *, paged: bool) -> Select[Any]:
    query = (
        _comment_select(personal)
        .where(Comment.article_id == bindparam("key"))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .offset(bindparam("offset"))
    )
    return query.limit(bindparam("limit")) if paged else query


def _comment_select(personal: bool) -> Select[Any]:
    following: Any = false()
    if personal:
        following = exists().where(
            Follow.follower_id == _VIEWER, Follow.followee_id == Comment.author_id
        )
    return (
        select(
            Comment.id,
            Comment.body,
            Comment.created_at,
            Comment.updated_at,
            User.username,
            User.bio,
            User.image,
            following.label("following"),
        )
        .join(User, User.id == Comment.author_id)
        .where(User.deleted_at.is_(None))
    )


def _view(row: Record) -> CommentView:
    return CommentView(
        id=row["id"],
        body=row["body"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        author=ProfileView(
            username=row["username"],
            bio=row["bio"],
            image=row["image"],
            following=bool(row["following"]),
        ),
    )
