"""Exactly-once effects on top of at-least-once delivery.

The relay may hand the same event to a handler more than once (a relay killed after the
handler's work but before marking the event delivered; a retry after a second handler of the
same kind failed). A handler whose effect lives in the database records the event's key in
`processed_events` in the same transaction as the effect: the second delivery finds the key
and does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.models import utcnow
from pressroom.core.outbox.handlers import Delivery, Handler
from pressroom.core.outbox.models import ProcessedEvent
from pressroom.core.upserts import insert_ignoring_conflicts

if TYPE_CHECKING:
    from pressroom.core.db import Database

Effect = Callable[[AsyncSession, Delivery], Awaitable[None]]
MAX_HANDLER_NAME = 64


async def first_time(session: AsyncSession, key: str, handler: str) -> bool:
    """Record, in `session`'s transaction, that `handler` processed event `key`.

    True the first time; False when it was processed already (then do nothing). Two relays
    racing on one key: on Postgres the second insert waits for the first transaction and then
    finds the row; SQLite runs one writer at a time.
    """
    if not 0 < len(handler) <= MAX_HANDLER_NAME:
        raise ValueError(f"handler name must have 1-{MAX_HANDLER_NAME} characters: {handler!r}")
    row = {"key": key, "handler": handler, "processed_at": utcnow()}
    added = await insert_ignoring_conflicts(session, ProcessedEvent.__table__, [row])  # type: ignore[arg-type]
    return added == 1


def exactly_once(database: Database, handler: str, effect: Effect) -> Handler:
    """A handler running `effect(session, delivery)` at most once per event key, in one
    transaction with the key's record: both commit, or neither does and the event is retried."""

    async def handle(delivery: Delivery) -> None:
        async with database.session() as session:
            if await first_time(session, delivery.key, handler):
                await effect(session, delivery)

    return handle
