"""The relay: claims due outbox events, hands them to their handlers, records the outcome.

One batch:

1. claim (one short transaction): due rows (`next_attempt_at <= now`, neither delivered nor
   dead, no live lease) are locked with `FOR UPDATE SKIP LOCKED` on Postgres (SQLite's
   `BEGIN IMMEDIATE` lets one writer in at a time), then leased to this relay
   (`claimed_until = now + lease`, `attempts + 1`) and committed. Events of a kind nobody
   handles are marked delivered right there;
2. deliver, outside any transaction: each event's handlers, `concurrency` events at a time,
   each event within `handler_timeout`;
3. record each outcome in its own transaction: delivered, or failed (`last_error`, the next
   attempt after an exponential backoff with jitter), or dead after `max_attempts`.

A relay that dies mid-batch leaves leased rows: once the lease expires another relay claims
them again, so delivery is at least once; handlers deduplicate on `Delivery.key`
(core/outbox/idempotency.py). An outcome is only recorded by the claim that is still current
(`attempts` unchanged), so a relay that outlived its lease never overwrites a newer claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, exists, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from pressroom.core.models import utcnow
from pressroom.core.observability.redaction import REDACTED, scrub
from pressroom.core.outbox.handlers import Delivery, Handlers
from pressroom.core.outbox.models import OutboxEvent, ProcessedEvent
from pressroom.core.settings import OutboxSettings

if TYPE_CHECKING:
    from pressroom.core.db import Database

logger = logging.getLogger("pressroom.outbox")

ERROR_CHARS = 1000
PURGE_EVERY_SECONDS = 300.0
PURGE_BATCH = 1000
MAX_DOUBLINGS = 40  # beyond this the cap applies anyway; keeps 2**n a sane float
MAX_IDLE_PAUSE = 30.0  # longest wait between tries while the database fails
# The database is down, unreachable, not migrated yet, or timed out: expected, and retried.
DATABASE_TROUBLE = (SQLAlchemyError, OSError, TimeoutError)
# `scheme://user:password@host`: a URL's credentials, as a driver's error message may quote.
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^\s/@]+@", re.IGNORECASE)
_jitter = random.SystemRandom()


def backoff_seconds(attempt: int, settings: OutboxSettings) -> float:
    """Delay after failed attempt `attempt` (1-based): base x 2^(attempt-1), capped, of which
    a random half is taken off ("equal jitter"), so failures spread instead of retrying in
    step. Never shorter than the delay before the previous attempt could have been."""
    doublings = min(max(attempt - 1, 0), MAX_DOUBLINGS)
    delay = min(settings.backoff_max_seconds, settings.backoff_seconds * 2.0**doublings)
    return delay / 2 + _jitter.random() * delay / 2


def error_text(exc: BaseException) -> str:
    """What `last_error` keeps of a failure: type and message, credentials scrubbed, short."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", scrub(text))
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


class Relay:
    """Delivers outbox events to `handlers`; any number of relays may run at once."""

    def __init__(self, database: Database, handlers: Handlers, settings: OutboxSettings) -> None:
        self.database = database
        self.handlers = handlers
        self.settings = settings
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_purge = 0.0

    # ------------------------------------------------------------ running
    async def run(self) -> None:
        """Deliver until `stop_soon()`: the batch in hand is finished first."""
        failures = 0
        while not self._stopping.is_set():
            self._wake.clear()  # a commit from here on wakes the next pause at once
            claimed = 0
            try:
                claimed = await self.deliver_due()
                if time.monotonic() >= self._next_purge:
                    await self.purge()
                    self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            except DATABASE_TROUBLE as exc:
                failures += 1
                # One line, no traceback: /readyz and the database probe tell the rest.
                logger.warning(
                    "outbox relay: database unavailable (%s); trying again in %.0fs",
                    error_text(exc).splitlines()[0],
                    self._idle_pause(failures),
                )
            except Exception:
                failures += 1
                logger.exception("outbox relay: batch failed; trying again after a pause")
            else:
                failures = 0
            if failures or claimed < self.settings.batch_size:  # full batch: more may wait
                await self._pause(self._idle_pause(failures))

    def _idle_pause(self, failures: int) -> float:
        """The poll interval, doubled for each failure in a row (up to 30 s)."""
        if not failures:
            return self.settings.poll_interval
        doublings = min(failures, MAX_DOUBLINGS)
        return max(self.settings.poll_interval, min(MAX_IDLE_PAUSE, 2.0**doublings / 2))

    async def drain(self) -> int:
        """Deliver batches until nothing is due (`pressroom worker --once`); events claimed."""
        total = 0
        while not self._stopping.is_set() and (claimed := await self.deliver_due()):
            total += claimed
        await self.purge()
        return total

    def wake(self) -> None:
        """Look for due events now rather than at the next poll."""
        self._wake.set()

    async def on_commit(self, events: Sequence[object]) -> None:
        """A commit listener (`Database.commit_listeners`): new events wake the relay."""
        if events:
            self._wake.set()

    def stop_soon(self) -> None:
        """Finish the batch in hand, then return from `run()`."""
        self._stopping.set()
        self._wake.set()

    def start(self) -> None:
        """Run in a task of the current event loop (the API process's relay)."""
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self, grace: float) -> None:
        """Stop the task of `start()`: its batch may finish within `grace` seconds, else it is
        cancelled (its leased events go to another relay, or this one after a restart)."""
        self.stop_soon()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            logger.warning("outbox relay: batch unfinished after %ss; cancelled", grace)
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    # ------------------------------------------------------------ one batch
    async def deliver_due(self) -> int:
        """Claim one batch of due events and deliver it; how many events were claimed."""
        deliveries, settled = await self._claim()
        if deliveries:
            limit = asyncio.Semaphore(self.settings.concurrency)

            async def deliver(delivery: Delivery) -> None:
                async with limit:
                    try:
                        await self._deliver(delivery)
                    except DATABASE_TROUBLE as exc:
                        # Still leased: delivered again once the lease expires.
                        logger.warning(
                            "outbox event %s: outcome not recorded (%s); it is delivered again "
                            "after its lease",
                            delivery.key,
                            error_text(exc).splitlines()[0],
                        )

            async with asyncio.TaskGroup() as group:
                for delivery in deliveries:
                    group.create_task(deliver(delivery))
        return len(deliveries) + settled

    def _due(self, now: datetime) -> Select[Any]:
        event = OutboxEvent
        query = (
            select(event.id, event.key, event.kind, event.payload, event.created_at, event.attempts)
            .where(
                event.delivered_at.is_(None),
                event.dead_at.is_(None),
                event.next_attempt_at <= now,
                or_(event.claimed_until.is_(None), event.claimed_until <= now),
            )
            .order_by(event.next_attempt_at, event.id)
            .limit(self.settings.batch_size)
        )
        if not self.database.is_sqlite:
            # Concurrent relays skip each other's rows instead of queueing on them.
            query = query.with_for_update(skip_locked=True)
        return query

    async def _claim(self) -> tuple[list[Delivery], int]:
        """Lease a batch of due events; events nobody handles are settled as delivered."""
        now = utcnow()
        async with self.database.session() as session:
            rows = (await session.execute(self._due(now))).all()
            if not rows:
                return [], 0
            unhandled = [row.id for row in rows if not self.handlers.for_kind(row.kind)]
            handled = [row for row in rows if self.handlers.for_kind(row.kind)]
            if unhandled:
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_(unhandled))
                    .values(delivered_at=now, claimed_until=None)
                )
            if handled:
                lease = now + timedelta(seconds=self.settings.lease_seconds)
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_([row.id for row in handled]))
                    .values(claimed_until=lease, attempts=OutboxEvent.attempts + 1)
                )
        deliveries = [
            Delivery(row.id, row.key, row.kind, row.payload, row.created_at, row.attempts + 1)
            for row in handled
        ]
        return deliveries, len(unhandled)

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            async with asyncio.timeout(self.settings.handler_timeout):
                for handler in self.handlers.for_kind(delivery.kind):
                    await handler(delivery)
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                exc = TimeoutError(f"handlers took longer than {self.settings.handler_timeout:g}s")
            await self._failed(delivery, exc)
        else:
            await self._settle(delivery, delivered_at=utcnow(), claimed_until=None)

    async def _failed(self, delivery: Delivery, exc: Exception) -> None:
        now = utcnow()
        error = error_text(exc)
        if delivery.attempt >= self.settings.max_attempts:
            logger.error(
                "outbox event %s (%s) dead after %d attempts: %s",
                delivery.key,
                delivery.kind,
                delivery.attempt,
                error,
            )
            await self._settle(delivery, dead_at=now, claimed_until=None, last_error=error)
            return
        delay = backoff_seconds(delivery.attempt, self.settings)
        logger.warning(
            "outbox event %s (%s) failed (attempt %d of %d), next try in %.0fs: %s",
            delivery.key,
            delivery.kind,
            delivery.attempt,
            self.settings.max_attempts,
            delay,
            error,
        )
        await self._settle(
            delivery,
            next_attempt_at=now + timedelta(seconds=delay),
            claimed_until=None,
            last_error=error,
        )

    async def _settle(self, delivery: Delivery, **values: Any) -> None:
        """Record an outcome, if this relay's claim is still the current one."""
        async with self.database.session() as session:
            result = await session.execute(
                update(OutboxEvent)
                .where(
                    OutboxEvent.id == delivery.id,
                    OutboxEvent.attempts == delivery.attempt,
                    OutboxEvent.delivered_at.is_(None),
                    OutboxEvent.dead_at.is_(None),
                )
                .values(**values)
            )
        if not getattr(result, "rowcount", 0):
            logger.warning(
                "outbox event %s: claimed again after this relay's lease expired; its outcome "
                "is left to the newer claim",
                delivery.key,
            )

    # ------------------------------------------------------------ retention
    async def purge(self) -> int:
        """Delete deliveries older than the retention window (dead letters stay), and the
        idempotency records of events that no longer exist (they cannot come again)."""
        cutoff = utcnow() - timedelta(hours=self.settings.retention_hours)
        purged = 0
        while True:
            async with self.database.session() as session:
                old = select(OutboxEvent.id).where(OutboxEvent.delivered_at < cutoff)
                old = old.limit(PURGE_BATCH)
                result = await session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(old)))
            count = int(getattr(result, "rowcount", 0) or 0)
            purged += count
            if count < PURGE_BATCH:
                break
        await self._purge_processed(cutoff)
        if purged:
            logger.info("outbox: purged %d delivered events older than %s", purged, cutoff)
        return purged

    async def _purge_processed(self, cutoff: datetime) -> None:
        while True:
            async with self.database.session() as session:
                gone = (
                    select(ProcessedEvent.key)
                    .where(
                        ProcessedEvent.processed_at < cutoff,
                        ~exists().where(OutboxEvent.key == ProcessedEvent.key),
                    )
                    .limit(PURGE_BATCH)
                )
                result = await session.execute(
                    delete(ProcessedEvent).where(ProcessedEvent.key.in_(gone))
                )
            if int(getattr(result, "rowcount", 0) or 0) < PURGE_BATCH:
                return
