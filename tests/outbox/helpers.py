"""Writing events and reading the outbox straight from the database, for the relay tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from pressroom.core.db import Database, create_engine
from pressroom.core.models import utcnow
from pressroom.core.outbox import CommittedEvent, OutboxEvent, record
from pressroom.core.settings import Settings


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(settings))
    try:
        yield database
    finally:
        await database.dispose()


async def add_events(
    database: Database, kind: str, count: int = 1, **payload: Any
) -> list[CommittedEvent]:
    """`count` events of `kind`, committed together."""
    async with database.session() as session:
        return [await record(session, kind, {"n": n, **payload}) for n in range(count)]


async def outbox_rows(database: Database) -> list[OutboxEvent]:
    async with database.session(readonly=True) as session:
        return list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


async def outbox_row(database: Database, event_id: int) -> OutboxEvent:
    async with database.session(readonly=True) as session:
        return (await session.scalars(select(OutboxEvent).where(OutboxEvent.id == event_id))).one()


async def set_columns(database: Database, event_ids: list[int], **values: Any) -> None:
    """Change delivery state by hand: how a test lets time pass for a lease or a backoff."""
    async with database.session() as session:
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id.in_(event_ids)).values(**values)
        )


def ago(**delta: float) -> datetime:
    return utcnow() - timedelta(**delta)
