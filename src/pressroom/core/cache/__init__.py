"""The read cache: anonymous answers of public reads, invalidated by version counters.

See docs/caching.md. `create_cache(settings)` picks the store (Redis when configured, this
process's memory otherwise); `Cache.invalidate` is a commit listener (core/db.py) that bumps
the counters of whatever the committed events changed; `CachedReads` (middleware.py) serves
and stores answers, and gives every public read an ETag.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pressroom.core.cache import versions
from pressroom.core.cache.store import MemoryStore, RedisStore, Store
from pressroom.core.outbox import CommittedEvent, Delivery
from pressroom.core.settings import Settings

logger = logging.getLogger("pressroom.cache")


class Cache:
    def __init__(self, store: Store, *, max_entry_bytes: int) -> None:
        self.store = store
        self.max_entry_bytes = max_entry_bytes

    async def open(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()

    async def invalidate(self, events: Sequence[CommittedEvent]) -> None:
        """Commit listener: what the committed events changed stops being served."""
        await self.invalidate_kinds([(event.kind, event.payload) for event in events])

    async def invalidate_delivery(self, delivery: Delivery) -> None:
        """Outbox handler: the same, at least once (covers a listener that met a cache outage)."""
        await self.invalidate_kinds([(delivery.kind, delivery.payload)])

    async def invalidate_kinds(self, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        keys = versions.changed_by_all(events)
        if keys:
            await self.store.bump(keys)


def create_cache(settings: Settings) -> Cache | None:
    """The cache the settings ask for, or None when it is off."""
    options = settings.cache
    if not options.enabled:
        return None
    redis = settings.redis
    store: Store
    if redis.url is not None and redis.url.get_secret_value():
        store = RedisStore(
            redis.url.get_secret_value(),
            prefix=redis.key_prefix,
            ttl_seconds=options.ttl_seconds,
            timeout=redis.socket_timeout,
            retry_seconds=options.retry_seconds,
        )
    elif settings.server.workers > 1 and not options.in_process_with_workers:
        logger.info(
            "read cache off: %d workers and no Redis (an in-process cache would not see "
            "the other workers' writes); ETags still work",
            settings.server.workers,
        )
        return None
    else:
        store = MemoryStore(ttl_seconds=options.ttl_seconds, max_entries=options.max_entries)
    return Cache(store, max_entry_bytes=options.max_entry_bytes)


__all__ = ["Cache", "create_cache"]
