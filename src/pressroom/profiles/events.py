"""The follow events written to the outbox (see core/outbox)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.outbox import record

FOLLOWED = "profile.followed"
UNFOLLOWED = "profile.unfollowed"


async def follow_changed(
    session: AsyncSession, kind: str, follower_id: int, followee_id: int, username: str
) -> None:
    """`profile.followed` or `profile.unfollowed` (only when it changed)."""
    payload = {"follower_id": follower_id, "followee_id": followee_id, "username": username}
    await record(session, kind, payload)
