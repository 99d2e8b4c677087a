"""Handlers act once per event key, however often the event is delivered."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.db import Database
from pressroom.core.models import utcnow
from pressroom.core.outbox import Delivery, ProcessedEvent, exactly_once, first_time
from pressroom.core.settings import Settings
from tests.outbox.helpers import open_database


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    async with open_database(settings) as opened:
        yield opened


def delivery(key: str, attempt: int = 1) -> Delivery:
    return Delivery(1, key, "user.registered", {"user_id": 1}, utcnow(), attempt)


async def test_an_effect_runs_once_per_key_and_handler(database: Database) -> None:
    effects: list[tuple[str, int]] = []

    async def welcome(_session: AsyncSession, event: Delivery) -> None:
        effects.append((event.key, event.attempt))

    handle = exactly_once(database, "welcome", welcome)
    other = exactly_once(database, "audit", welcome)

    await handle(delivery("k1"))
    await handle(delivery("k1", attempt=2))  # redelivered: nothing happens
    await handle(delivery("k2"))
    await other(delivery("k1"))  # another handler has its own record

    assert effects == [("k1", 1), ("k2", 1), ("k1", 1)]
    async with database.session(readonly=True) as session:
        rows = await session.execute(
            select(ProcessedEvent.key, ProcessedEvent.handler).order_by(
                ProcessedEvent.key, ProcessedEvent.handler
            )
        )
        assert rows.all() == [("k1", "audit"), ("k1", "welcome"), ("k2", "welcome")]


async def test_a_failed_effect_leaves_no_record_so_the_retry_runs_it(database: Database) -> None:
    calls: list[int] = []

    async def flaky(_session: AsyncSession, event: Delivery) -> None:
        calls.append(event.attempt)
        if event.attempt == 1:
            raise ConnectionError("down")

    handle = exactly_once(database, "flaky", flaky)

    with pytest.raises(ConnectionError):
        await handle(delivery("k", attempt=1))
    await handle(delivery("k", attempt=2))
    await handle(delivery("k", attempt=3))

    assert calls == [1, 2]


async def test_first_time_is_true_once_within_the_callers_transaction(database: Database) -> None:
    async with database.session() as session:
        assert await first_time(session, "key", "h")
        assert not await first_time(session, "key", "h")
    async with database.session() as session:
        assert not await first_time(session, "key", "h")
        with pytest.raises(ValueError, match="handler name"):
            await first_time(session, "key", "")
