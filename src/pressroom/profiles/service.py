"""Looking up, following and unfollowing profiles."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.profiles.errors import CannotFollowSelf, ProfileNotFound
from pressroom.profiles.repository import FollowRepository
from pressroom.profiles.views import ProfileView
from pressroom.users.models import User
from pressroom.users.repository import UserRepository


class ProfileService:
    def __init__(self, session: AsyncSession) -> None:
        self.users = UserRepository(session)
        self.follows = FollowRepository(session)

    async def get(self, username: str, viewer_id: int | None) -> ProfileView:
        """A profile as `viewer_id` sees it."""
        user = await self._user(username)
        following = False
        if viewer_id is not None and viewer_id != user.id:
            following = await self.follows.is_following(viewer_id, user.id)
        return _view(user, following=following)

    async def follow(self, username: str, follower_id: int) -> ProfileView:
        """Follow a profile; following twice is not an error."""
        user = await self._user(username)
        if user.id == follower_id:
            raise CannotFollowSelf()
        await self.follows.follow(follower_id, user.id)
        return _view(user, following=True)

    async def unfollow(self, username: str, follower_id: int) -> ProfileView:
        """Stop following a profile; unfollowing one not followed is not an error."""
        user = await self._user(username)
        await self.follows.unfollow(follower_id, user.id)
        return _view(user, following=False)

    async def _user(self, username: str) -> User:
        user = await self.users.get_by_username(username)
        if user is None:
            raise ProfileNotFound()
        return user


def _view(user: User, *, following: bool) -> ProfileView:
    return ProfileView(username=user.username, bio=user.bio, image=user.image, following=following)
