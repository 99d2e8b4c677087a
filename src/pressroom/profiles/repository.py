"""Every SQL statement about profiles and follows."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, Select, bindparam, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.models import utcnow
from pressroom.core.reads import Reader
from pressroom.core.upserts import insert_ignoring_conflicts
from pressroom.profiles.models import Follow
from pressroom.profiles.views import ProfileView
from pressroom.users.models import User


@cache
def _profile() -> Select[str, str | None, str | None, bool]:
    viewer = bindparam("viewer_id", type_=Integer)
    following = exists().where(Follow.follower_id == viewer, Follow.followee_id == User.id)
    return select(User.username, User.bio, User.image, following.label("following")).where(
        func.lower(User.username) == bindparam("username"), User.deleted_at.is_(None)
    )


class ProfileReads:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def view(self, username: str, viewer_id: int | None) -> ProfileView | None:
        """The profile of `username` (any case) as `viewer_id` sees it: one statement."""
        params = {"username": username.lower(), "viewer_id": viewer_id}
        row = await self.reader.first(_profile(), params)
        if row is None:
            return None
        return ProfileView(row["username"], row["bio"], row["image"], bool(row["following"]))


class FollowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def follow(self, follower_id: int, followee_id: int) -> bool:
        """True if the follow is new."""
        row = {"follower_id": follower_id, "followee_id": followee_id, "created_at": utcnow()}
        added = await insert_ignoring_conflicts(self.session, Follow.__table__, [row])  # type: ignore[arg-type]
        return bool(added)

    async def unfollow(self, follower_id: int, followee_id: int) -> bool:
        """True if there was a follow to end."""
        result = await self.session.execute(
            delete(Follow).where(
                Follow.follower_id == follower_id, Follow.followee_id == followee_id
            )
        )
        return bool(getattr(result, "rowcount", 0))
