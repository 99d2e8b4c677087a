"""Database pool gauges, sampled from the pool whenever the metrics are flushed.

Sampling, not the pool's checkout and checkin events: those fire several times a request,
and each gauge write costs a microsecond or two.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from pressroom.core.metrics.families import Families


class PoolGauges:
    def __init__(self, families: Families, engine: AsyncEngine, *, max_overflow: int) -> None:
        self.families = families
        self.engine = engine.sync_engine
        self.last: tuple[int, int] | None = None
        if isinstance(self.engine.pool, QueuePool):
            families.pool_size.set(self.engine.pool.size())
            families.pool_max_overflow.set(max_overflow)

    def sample(self) -> None:
        pool = self.engine.pool  # read each time: dispose() replaces it
        if not isinstance(pool, QueuePool):
            return  # a pool that keeps no count (NullPool, StaticPool): nothing to report
        now = (pool.checkedout(), max(0, pool.overflow()))
        if now != self.last:  # mostly unchanged: skip the writes
            self.last = now
            self.families.pool_checked_out.set(now[0])
            self.families.pool_overflow.set(now[1])
