"""The relay against real SQLite and Postgres: delivery, retries, dead letters, leases, purge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from pressroom.core.db import Database
from pressroom.core.models import utcnow
from pressroom.core.outbox import Delivery, Handlers, ProcessedEvent
from pressroom.core.outbox.relay import Relay, backoff_seconds, error_text
from pressroom.core.settings import OutboxSettings, Settings
from tests.conftest import base_settings
from tests.outbox.helpers import (
    add_events,
    ago,
    open_database,
    outbox_row,
    outbox_rows,
    set_columns,
)

KIND = "article.created"


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    async with open_database(settings) as opened:
        yield opened


def relay_for(database: Database, handlers: Handlers, **outbox: Any) -> Relay:
    return Relay(database, handlers, OutboxSettings(**outbox))


class Recorder:
    """A handler that remembers every delivery it got."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.arrived = asyncio.Event()

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.arrived.set()


class Failing:
    def __init__(self, message: str) -> None:
        self.message = message
        self.calls = 0

    async def __call__(self, delivery: Delivery) -> None:
        self.calls += 1
        raise RuntimeError(self.message)


async def test_each_event_is_handed_to_its_handlers_once_and_marked_delivered(
    database: Database,
) -> None:
    events = await add_events(database, KIND, 3, title="hello")
    first, second = Recorder(), Recorder()
    handlers = Handlers()
    handlers.on(KIND, first)
    handlers.on(KIND, second)
    relay = relay_for(database, handlers)

    assert await relay.deliver_due() == 3
    assert await relay.deliver_due() == 0

    for recorder in (first, second):
        got = sorted(recorder.deliveries, key=lambda delivery: delivery.id)
        assert [delivery.key for delivery in got] == [event.key for event in events]
        assert [delivery.payload for delivery in got] == [event.payload for event in events]
        assert {(delivery.kind, delivery.attempt) for delivery in got} == {(KIND, 1)}
    for row in await outbox_rows(database):
        assert row.delivered_at is not None
        assert (row.attempts, row.claimed_until, row.dead_at, row.last_error) == (
            1,
            None,
            None,
            None,
        )


async def test_events_of_a_kind_nobody_handles_are_delivered_at_once(database: Database) -> None:
    await add_events(database, "comment.deleted", 2)
    relay = relay_for(database, Handlers())

    assert await relay.deliver_due() == 2

    rows = await outbox_rows(database)
    assert all(row.delivered_at is not None and row.attempts == 0 for row in rows)


async def test_a_failing_handler_is_retried_with_growing_delays_then_dead_lettered(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    [event] = await add_events(database, KIND)
    failing = Failing("connect to smtp://mailer:hunter2@mail.example.com failed")
    handlers = Handlers()
    handlers.on(KIND, failing)
    relay = relay_for(
        database, handlers, max_attempts=3, backoff_seconds=10, backoff_max_seconds=10_000
    )
    delays = []

    for attempt in (1, 2):
        before = utcnow()
        assert await relay.deliver_due() == 1
        row = await outbox_row(database, event.id)
        assert (row.attempts, row.delivered_at, row.dead_at, row.claimed_until) == (
            attempt,
            None,
            None,
            None,
        )
        delays.append((row.next_attempt_at - before).total_seconds())
        assert await relay.deliver_due() == 0  # not due before its backoff is over
        await set_columns(database, [event.id], next_attempt_at=ago(seconds=1))

    # Base 10 s, doubled each time, minus up to half of it as jitter.
    assert 5 <= delays[0] <= 11
    assert 10 <= delays[1] <= 21
    assert await relay.deliver_due() == 1
    dead = await outbox_row(database, event.id)
    assert dead.dead_at is not None
    assert (dead.attempts, dead.delivered_at, dead.claimed_until) == (3, None, None)
    assert dead.last_error is not None
    assert dead.last_error.startswith("RuntimeError: connect to smtp://")
    assert "hunter2" not in dead.last_error
    # Dead letters wait for an admin: never claimed again, even when "due".
    await set_columns(database, [event.id], next_attempt_at=ago(days=1))
    assert await relay.deliver_due() == 0
    assert failing.calls == 3
    lines = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert [level for level, _ in lines] == ["WARNING", "WARNING", "ERROR"]
    assert lines[0][1].startswith(f"outbox event {event.key} ({KIND}) failed (attempt 1 of 3)")
    assert lines[2][1].startswith(f"outbox event {event.key} ({KIND}) dead after 3 attempts")
    assert not any("hunter2" in line for _, line in lines)


async def test_a_handler_that_takes_too_long_counts_as_a_failed_attempt(
    database: Database,
) -> None:
    [event] = await add_events(database, KIND)
    handlers = Handlers()

    async def hangs(_delivery: Delivery) -> None:
        await asyncio.Event().wait()

    handlers.on(KIND, hangs)
    relay = relay_for(database, handlers, handler_timeout=0.05, lease_seconds=60)

    assert await relay.deliver_due() == 1

    row = await outbox_row(database, event.id)
    assert row.delivered_at is None
    assert row.last_error == "TimeoutError: handlers took longer than 0.05s"
    assert row.next_attempt_at > utcnow()


async def test_an_event_whose_relay_died_is_delivered_by_another_once_the_lease_expires(
    database: Database,
) -> None:
    [event] = await add_events(database, KIND)
    entered, release = asyncio.Event(), asyncio.Event()
    stale_outcomes: list[str] = []

    async def stuck(delivery: Delivery) -> None:
        entered.set()
        await release.wait()  # a relay that stopped answering with the event in hand
        stale_outcomes.append(delivery.key)
        raise RuntimeError("too late")

    stuck_handlers = Handlers()
    stuck_handlers.on(KIND, stuck)
    recorder = Recorder()
    healthy_handlers = Handlers()
    healthy_handlers.on(KIND, recorder)
    stale = relay_for(database, stuck_handlers)
    healthy = relay_for(database, healthy_handlers)

    batch = asyncio.create_task(stale.deliver_due())
    await entered.wait()
    # Leased: nobody else takes it while the lease lasts.
    assert await healthy.deliver_due() == 0
    await set_columns(database, [event.id], claimed_until=ago(seconds=1))  # the lease runs out
    assert await healthy.deliver_due() == 1
    release.set()
    await batch

    assert [delivery.attempt for delivery in recorder.deliveries] == [2]
    row = await outbox_row(database, event.id)
    # The stale relay's failure, reported after it lost the lease, changed nothing.
    assert stale_outcomes == [event.key]
    assert row.delivered_at is not None
    assert (row.attempts, row.last_error, row.next_attempt_at) == (2, None, event.created_at)


async def test_run_delivers_what_a_commit_announces_and_stops_after_its_batch(
    database: Database,
) -> None:
    recorder = Recorder()
    handlers = Handlers()
    handlers.on(KIND, recorder)
    # Polling alone would take a minute: only the commit listener can wake it in time.
    relay = relay_for(database, handlers, poll_interval=60)
    database.commit_listeners.append(relay.on_commit)
    relay.start()
    try:
        [event] = await add_events(database, KIND)
        async with asyncio.timeout(10):
            await recorder.arrived.wait()
    finally:
        await relay.stop(grace=10)

    assert [delivery.key for delivery in recorder.deliveries] == [event.key]
    assert (await outbox_row(database, event.id)).delivered_at is not None


async def test_old_deliveries_are_purged_but_recent_ones_and_dead_letters_stay(
    database: Database,
) -> None:
    old, recent, dead, pending = await add_events(database, KIND, 4)
    await set_columns(database, [old.id], delivered_at=ago(hours=25))
    await set_columns(database, [recent.id], delivered_at=ago(hours=23))
    await set_columns(database, [dead.id], dead_at=ago(days=30))
    async with database.session() as session:
        rows = [
            {"key": key, "handler": "mail", "processed_at": ago(hours=25)}
            for key in (old.key, dead.key)
        ]
        await session.execute(insert(ProcessedEvent), rows)
    relay = relay_for(database, Handlers(), retention_hours=24)

    assert await relay.purge() == 1

    assert [row.id for row in await outbox_rows(database)] == [recent.id, dead.id, pending.id]
    async with database.session(readonly=True) as session:
        kept = list(await session.scalars(select(ProcessedEvent.key)))
    # The purged event cannot come again; the dead letter may be retried: its record stays.
    assert kept == [dead.key]


async def test_drain_delivers_every_due_batch_then_returns(database: Database) -> None:
    await add_events(database, KIND, 7)
    recorder = Recorder()
    handlers = Handlers()
    handlers.on(KIND, recorder)
    relay = relay_for(database, handlers, batch_size=3, concurrency=3)

    assert await relay.drain() == 7

    assert len({delivery.key for delivery in recorder.deliveries}) == 7
    assert all(row.delivered_at is not None for row in await outbox_rows(database))


def test_backoff_doubles_with_jitter_and_stops_at_the_cap() -> None:
    settings = OutboxSettings(backoff_seconds=2, backoff_max_seconds=60)

    for attempt, full in ((1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (500, 60)):
        delays = [backoff_seconds(attempt, settings) for _ in range(50)]
        assert all(full / 2 <= delay <= full for delay in delays), (attempt, delays)
    assert len({backoff_seconds(3, settings) for _ in range(20)}) > 1  # jittered


def test_an_error_kept_for_admins_is_short_and_holds_no_credentials() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    text = error_text(RuntimeError(f"postgresql://app:s3cret@db/x refused; Bearer {token} " * 50))

    assert len(text) <= 1000
    assert "s3cret" not in text
    assert token not in text
    assert text.startswith("RuntimeError: postgresql://[redacted]@db/x")
    assert error_text(TimeoutError()) == "TimeoutError"


def test_a_lease_shorter_than_a_slow_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="lease_seconds"):
        OutboxSettings(handler_timeout=30, batch_size=20, concurrency=4, lease_seconds=150)
    assert OutboxSettings(handler_timeout=30, batch_size=20, concurrency=4, lease_seconds=151)


async def test_a_relay_waits_out_a_database_it_cannot_use_without_tracebacks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Not migrated: every claim fails, as it would while the database is down.
    settings = base_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    async with open_database(settings) as database:
        relay = relay_for(database, Handlers(), poll_interval=0.05)
        relay.start()
        try:
            async with asyncio.timeout(10):
                while not caplog.records:  # noqa: ASYNC110 (log records signal nothing)
                    await asyncio.sleep(0.01)
        finally:
            await relay.stop(grace=10)

    [first, *_] = caplog.records
    assert first.levelname == "WARNING"
    assert "outbox relay: database unavailable" in first.getMessage()
    assert "no such table: outbox_events" in first.getMessage()
    assert all(record.exc_info is None for record in caplog.records)
