"""Several relays at once, each with its own connection pool, never hand one event out twice."""

from __future__ import annotations

import asyncio
from collections import Counter

from pressroom.core.outbox import Delivery, Handlers
from pressroom.core.outbox.relay import Relay
from pressroom.core.settings import OutboxSettings, Settings
from tests.outbox.helpers import add_events, open_database, outbox_rows

EVENTS = 200


async def test_concurrent_relays_deliver_every_event_exactly_once(settings: Settings) -> None:
    delivered: list[tuple[str, str]] = []

    def handlers(relay_name: str) -> Handlers:
        async def handle(delivery: Delivery) -> None:
            delivered.append((relay_name, delivery.key))
            await asyncio.sleep(0.001)  # let the other relays claim meanwhile

        registry = Handlers()
        registry.on("article.created", handle)
        return registry

    outbox = OutboxSettings(batch_size=10, concurrency=5)
    async with (
        open_database(settings) as first,
        open_database(settings) as second,
        open_database(settings) as third,
    ):
        events = await add_events(first, "article.created", EVENTS)
        relays = [
            Relay(database, handlers(name), outbox)
            for name, database in (("a", first), ("b", second), ("c", third))
        ]

        claimed = await asyncio.gather(*(relay.drain() for relay in relays))

        rows = await outbox_rows(first)

    per_key = Counter(key for _relay, key in delivered)
    assert set(per_key) == {event.key for event in events}
    assert set(per_key.values()) == {1}, per_key.most_common(3)
    assert sum(claimed) == EVENTS
    assert all(row.delivered_at is not None and row.attempts == 1 for row in rows)
