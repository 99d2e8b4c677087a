"""Single-use tokens mailed to a user: password reset and email verification.

The raw token exists only in the mail (and the link the user follows); the database keeps its
SHA-256. Each token carries a fingerprint of what it was issued for: the password hash (a
reset token dies when the password changes, by any route) or the email address (a
verification token dies when the address changes).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.auth.models import AccountToken
from pressroom.users.models import User

PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose, not a secret)
VERIFY_EMAIL = "verify_email"
MAX_TOKEN_LENGTH = 128


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(purpose: str, user: User) -> str:
    """What the token is bound to, as the user is now."""
    bound = user.password_hash if purpose == PASSWORD_RESET else user.email.lower()
    return hashlib.sha256(f"{purpose}:{bound}".encode()).hexdigest()


class AccountTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(self, user: User, purpose: str, *, now: datetime, lifetime: int) -> str:
        """A new token for `user`; the raw value, which is never stored. The user's expired
        tokens go at the same time, so the table holds only live ones (and a few spent)."""
        await self.session.execute(
            delete(AccountToken).where(
                AccountToken.user_id == user.id, AccountToken.expires_at <= now
            )
        )
        token = secrets.token_urlsafe(32)
        self.session.add(
            AccountToken(
                token_hash=token_hash(token),
                user_id=user.id,
                purpose=purpose,
                fingerprint=fingerprint(purpose, user),
                created_at=now,
                expires_at=now + timedelta(seconds=lifetime),
            )
        )
        await self.session.flush()
        return token

    async def get(self, token: str) -> AccountToken | None:
        return await self.session.get(AccountToken, token_hash(token))

    async def use(self, token: str, now: datetime) -> bool:
        """Mark the token used; False if it already was (only one concurrent caller wins)."""
        result = await self.session.execute(
            update(AccountToken)
            .where(AccountToken.token_hash == token_hash(token), AccountToken.used_at.is_(None))
            .values(used_at=now)
        )
        assert isinstance(result, CursorResult)
        return int(result.rowcount) == 1
