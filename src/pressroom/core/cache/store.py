"""Where cached answers and version counters live: Redis, or this process's memory.

A store never raises for being unavailable: a read it cannot answer is a miss (`None`), a
write it cannot make is dropped. The cache is an accelerator; the database stays the truth.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

logger = logging.getLogger("pressroom.cache")

EPOCH = "v:epoch"
"""A version every entry depends on: bumped when invalidations may have been lost."""


class Store(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None] | None:
        """The values of `keys` (None for a missing one), or None when the store is down."""
        ...

    async def set(self, key: str, value: bytes) -> None:
        """Keep `value` under `key` for the configured TTL."""
        ...

    async def bump(self, keys: Sequence[str]) -> None:
        """Increment every version counter in `keys`."""
        ...


class MemoryStore:
    """This process's memory: entries with a TTL and a size bound, counters without either.

    Counters must outlive the entries that depend on them, so they are only dropped together
    with every entry (when there are more counters than entries allowed).
    """

    def __init__(self, *, ttl_seconds: float, max_entries: int) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.counters: dict[str, int] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self.entries.clear()

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None] | None:
        return [self._get(key) for key in keys]

    def _get(self, key: str) -> bytes | None:
        if key.startswith("v:"):
            return b"%d" % self.counters.get(key, 0)
        found = self.entries.get(key)
        if found is None:
            return None
        expires, value = found
        if expires < time.monotonic():
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes) -> None:
        self.entries[key] = (time.monotonic() + self.ttl, value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    async def bump(self, keys: Sequence[str]) -> None:
        if len(self.counters) + len(keys) > self.max_entries:
            self.counters.clear()  # every entry goes with them: none can match a reset counter
            self.entries.clear()
        for key in keys:
            self.counters[key] = self.counters.get(key, 0) + 1


class RedisStore:
    """Redis shared by every worker, bypassed for `retry_seconds` whenever it fails."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        ttl_seconds: int,
        timeout: float,
        retry_seconds: float,
    ) -> None:
        self.prefix = f"{prefix}:cache:"
        self.ttl = ttl_seconds
        self.retry_seconds = retry_seconds
        self.redis: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self.down_until = 0.0
        self.outage = False
        self.lost_invalidations = False

    async def open(self) -> None:
        return None  # connects on first use: a Redis down at boot is an outage like any other

    async def close(self) -> None:
        await self.redis.aclose()

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None] | None:
        if not await self._available():
            return None
        try:
            found = await self.redis.mget([self.prefix + k for k in keys])
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._recovered()
        return [value.encode() if isinstance(value, str) else value for value in found]

    async def set(self, key: str, value: bytes) -> None:
        if not await self._available():
            return
        try:
            await self.redis.set(self.prefix + key, value, ex=self.ttl)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def bump(self, keys: Sequence[str]) -> None:
        if not await self._available():
            self.lost_invalidations = True
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.incr(self.prefix + key)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self.lost_invalidations = True
            self._failed(exc)

    async def _available(self) -> bool:
        if self.down_until and time.monotonic() < self.down_until:
            return False
        if self.lost_invalidations:
            # An invalidation this worker made during the outage never arrived: every entry
            # written before it is suspect, so all of them stop matching.
            try:
                await self.redis.incr(self.prefix + EPOCH)
            except (RedisError, OSError) as exc:
                self._failed(exc)
                return False
            self.lost_invalidations = False
        return True

    def _failed(self, exc: BaseException) -> None:
        self.down_until = time.monotonic() + self.retry_seconds
        if not self.outage:
            self.outage = True
            logger.warning(
                "cache unavailable (%s): reading from the database, retrying every %g s",
                type(exc).__name__,
                self.retry_seconds,
            )

    def _recovered(self) -> None:
        self.down_until = 0.0
        if self.outage:
            self.outage = False
            logger.warning("cache available again")
