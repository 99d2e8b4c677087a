"""Every SQL statement about sent mails."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.upserts import insert_ignoring_conflicts
from pressroom.mail.models import SentMail


class SentMailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sent(self, event_key: str, template: str) -> bool:
        return await self.session.get(SentMail, (event_key, template)) is not None

    async def mark(self, event_key: str, template: str, now: datetime) -> None:
        row = {"event_key": event_key, "template": template, "sent_at": now}
        await insert_ignoring_conflicts(self.session, SentMail.__table__, [row])  # type: ignore[arg-type]
