"""Where counters live: one Redis shared by every worker, or this process's memory."""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from pressroom.core.ratelimit.policies import Policy, Strategy


@dataclass(frozen=True, slots=True)
class Decision:
    """One policy's answer to one request."""

    policy: str
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # Unix time when the budget has room again

    def reset_after(self, now: float | None = None) -> int:
        """Whole seconds until then (rounded up)."""
        seconds = self.reset_at - (time.time() if now is None else now)
        return max(0, -int(-seconds // 1))


class SweepingMemoryStorage(MemoryStorage):
    """limits' in-process storage, sweeping expired entries at most once a second.

    Upstream starts a sweep after every hit, and a sweep hops to a thread once per
    moving-window key: under load that is a thread hop per key per request.
    """

    SWEEP_SECONDS = 1.0
    _next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (overrides a private)
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_SECONDS
        await getattr(super(), "_MemoryStorage__schedule_expiry")()  # noqa: B009

    async def aclose(self) -> None:
        if self.timer is not None and not self.timer.done():
            self.timer.cancel()


class Counters:
    """A storage and the strategies that count on it."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._strategies: dict[Strategy, RateLimiter] = {
            "moving-window": MovingWindowRateLimiter(storage),
            "sliding-window-counter": SlidingWindowCounterRateLimiter(storage),
        }

    async def hit(self, policy: Policy, key: str) -> Decision:
        strategy = self._strategies[policy.strategy]
        allowed = await strategy.hit(policy.item, policy.name, key)
        stats = await strategy.get_window_stats(policy.item, policy.name, key)
        remaining = stats.remaining if allowed else 0
        return Decision(policy.name, allowed, policy.limit, remaining, stats.reset_time)

    async def clear(self, policy: Policy, key: str) -> None:
        await self._strategies[policy.strategy].clear(policy.item, policy.name, key)


def memory_counters() -> Counters:
    return Counters(SweepingMemoryStorage())


def redis_counters(url: str, key_prefix: str, timeout: float) -> tuple[Counters, ConnectionPool]:
    """Counters in Redis (limits' redis-py implementation) and the pool to close at shutdown.

    Short timeouts and no retries: a dead Redis costs a request at most `timeout` before the
    limiter falls back, never redis-py's default retries with back-off.
    """
    pool = ConnectionPool.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    options: dict[str, object] = {"connection_pool": pool}
    storage = RedisStorage(
        url,
        implementation="redispy",
        key_prefix=f"{key_prefix}:ratelimit",
        **options,  # type: ignore[arg-type]  # limits types options as scalars
    )
    return Counters(storage), pool
