"""`outbox_events`: one row per domain event, with its delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pressroom.core.models import Base

# BIGINT on Postgres; SQLite only auto-increments an INTEGER PRIMARY KEY.
EventId = BigInteger().with_variant(Integer(), "sqlite")
Payload = JSON().with_variant(JSONB(), "postgresql")

_PENDING = text("delivered_at IS NULL AND dead_at IS NULL")


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    # The idempotency key handlers deduplicate on: unique, never reused.
    key: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)
    created_at: Mapped[datetime]
    # Delivery state, owned by the relay.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    # Indexed for the relay's purge of old deliveries and the admins' dead-letter list.
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)
    dead_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "ix_outbox_events_pending",
            "next_attempt_at",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
    )


class ProcessedEvent(Base):
    """(event key, handler) pairs a handler has acted on: written in the same transaction as
    the handler's own effect, so the effect happens once however often the event arrives."""

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(36), primary_key=True)
    handler: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)
