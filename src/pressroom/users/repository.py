"""Every SQL statement about users."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.users.models import User

# What a caller's account needs: every credential lookup selects these, plus its own.
ACCOUNT_COLUMNS = (User.id, User.username, User.email, User.bio, User.image, User.role)


@cache
def verification_state() -> Select[*tuple[Any, ...]]:
    """The account's email and when it was verified (for a `Reader`)."""
    return select(User.email, User.email_verified_at).where(User.id == bindparam("user_id"))


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        result = await self.session.scalars(
            select(User).where(func.lower(User.email) == email.lower())
        )
        return result.first()

    async def get_by_username(self, username: str) -> User | None:
        result = await self.session.scalars(
            select(User).where(func.lower(User.username) == username.lower())
        )
        return result.first()

    async def taken(
        self, *, username: str | None, email: str | None, exclude_id: int | None = None
    ) -> set[str]:
        """Which of `username` / `email` another account already uses (case-insensitive)."""
        conditions = []
        if username is not None:
            conditions.append(func.lower(User.username) == username.lower())
        if email is not None:
            conditions.append(func.lower(User.email) == email.lower())
        if not conditions:
            return set()
        query = select(User.username, User.email).where(or_(*conditions))
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        taken: set[str] = set()
        for row in await self.session.execute(query):
            if username is not None and row.username.lower() == username.lower():
                taken.add("username")
            if email is not None and row.email.lower() == email.lower():
                taken.add("email")
        return taken

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user
