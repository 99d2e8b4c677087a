"""`RateLimiter`: counts hits in Redis when configured, in memory otherwise, and falls back
to memory while Redis is down."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, fields
from typing import Literal

from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from pressroom.core.ratelimit.policies import Policies, Policy
from pressroom.core.ratelimit.storage import (
    Counters,
    Decision,
    SweepingMemoryStorage,
    memory_counters,
    redis_counters,
)
from pressroom.core.settings import Settings

logger = logging.getLogger("pressroom.ratelimit")

# What a dead, restarting or unreachable Redis raises through redis-py.
REDIS_FAILURES = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class LimiterStatus:
    enabled: bool
    backend: Literal["memory", "redis"]
    degraded: bool  # Redis configured but failing: counting per worker in memory
    degraded_since: float | None  # Unix time of the last switch to the fallback
    last_error: str | None


class RateLimiter:
    """The process's rate limiter, kept in `app.state.ratelimiter`.

    Counters live in Redis when `PRESSROOM_REDIS__URL` is set (one budget for every worker),
    else in this process's memory. Memory counters, including the fallback used while Redis
    fails, get each budget divided by the worker count, so a fleet of workers together allows
    about the configured number: login protection never fails open, and a Redis failure never
    turns into an error for the client.
    """

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit.enabled
        self.policies = Policies.from_settings(settings.rate_limit)
        workers = settings.server.workers
        self._local = {
            policy.name: policy.share(workers)
            for policy in (getattr(self.policies, f.name) for f in fields(self.policies))
        }
        self._settings = settings
        self._retry_seconds = settings.rate_limit.redis_retry_seconds
        self._memory = memory_counters()
        self._redis: Counters | None = None
        self._pool: ConnectionPool | None = None
        self._degraded_since: float | None = None
        self._last_error: str | None = None
        self._retry_at = 0.0

    async def open(self) -> None:
        """Connect to Redis when configured; a failure here starts on the fallback."""
        url = self._settings.redis.url
        if not self.enabled or url is None or not url.get_secret_value():
            return
        redis = self._settings.redis
        self._redis, self._pool = redis_counters(
            url.get_secret_value(), redis.key_prefix, redis.socket_timeout
        )
        if not await self._redis.storage.check():
            self._fall_back("no answer to PING")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
        storage = self._memory.storage
        assert isinstance(storage, SweepingMemoryStorage)
        await storage.aclose()

    @property
    def degraded(self) -> bool:
        """True while Redis is configured but failing, and limits are counted per worker."""
        return self._degraded_since is not None

    def status(self) -> LimiterStatus:
        return LimiterStatus(
            enabled=self.enabled,
            backend="memory" if self._pool is None else "redis",
            degraded=self.degraded,
            degraded_since=self._degraded_since,
            last_error=self._last_error,
        )

    async def hit(self, policy: Policy, key: str) -> Decision:
        """Consume one unit of `policy`'s budget for `key` and say whether it was there."""
        redis = self._redis_now()
        if redis is not None:
            try:
                decision = await redis.hit(policy, key)
            except REDIS_FAILURES as exc:
                self._fall_back(f"{type(exc).__name__}: {exc}")
            else:
                self._recovered()
                return decision
        return await self._memory.hit(self._local[policy.name], key)

    async def clear(self, policy: Policy, key: str) -> None:
        """Forget `key`'s count under `policy` (a successful login clears its failures)."""
        redis = self._redis_now()
        if redis is not None:
            try:
                await redis.clear(policy, key)
            except REDIS_FAILURES as exc:
                self._fall_back(f"{type(exc).__name__}: {exc}")
            else:
                self._recovered()
                return
        await self._memory.clear(self._local[policy.name], key)

    def _redis_now(self) -> Counters | None:
        """Redis, unless it failed less than `redis_retry_seconds` ago."""
        if self._redis is None or self._degraded_since is None:
            return self._redis
        now = time.monotonic()
        if now < self._retry_at:
            return None
        # One request probes; the others keep using the fallback until it has answered.
        self._retry_at = now + self._retry_seconds
        return self._redis

    def _fall_back(self, error: str) -> None:
        self._last_error = error
        self._retry_at = time.monotonic() + self._retry_seconds
        if self._degraded_since is not None:
            return
        self._degraded_since = time.time()
        logger.warning(
            "rate limits: Redis failed (%s); counting in this worker's memory with each budget "
            "divided by %d worker(s), retrying Redis every %.1f s",
            error,
            self._settings.server.workers,
            self._retry_seconds,
        )

    def _recovered(self) -> None:
        if self._degraded_since is None:
            return
        self._degraded_since = None
        logger.warning("rate limits: Redis answers again; limits are shared across workers")
