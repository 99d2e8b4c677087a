"""How many live connections each user (or anonymous IP) holds: across the fleet when Redis is
configured, in this worker otherwise.

In Redis, each key (`<redis.key_prefix>:live:slots:user:<id>` or `...:ip:<address>`) is a
sorted set: one member per open stream (a random id), scored with the time its lease ends.
Taking a slot is one Lua script (drop the expired members, count, add when under the cap, set
the key's TTL), so two workers never both take the last slot. Each worker renews the leases of
its open streams every `RENEW_SECONDS`; a worker that dies stops renewing and its slots free
themselves within `LEASE_SECONDS`.

While Redis fails (down, too slow), a stream is counted in this worker only, as without Redis:
the failure is logged once per outage and never reaches the client.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import anyio
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from pressroom.core.broker import REDIS_FAILURES
from pressroom.core.errors import TooManyRequests

if TYPE_CHECKING:
    from pressroom.core.settings import Settings

logger = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
"""How long a slot outlives its worker's last renewal (a dead worker's slots free after it)."""
RENEW_SECONDS = 20.0
"""How often each worker renews the leases of its open streams."""
RETRY_SECONDS = 5.0
"""After Redis failed, how long new streams are counted in this worker before trying again."""
RETRY_AFTER = 5
"""The `Retry-After` of a refused stream."""

# KEYS[1] the set; ARGV: now, limit, lease end, member, key TTL (ms). 1 = taken, 0 = full.
ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class TooManyStreams(TooManyRequests):
    field = "streams"


@dataclass(frozen=True, slots=True)
class Slot:
    """One open stream's hold on its key; `shared` when counted in Redis."""

    key: str
    member: str
    shared: bool


class StreamSlots:
    """Counts open streams and sockets per key (`user:<id>` or `ip:<address>`).

    `url` set: counted in Redis for every worker sharing it (call `open` and `close`).
    `url` None: counted in this worker only.
    """

    def __init__(
        self,
        per_user: int,
        per_ip: int,
        *,
        url: str | None = None,
        key_prefix: str = "pressroom",
        timeout: float = 0.5,
        lease_seconds: float = LEASE_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_user = per_user
        self.per_ip = per_ip
        self._url = url
        self._prefix = f"{key_prefix}:live:slots:"
        self._timeout = timeout
        self._lease = lease_seconds
        self._renew_every = renew_seconds
        self._clock = clock
        self._held: dict[str, Slot] = {}  # member -> slot, every stream open in this worker
        self._redis: redis.asyncio.Redis | None = None
        self._acquire: Callable[..., Awaitable[object]] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._failing_since: float | None = None
        self._retry_at = 0.0

    @property
    def shared(self) -> bool:
        """True when the count is in Redis (and not failing right now)."""
        return self._redis is not None and self._failing_since is None

    async def open(self) -> None:
        if self._url is None:
            return
        # One short-timeout pool per process, without redis-py's retries: a dead Redis costs
        # a stream at most `timeout` before it is counted here instead.
        self._redis = redis.asyncio.Redis.from_url(
            self._url,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._acquire = self._redis.register_script(ACQUIRE)
        self._renewer = asyncio.create_task(self._renew_forever(), name="pressroom-live-slots")

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        for slot in list(self._held.values()):
            await self.release(slot)
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def acquire(self, user_id: int | None, ip: str) -> Slot:
        """Take a slot, or raise `TooManyStreams`; returns the slot to release."""
        if user_id is not None:
            key, limit, who = f"user:{user_id}", self.per_user, "this user"
        else:
            key, limit, who = f"ip:{ip}", self.per_ip, "this address"
        member = uuid.uuid4().hex
        taken = await self._take_shared(key, limit, member)
        if taken is None:  # no Redis, or Redis failing: this worker's count
            taken = self.count(key) < limit
            slot = Slot(key, member, shared=False)
        else:
            slot = Slot(key, member, shared=True)
        if not taken:
            raise TooManyStreams(
                RETRY_AFTER,
                f"{who} already holds {limit} live streams: close one before opening another",
            )
        self._held[member] = slot
        return slot

    async def release(self, slot: Slot) -> None:
        """Give the slot back; safe to call twice, and while cancelled (it is shielded)."""
        if self._held.pop(slot.member, None) is None or not slot.shared:
            return
        client = self._redis
        if client is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                async with asyncio.timeout(self._timeout):
                    await client.zrem(self._prefix + slot.key, slot.member)
            except REDIS_FAILURES as exc:  # the lease ends on its own
                self._failed(exc)

    def count(self, key: str) -> int:
        """Streams open in this worker for `key`."""
        return sum(1 for slot in self._held.values() if slot.key == key)

    async def renew(self) -> None:
        """Push back the lease of every stream open here that Redis counts (one round trip)."""
        client = self._redis
        shared = [slot for slot in self._held.values() if slot.shared]
        if client is None or not shared:
            return
        ends = self._clock() + self._lease
        ttl = int(self._lease * 1000) + 1000
        try:
            async with asyncio.timeout(self._timeout), client.pipeline(transaction=False) as pipe:
                for slot in shared:
                    # XX: a slot released meanwhile (or long expired) is not brought back.
                    pipe.zadd(self._prefix + slot.key, {slot.member: ends}, xx=True)
                    pipe.pexpire(self._prefix + slot.key, ttl)
                await pipe.execute()
        except REDIS_FAILURES as exc:
            self._failed(exc)

    async def _take_shared(self, key: str, limit: int, member: str) -> bool | None:
        """True/False from Redis; None when there is no Redis or it cannot answer now."""
        script = self._acquire
        if script is None or (self._failing_since is not None and self._clock() < self._retry_at):
            return None
        now = self._clock()
        try:
            async with asyncio.timeout(self._timeout):
                taken = await script(
                    keys=[self._prefix + key],
                    args=[now, limit, now + self._lease, member, int(self._lease * 1000) + 1000],
                )
        except REDIS_FAILURES as exc:
            self._failed(exc)
            return None
        if self._failing_since is not None:
            logger.warning(
                "live: Redis answers again; stream caps are counted across workers again"
            )
            self._failing_since = None
        return cast(int, taken) == 1

    def _failed(self, exc: BaseException) -> None:
        now = self._clock()
        self._retry_at = now + RETRY_SECONDS
        if self._failing_since is None:
            self._failing_since = now
            logger.warning(
                "live: Redis failed (%s: %s); stream caps are counted per worker until it "
                "answers again",
                type(exc).__name__,
                exc,
            )

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._renew_every)
            await self.renew()


def create_stream_slots(settings: Settings) -> StreamSlots:
    """Counted in Redis when `redis.url` is set, else in this worker."""
    live = settings.live
    url = settings.redis.url
    return StreamSlots(
        live.max_streams_per_user,
        live.max_streams_per_ip,
        url=url.get_secret_value() if url is not None and url.get_secret_value() else None,
        key_prefix=settings.redis.key_prefix,
        timeout=settings.redis.socket_timeout,
    )
