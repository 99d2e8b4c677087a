"""Sessions: start one at login, refresh it, end it, list it."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.auth import scopes as scope_names
from pressroom.auth.errors import InvalidGrant, InvalidScope, SessionNotFound
from pressroom.auth.models import RefreshToken, Session
from pressroom.auth.repository import SessionRepository
from pressroom.auth.tokens import Tokens
from pressroom.core.models import utcnow
from pressroom.core.settings import AuthSettings
from pressroom.users.models import User
from pressroom.users.repository import UserRepository

CONDUIT = "conduit"
OAUTH = "oauth"


@dataclass(frozen=True, slots=True)
class Client:
    """Where a login came from, as shown in the sessions list."""

    user_agent: str | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    """What a successful OAuth2 token request answers."""

    access_token: str
    expires_in: int
    refresh_token: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Reused:
    """A refresh token presented twice: its session is now revoked."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionService:
    def __init__(self, session: AsyncSession, tokens: Tokens, settings: AuthSettings) -> None:
        self.sessions = SessionRepository(session)
        self.users = UserRepository(session)
        self.tokens = tokens
        self.settings = settings

    async def start_conduit(self, user: User, client: Client) -> str:
        """A session for a Conduit login; its one token lives as long as the session."""
        now = utcnow()
        expires = now + timedelta(seconds=self.settings.token_lifetime_seconds)
        granted = scope_names.for_role(user.role)
        row = await self._open(user, CONDUIT, granted, client, now, expires)
        return self.tokens.issue(user.id, row.id, granted, now, expires)

    async def start_oauth(self, user: User, requested: str | None, client: Client) -> Grant:
        allowed = scope_names.for_role(user.role)
        wanted = scope_names.parse(requested)
        if not wanted <= allowed:
            raise InvalidScope(sorted(wanted - allowed))
        granted = wanted or allowed
        now = utcnow()
        expires = now + timedelta(seconds=self.settings.refresh_token_lifetime_seconds)
        row = await self._open(user, OAUTH, granted, client, now, expires)
        return await self._grant(user.id, row, granted, now)

    async def refresh(self, refresh_token: str) -> Grant | Reused:
        """A new access and refresh token for a refresh token that was never used before.

        A used one is evidence that it leaked (or that two clients raced): the whole session
        is revoked. The caller commits either way, so the revocation sticks.
        """
        token_hash = _hash(refresh_token)
        stored = await self.sessions.refresh_token(token_hash)
        if stored is None:
            raise InvalidGrant()
        now = utcnow()
        if stored.used_at is not None or not await self.sessions.use_refresh_token(token_hash, now):
            await self.sessions.revoke(stored.session_id, now)
            return Reused()
        row = await self.sessions.get(stored.session_id)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise InvalidGrant()
        if stored.expires_at <= now:
            raise InvalidGrant()
        user = await self.users.get(row.user_id)
        if user is None or user.suspended_at is not None or user.deleted_at is not None:
            raise InvalidGrant()
        granted = scope_names.parse(row.scopes) & scope_names.for_role(user.role)
        row.last_seen_at = now
        return await self._grant(user.id, row, granted, now)

    async def end(self, session_id: str) -> None:
        await self.sessions.revoke(session_id, utcnow())

    async def end_all(self, user_id: int, *, keep: str | None = None) -> int:
        return await self.sessions.revoke_all(user_id, utcnow(), keep=keep)

    async def live(self, user_id: int) -> Sequence[Session]:
        return await self.sessions.live(user_id, utcnow())

    async def end_owned(self, user_id: int, session_id: str) -> None:
        """Revoke one of the caller's own sessions; another user's is a 404, like no session."""
        row = await self.sessions.get(session_id)
        if row is None or row.user_id != user_id or row.revoked_at is not None:
            raise SessionNotFound()
        await self.sessions.revoke(session_id, utcnow())

    async def _open(
        self,
        user: User,
        kind: str,
        granted: frozenset[str],
        client: Client,
        now: datetime,
        expires: datetime,
    ) -> Session:
        row = Session(
            id=secrets.token_urlsafe(16),
            user_id=user.id,
            kind=kind,
            scopes=scope_names.render(granted),
            user_agent=(client.user_agent or None) and client.user_agent[:512],
            ip=client.ip,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
        )
        await self.sessions.add(row)
        return row

    async def _grant(
        self, user_id: int, row: Session, granted: frozenset[str], now: datetime
    ) -> Grant:
        lifetime = self.settings.access_token_lifetime_seconds
        # An access token never outlives its session.
        access_expires = min(now + timedelta(seconds=lifetime), row.expires_at)
        refresh_token = secrets.token_urlsafe(32)
        await self.sessions.add(
            RefreshToken(
                token_hash=_hash(refresh_token),
                session_id=row.id,
                created_at=now,
                expires_at=row.expires_at,
            )
        )
        return Grant(
            access_token=self.tokens.issue(user_id, row.id, granted, now, access_expires),
            expires_in=max(int((access_expires - now).total_seconds()), 0),
            refresh_token=refresh_token,
            scopes=granted,
        )
