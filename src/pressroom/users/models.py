from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from pressroom.core.models import Base, utcnow


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    bio: Mapped[str | None] = mapped_column(Text, default=None)
    image: Mapped[str | None] = mapped_column(String(2048), default=None)
    role: Mapped[str] = mapped_column(String(16), default=Role.USER, server_default=Role.USER)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # A suspended user cannot log in and holds no session; a deleted one (soft delete, which an
    # admin can undo) vanishes from every public answer as well.
    suspended_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set when the owner follows a verification link sent to `email`; cleared when it changes.
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        # Usernames and emails are ASCII (enforced by the API), so lower() folds alike everywhere.
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_lower", func.lower(email), unique=True),
        # Only the soft-deleted users: counts subtract their articles starting from here.
        Index(
            "ix_users_deleted",
            id,
            postgresql_where=deleted_at.is_not(None),
            sqlite_where=deleted_at.is_not(None),
        ),
    )
