"""`sent_mails`: which mail each outbox event already produced (delivery is at least once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pressroom.core.models import Base, utcnow


class SentMail(Base):
    __tablename__ = "sent_mails"

    # The outbox event's idempotency key and the template: one event may send several mails.
    event_key: Mapped[str] = mapped_column(String(36), primary_key=True)
    template: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
