"""Server-side sessions, the refresh tokens that extend them, and mailed account tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pressroom.core.models import Base, utcnow


class Session(Base):
    """One login: every token issued for it names it (`sid`), so revoking it revokes them."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "conduit" or "oauth"
    scopes: Mapped[str] = mapped_column(String(255))  # space-separated
    user_agent: Mapped[str | None] = mapped_column(String(512), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_sessions_user_id", "user_id"),)


class RefreshToken(Base):
    """An opaque refresh token, kept only as its SHA-256; each one works once."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_refresh_tokens_session_id", "session_id"),)


class AccountToken(Base):
    """A single-use token mailed to a user (password reset, email verification), kept only as
    its SHA-256. `fingerprint` binds it to the state it was issued for (the password hash, or
    the email address): once that changes, the token no longer works."""

    __tablename__ = "account_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_account_tokens_user_id", "user_id"),)
