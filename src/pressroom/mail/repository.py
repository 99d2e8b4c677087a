"""Which mails were sent: kept in the outbox's `processed_events`, one row per (event key,
`mail.<template>`), and purged with it once the event itself is gone."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.outbox import ProcessedEvent, first_time


def handler_name(template: str) -> str:
    return f"mail.{template}"


class SentMailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sent(self, event_key: str, template: str) -> bool:
        row = await self.session.get(ProcessedEvent, (event_key, handler_name(template)))
        return row is not None

    async def mark(self, event_key: str, template: str) -> None:
        await first_time(self.session, event_key, handler_name(template))
