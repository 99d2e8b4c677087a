"""Writing events into the outbox inside the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.core.models import utcnow
from pressroom.core.outbox.models import OutboxEvent

_PENDING_KEY = "pressroom.outbox.recorded"


@dataclass(frozen=True, slots=True)
class CommittedEvent:
    """An event whose transaction committed: what commit listeners receive."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime


async def record(session: AsyncSession, kind: str, payload: dict[str, Any]) -> CommittedEvent:
    """Add an event to the outbox in `session`'s transaction; it exists iff the change commits.

    `payload` must be JSON-serialisable and hold no secret: it is stored as it is.
    """
    now = utcnow()
    key = str(uuid.uuid4())
    values = {
        "key": key,
        "kind": kind,
        "payload": payload,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }
    result = await session.execute(insert(OutboxEvent).values(values).returning(OutboxEvent.id))
    event = CommittedEvent(result.scalar_one(), key, kind, payload, now)
    session.info.setdefault(_PENDING_KEY, []).append(event)
    return event


def committed_events(session: AsyncSession) -> list[CommittedEvent]:
    """Take the events recorded in `session` (called once, after its commit)."""
    events: list[CommittedEvent] = session.info.pop(_PENDING_KEY, [])
    return events
