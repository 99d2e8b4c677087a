"""Database pool gauges, kept current by the pool's checkout and checkin events.

Events, not sampling at scrape time: in multiprocess mode the scrape is answered by another
process, which cannot see this worker's pool.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from pressroom.core.metrics.families import Families


def watch_pool(families: Families, engine: AsyncEngine, *, max_overflow: int) -> None:
    sync_engine = engine.sync_engine
    pool = sync_engine.pool
    if not isinstance(pool, QueuePool):
        return  # a pool that keeps no count (NullPool, StaticPool): nothing to report
    families.pool_size.set(pool.size())
    families.pool_max_overflow.set(max_overflow)
    families.pool_checked_out.set(pool.checkedout())
    checked_out = families.pool_checked_out.set
    overflow_gauge = families.pool_overflow.set
    overflow = max(0, pool.overflow())
    overflow_gauge(overflow)

    def set_overflow(value: int) -> None:
        nonlocal overflow
        if value != overflow:  # it rarely changes: skip the write
            overflow = value
            overflow_gauge(value)

    # The engine's current pool, read at each event: dispose() replaces it.
    def on_checkout(_dbapi: Any, _record: ConnectionPoolEntry, _proxy: Any) -> None:
        current: Any = sync_engine.pool
        checked_out(current.checkedout())
        set_overflow(max(0, current.overflow()))

    def on_checkin(_dbapi: Any, _record: ConnectionPoolEntry) -> None:
        # Fired just before the connection goes back: it still counts as checked out, and
        # if the pool is full it will be closed, which ends one overflow connection.
        current: Any = sync_engine.pool
        checked_out(current.checkedout() - 1)
        full = current.checkedin() >= current.size()
        set_overflow(max(0, current.overflow() - full))

    event.listen(sync_engine, "checkout", on_checkout)
    event.listen(sync_engine, "checkin", on_checkin)
