"""`pressroom worker` with one more handler, whose effect the real-process test counts.

Run as `python -m tests.outbox.effect_worker [worker options]`: the same command, signals and
log pipeline as `pressroom worker`; only the wiring (`pressroom.jobs.event_handlers`) gains a
handler for `test.effect` events that inserts a row into `test_effects` (a table the test
creates) through `exactly_once`, slowly enough for a kill to land mid-batch.
"""

from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import pressroom.jobs
from pressroom.cli import main
from pressroom.core.db import Database
from pressroom.core.outbox import Delivery, Handlers, exactly_once
from pressroom.core.settings import Settings

KIND = "test.effect"
PAUSE = 0.1

_built_in = pressroom.jobs.event_handlers


async def apply(session: AsyncSession, delivery: Delivery) -> None:
    await session.execute(
        text("INSERT INTO test_effects (key, pid) VALUES (:key, :pid)"),
        {"key": delivery.key, "pid": os.getpid()},
    )
    await asyncio.sleep(PAUSE)  # a kill may land with the effect's transaction open


def event_handlers(settings: Settings, database: Database) -> Handlers:
    handlers = _built_in(settings, database)
    once = exactly_once(database, KIND, apply)

    async def handle(delivery: Delivery) -> None:
        await once(delivery)
        await asyncio.sleep(PAUSE)  # ...or after it committed, before the event is marked

    handlers.on(KIND, handle)
    return handlers


if __name__ == "__main__":
    pressroom.jobs.event_handlers = event_handlers
    sys.argv = ["pressroom", "worker", *sys.argv[1:]]
    main()
