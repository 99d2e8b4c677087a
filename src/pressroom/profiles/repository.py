"""Every SQL statement about follows."""

from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.models import utcnow
from pressroom.core.upserts import insert_ignoring_conflicts
from pressroom.profiles.models import Follow


class FollowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_following(self, follower_id: int, followee_id: int) -> bool:
        query = select(
            exists().where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
        )
        return bool(await self.session.scalar(query))

    async def follow(self, follower_id: int, followee_id: int) -> None:
        row = {"follower_id": follower_id, "followee_id": followee_id, "created_at": utcnow()}
        await insert_ignoring_conflicts(self.session, Follow.__table__, [row])  # type: ignore[arg-type]

    async def unfollow(self, follower_id: int, followee_id: int) -> None:
        await self.session.execute(
            delete(Follow).where(
                Follow.follower_id == follower_id, Follow.followee_id == followee_id
            )
        )
