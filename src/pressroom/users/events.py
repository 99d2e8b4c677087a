"""The account events written to the outbox (see core/outbox)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.outbox import record

REGISTERED = "user.registered"
UPDATED = "user.updated"
MODERATED = "user.moderated"


async def registered(session: AsyncSession, user_id: int, username: str, email: str) -> None:
    """A new account (the welcome and verification emails start here)."""
    payload = {"user_id": user_id, "username": username, "email": email}
    await record(session, REGISTERED, payload)


async def updated(
    session: AsyncSession, user_id: int, username: str, previous_username: str, fields: list[str]
) -> None:
    """A profile or account change: which fields (never their secret values)."""
    payload = {
        "user_id": user_id,
        "username": username,
        "previous_username": previous_username,
        "fields": fields,
    }
    await record(session, UPDATED, payload)


async def moderated(session: AsyncSession, user_id: int, username: str, action: str) -> None:
    """An administrator suspended, soft-deleted or restored the account: a soft delete hides
    everything the user wrote, a restore shows it again (the read cache listens)."""
    payload = {"user_id": user_id, "username": username, "action": action}
    await record(session, MODERATED, payload)
