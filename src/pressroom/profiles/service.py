"""Looking up, following and unfollowing profiles."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.reads import Reader
from pressroom.profiles import events
from pressroom.profiles.errors import CannotFollowSelf, ProfileNotFound
from pressroom.profiles.repository import FollowRepository, ProfileReads
from pressroom.profiles.views import ProfileView
from pressroom.users.models import User
from pressroom.users.repository import UserRepository


class ProfileReadService:
    """Reading profiles: no session, no transaction."""

    def __init__(self, reader: Reader) -> None:
        self.profiles = ProfileReads(reader)

    async def get(self, username: str, viewer_id: int | None) -> ProfileView:
        """A profile as `viewer_id` sees it."""
        view = await self.profiles.view(username, viewer_id)
        if view is None:
            raise ProfileNotFound()
        return view


class ProfileService:
    """Following and unfollowing: one transaction, the request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.follows = FollowRepository(session)

    async def follow(self, username: str, follower_id: int) -> ProfileView:
        """Follow a profile; following twice is not an error."""
        user = await self._user(username)
        if user.id == follower_id:
            raise CannotFollowSelf()
        if await self.follows.follow(follower_id, user.id):
            await events.follow_changed(
                self.session, events.FOLLOWED, follower_id, user.id, user.username
            )
        return _view(user, following=True)

    async def unfollow(self, username: str, follower_id: int) -> ProfileView:
        """Stop following a profile; unfollowing one not followed is not an error."""
        user = await self._user(username)
        if await self.follows.unfollow(follower_id, user.id):
            await events.follow_changed(
                self.session, events.UNFOLLOWED, follower_id, user.id, user.username
            )
        return _view(user, following=False)

    async def _user(self, username: str) -> User:
        user = await self.users.get_by_username(username)
        if user is None or user.deleted_at is not None:
            raise ProfileNotFound()
        return user


def _view(user: User, *, following: bool) -> ProfileView:
    return ProfileView(username=user.username, bio=user.bio, image=user.image, following=following)
