"""Every SQL statement about sessions and refresh tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import CursorResult, Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.auth.models import RefreshToken, Session
from pressroom.core.reads import Reader, Record
from pressroom.users.models import User
from pressroom.users.repository import ACCOUNT_COLUMNS


@cache
def _caller() -> Select[*tuple[Any, ...]]:
    """The account behind a live session of an active user, in one statement."""
    return (
        select(
            *ACCOUNT_COLUMNS,
            Session.last_seen_at,
        )
        .join(Session, Session.user_id == User.id)
        .where(
            Session.id == bindparam("session_id"),
            User.id == bindparam("user_id"),
            Session.revoked_at.is_(None),
            Session.expires_at > bindparam("now"),
            User.suspended_at.is_(None),
            User.deleted_at.is_(None),
        )
    )


class SessionReads:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def caller(self, session_id: str, user_id: int, now: datetime) -> Record | None:
        params = {"session_id": session_id, "user_id": user_id, "now": now}
        return await self.reader.first(_caller(), params)


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: Session | RefreshToken) -> None:
        self.session.add(row)
        await self.session.flush()

    async def get(self, session_id: str) -> Session | None:
        return await self.session.get(Session, session_id)

    async def live(self, user_id: int, now: datetime) -> Sequence[Session]:
        """The user's sessions that still work, most recently used first."""
        result = await self.session.scalars(
            select(Session)
            .where(
                Session.user_id == user_id,
                Session.revoked_at.is_(None),
                Session.expires_at > now,
            )
            .order_by(Session.last_seen_at.desc(), Session.id)
        )
        return result.all()

    async def revoke(self, session_id: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(Session)
            .where(Session.id == session_id, Session.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return _rowcount(result) > 0

    async def revoke_all(self, user_id: int, now: datetime, *, keep: str | None = None) -> int:
        """Revoke every live session of the user, except `keep`; how many were revoked."""
        statement = update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
        if keep is not None:
            statement = statement.where(Session.id != keep)
        return _rowcount(await self.session.execute(statement.values(revoked_at=now)))

    async def touch(self, session_id: str, now: datetime) -> None:
        await self.session.execute(
            update(Session).where(Session.id == session_id).values(last_seen_at=now)
        )

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        return await self.session.get(RefreshToken, token_hash)

    async def use_refresh_token(self, token_hash: str, now: datetime) -> bool:
        """Mark the token used; False if it already was (only one concurrent caller wins)."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token_hash, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        return _rowcount(result) == 1


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
