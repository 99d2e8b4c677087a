"""The account-recovery events written to the outbox: the mails they ask for are sent when
the relay delivers them (see mail/handlers.py), never inside the request."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.outbox import record

PASSWORD_RESET_REQUESTED = "mail.password_reset"  # noqa: S105 (an event kind)
VERIFICATION_REQUESTED = "mail.verify_email"


async def password_reset_requested(session: AsyncSession, email: str) -> None:
    """Someone asked for a reset link for `email`, an address that may match no account: the
    request does the same work either way, the handler finds out."""
    await record(session, PASSWORD_RESET_REQUESTED, {"email": email})


async def verification_requested(session: AsyncSession, user_id: int) -> None:
    """The user asked for a new verification mail."""
    await record(session, VERIFICATION_REQUESTED, {"user_id": user_id})
