"""Password reset and email verification with the single-use tokens that mails carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.auth import account_tokens, events
from pressroom.auth.account_tokens import AccountTokenRepository
from pressroom.auth.models import AccountToken
from pressroom.auth.passwords import Passwords
from pressroom.auth.repository import SessionRepository
from pressroom.core.errors import AppError, InvalidToken
from pressroom.core.models import utcnow
from pressroom.users import events as user_events
from pressroom.users.models import User
from pressroom.users.repository import UserRepository


class AccountTokenRejected(AppError):
    """400 `{"errors": {"token": [...]}}`: unknown, expired, used or outdated."""

    status_code = 400
    field = "token"
    message = "is invalid"


INVALID = "is invalid"
EXPIRED = "has expired"
USED = "has already been used"
OUTDATED = "is no longer valid"  # the password or the email changed since it was sent


class AlreadyVerified(AppError):
    status_code = 409
    field = "email"
    message = "is already verified"


@dataclass(frozen=True, slots=True)
class VerificationState:
    email: str
    verified_at: datetime | None


class AccountRecovery:
    """`session` is the request's transaction; `reads` reads outside it, so a token is checked
    before the password is hashed without holding SQLite's write lock through argon2."""

    def __init__(self, session: AsyncSession, reads: AsyncSession, passwords: Passwords) -> None:
        self.session = session
        self.reads = reads
        self.passwords = passwords

    async def request_reset(self, email: str) -> None:
        """Queue a reset mail for `email`: the same work whether or not an account has it."""
        await events.password_reset_requested(self.session, email)

    async def confirm_reset(self, token: str, password: str) -> None:
        """Set the new password, spend the token and end every session of the user."""
        await _check(self.reads, token, account_tokens.PASSWORD_RESET, utcnow())
        password_hash = await self.passwords.hash(password)
        now = utcnow()
        if not await AccountTokenRepository(self.session).use(token, now):
            raise AccountTokenRejected(USED)
        # Checked again inside the transaction: the password may have changed meanwhile.
        _, user = await _check(self.session, token, account_tokens.PASSWORD_RESET, now, used=True)
        user.password_hash = password_hash
        user.updated_at = now
        await self.session.flush()
        await SessionRepository(self.session).revoke_all(user.id, now)
        await user_events.updated(self.session, user.id, user.username, user.username, ["password"])

    async def verify_email(self, token: str) -> VerificationState:
        """Mark the address the token was sent to as verified, and spend the token."""
        now = utcnow()
        _, user = await _check(self.session, token, account_tokens.VERIFY_EMAIL, now)
        if not await AccountTokenRepository(self.session).use(token, now):
            raise AccountTokenRejected(USED)
        if user.email_verified_at is None:
            user.email_verified_at = now
            await self.session.flush()
        return VerificationState(user.email, user.email_verified_at)

    async def request_verification(self, user_id: int) -> None:
        """Queue a new verification mail; 409 when the address is verified already."""
        user = await UserRepository(self.session).get(user_id)
        if user is None:
            raise InvalidToken()
        if user.email_verified_at is not None:
            raise AlreadyVerified()
        await events.verification_requested(self.session, user_id)


async def _check(
    session: AsyncSession, token: str, purpose: str, now: datetime, *, used: bool = False
) -> tuple[AccountToken, User]:
    """The token's row and user, if the token may be spent now (`used`: spent just now)."""
    row = await AccountTokenRepository(session).get(token)
    if row is None or row.purpose != purpose:
        raise AccountTokenRejected(INVALID)
    if row.used_at is not None and not used:
        raise AccountTokenRejected(USED)
    if row.expires_at <= now:
        raise AccountTokenRejected(EXPIRED)
    user = await UserRepository(session).get(row.user_id)
    if user is None or user.deleted_at is not None or user.suspended_at is not None:
        raise AccountTokenRejected(INVALID)
    if account_tokens.fingerprint(purpose, user) != row.fingerprint:
        raise AccountTokenRejected(OUTDATED)
    return row, user
