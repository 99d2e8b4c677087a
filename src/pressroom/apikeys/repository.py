"""Every SQL statement about API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import CursorResult, Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.apikeys.models import ApiKey
from pressroom.core.reads import Reader, Record
from pressroom.users.models import User
from pressroom.users.repository import ACCOUNT_COLUMNS


@cache
def _caller() -> Select[*tuple[Any, ...]]:
    """A live key of an active user, with the account, found by its public prefix."""
    return (
        select(
            *ACCOUNT_COLUMNS,
            ApiKey.id.label("key_id"),
            ApiKey.secret_hash,
            ApiKey.scopes,
            ApiKey.last_used_at,
        )
        .join(ApiKey, ApiKey.user_id == User.id)
        .where(
            ApiKey.prefix == bindparam("prefix"),
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > bindparam("now")),
            User.suspended_at.is_(None),
            User.deleted_at.is_(None),
        )
    )


class ApiKeyReads:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def caller(self, prefix: str, now: datetime) -> Record | None:
        return await self.reader.first(_caller(), {"prefix": prefix, "now": now})


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def owned(self, user_id: int) -> Sequence[ApiKey]:
        result = await self.session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id)
        )
        return result.all()

    async def get_owned(self, user_id: int, key_id: int) -> ApiKey | None:
        result = await self.session.scalars(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
        )
        return result.first()

    async def touch(self, key_id: int, now: datetime) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
        )

    async def revoke_all(self, user_id: int, now: datetime) -> int:
        result = await self.session.execute(
            update(ApiKey)
            .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        assert isinstance(result, CursorResult)
        return int(result.rowcount)

    async def count_live(self, user_id: int, now: datetime) -> int:
        """Keys that still work: neither revoked nor expired."""
        result = await self.session.scalar(
            select(func.count())
            .select_from(ApiKey)
            .where(
                ApiKey.user_id == user_id,
                ApiKey.revoked_at.is_(None),
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
            )
        )
        return int(result or 0)

    async def lock_owner(self, user_id: int) -> None:
        """Serialize key creation per user, so that two requests cannot both pass the cap.

        Postgres locks the user's row until the transaction ends; SQLite writers already hold
        the database's write lock (BEGIN IMMEDIATE), and it ignores FOR UPDATE.
        """
        await self.session.execute(select(User.id).where(User.id == user_id).with_for_update())
