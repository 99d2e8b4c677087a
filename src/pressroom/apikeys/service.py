"""API keys: make one (shown once), list them, revoke one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.apikeys import secrets
from pressroom.apikeys.errors import ApiKeyNotFound, ScopeNotAllowed, TooManyApiKeys
from pressroom.apikeys.models import ApiKey
from pressroom.apikeys.repository import ApiKeyRepository
from pressroom.auth import scopes as scope_names
from pressroom.core.models import utcnow

MAX_LIVE_KEYS = 20


@dataclass(frozen=True, slots=True)
class CreatedKey:
    row: ApiKey
    plaintext: str  # for the 201 answer only: never stored, never logged


class ApiKeyService:
    def __init__(self, session: AsyncSession) -> None:
        self.keys = ApiKeyRepository(session)

    async def create(
        self,
        user_id: int,
        role: str,
        *,
        name: str,
        scopes: Sequence[str] | None,
        expires_at: datetime | None,
    ) -> CreatedKey:
        """A new key for the user, bounded by what their role may hold."""
        allowed = scope_names.for_role(role)
        wanted = allowed if scopes is None else frozenset(scopes)
        if not wanted <= allowed:
            raise ScopeNotAllowed(sorted(wanted - allowed))
        now = utcnow()
        await self.keys.lock_owner(user_id)
        if await self.keys.count_live(user_id, now) >= MAX_LIVE_KEYS:
            raise TooManyApiKeys(MAX_LIVE_KEYS)
        # 48 random bits of prefix: a clash (a unique violation, so a 500) is not a real risk.
        new = secrets.generate()
        row = await self.keys.add(
            ApiKey(
                user_id=user_id,
                name=name,
                prefix=new.prefix,
                secret_hash=new.secret_hash,
                scopes=scope_names.render(wanted),
                created_at=now,
                expires_at=expires_at,
            )
        )
        return CreatedKey(row, new.plaintext)

    async def list(self, user_id: int) -> Sequence[ApiKey]:
        """Every key of the user, revoked and expired ones included, oldest first."""
        return await self.keys.owned(user_id)

    async def revoke(self, user_id: int, key_id: int) -> None:
        """Revoke one of the user's keys; another user's is a 404, like no key at all.
        Revoking a revoked key again changes nothing."""
        row = await self.keys.get_owned(user_id, key_id)
        if row is None:
            raise ApiKeyNotFound()
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await self.keys.session.flush()
