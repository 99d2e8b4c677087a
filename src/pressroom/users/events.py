"""The account events written to the outbox (see core/outbox)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.outbox import record

REGISTERED = "user.registered"
UPDATED = "user.updated"


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
