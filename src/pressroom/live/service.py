"""Publishing committed events to every worker, and finding what a reconnecting client missed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pressroom.core.broker import Broker, BrokerUnavailable
from pressroom.core.models import utcnow
from pressroom.core.outbox import CommittedEvent
from pressroom.core.settings import LiveSettings
from pressroom.live.events import CHANNEL, COMMENT_KINDS, KINDS, LiveEvent, article_context
from pressroom.live.repository import LiveReads

logger = logging.getLogger("pressroom.live")

_KINDS = frozenset(KINDS)


@dataclass(frozen=True, slots=True)
class Replay:
    events: list[LiveEvent]
    complete: bool
    """False when the client's last id is outside the retention window, or it missed more
    than `replay_max_events`: it must reload rather than trust the stream."""


class LiveService:
    def __init__(self, reads: LiveReads, broker: Broker, settings: LiveSettings) -> None:
        self.reads = reads
        self.broker = broker
        self.settings = settings

    async def live_events(
        self, events: Sequence[tuple[int, str, dict[str, Any], datetime]]
    ) -> list[LiveEvent]:
        """Article and comment events among `events`, with their article's author and tags
        (looked up at once for the comment events)."""
        wanted = [event for event in events if event[1] in _KINDS]
        comment_articles = {
            payload.get("article_id") for _id, kind, payload, _at in wanted if kind in COMMENT_KINDS
        }
        known = await self.reads.articles(id_ for id_ in comment_articles if isinstance(id_, int))
        live = []
        for id_, kind, payload, created_at in wanted:
            author, tags = article_context(kind, payload)
            if kind in COMMENT_KINDS:
                article_id = payload.get("article_id")
                author, tags = known.get(article_id, (None, frozenset()))  # type: ignore[arg-type]
            live.append(LiveEvent(id_, kind, payload, created_at, author, tags))
        return live

    async def publish(self, events: Sequence[CommittedEvent]) -> None:
        """A commit listener: every worker's streams hear the article and comment events."""
        if not any(event.kind in _KINDS for event in events):
            return
        rows = [(event.id, event.kind, event.payload, event.created_at) for event in events]
        for event in await self.live_events(rows):
            try:
                await self.broker.publish(CHANNEL, event.encode())
            except BrokerUnavailable:
                # Streams recover it from the outbox when the broker tells them of the gap.
                logger.warning("live: broker unavailable, event %s not broadcast", event.id)
                return

    async def replay(self, after: int, *, now: datetime | None = None) -> Replay:
        """Events after id `after`, if `after` is within the retention window."""
        now = now or utcnow()
        since = now - timedelta(seconds=self.settings.replay_window_seconds)
        seen_at = await self.reads.event_time(after)
        if seen_at is None or seen_at < since:
            return Replay([], complete=False)
        limit = self.settings.replay_max_events
        rows = await self.reads.events_after(after, since, limit + 1)
        events = await self.live_events(
            [(row["id"], row["kind"], row["payload"], row["created_at"]) for row in rows]
        )
        return Replay(events[:limit], complete=len(rows) <= limit)
